import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheColumns, cacheRow, planColumns, rowChecksumSql } from '../../lib/agentcache/columns';

describe('agent-cache row mapping (pure)', () => {
  it('copies every column both tables have, keys and origin columns aside, in the Instance order', () => {
    const plan = planColumns(
      ['id_agente', 'nombre', 'alias', 'only_instance', 'id_grupo'],
      [
        'id_agente',
        'id_tagente',
        'id_tmetaconsole_setup',
        'id_grupo',
        'nombre',
        'alias',
        'only_cc',
      ],
    );
    assert.deepEqual(plan, { shared: ['nombre', 'alias', 'id_grupo'], missing: [] });
  });

  it('names what a side lacks', () => {
    assert.deepEqual(planColumns(['nombre'], ['id_agente', 'nombre']).missing, [
      { side: 'instance', columns: ['id_agente'] },
      { side: 'cc', columns: ['id_tagente', 'id_tmetaconsole_setup'] },
    ]);
  });

  it('checksums every value through QUOTE so NULL, empty and separators cannot collide', () => {
    assert.equal(rowChecksumSql(['a', 'b`c']), "CRC32(CONCAT_WS(',', QUOTE(`a`), QUOTE(`b``c`)))");
  });

  it("builds the cache row: its own id, the agent's id, the Instance, then the shared values", () => {
    const shared = ['nombre', 'comentarios'];
    assert.deepEqual(cacheColumns(shared), [
      'id_agente',
      'id_tagente',
      'id_tmetaconsole_setup',
      'nombre',
      'comentarios',
    ]);
    assert.deepEqual(cacheRow({ id_agente: '42', nombre: 'x&#x20;y' }, shared, 3, null), [
      null,
      '42',
      3,
      'x&#x20;y',
      null,
    ]);
  });
});
