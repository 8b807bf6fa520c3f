import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPool, Pool } from '../../lib/db/pool';
import { explainConnectError, InstanceRegistry, looksEncrypted } from '../../lib/db/registry';
import { applySchema } from '../helpers/schema';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';

describe('instance registry (tmetaconsole_setup)', () => {
  let db: PrivateMariaDb;
  let cc: Pool;

  before(async () => {
    db = await startMariaDb();
    await db.freshDatabase('cc');
    await db.freshDatabase('node1');
    cc = createPool({ ...db.facts, database: 'cc' });
    await applySchema(cc, 'registry');
    await cc.query(
      'INSERT INTO tmetaconsole_setup (id, server_name, dbhost, dbport, dbname, dbuser, dbpass, disabled, unified) VALUES ' +
        '(1, ?, ?, ?, ?, ?, ?, 0, 1), (2, ?, ?, ?, ?, ?, ?, 1, 0), (3, ?, ?, ?, ?, ?, ?, 0, 0)',
      [
        'node-one',
        '127.0.0.1',
        String(db.port),
        'node1',
        'root',
        '',
        'off',
        '127.0.0.1',
        String(db.port),
        'node1',
        'root',
        '',
        'bad',
        '127.0.0.1',
        String(db.port),
        'missing_db',
        'root',
        '',
      ],
    );
  });
  after(async () => {
    await cc?.end();
    await db?.destroy();
  });

  it('reads the enabled rows, one pool each, and reuses pools while the row is unchanged', async () => {
    const reg = new InstanceRegistry(cc);
    const first = await reg.refresh();
    assert.deepEqual(
      first.map((i) => [i.id, i.name, i.unified]),
      [
        [1, 'node-one', true],
        [3, 'bad', false],
      ],
    );
    const pool1 = first[0].pool;
    const second = await reg.refresh();
    assert.equal(second[0].pool, pool1);
    await cc.query('UPDATE tmetaconsole_setup SET dbname = ? WHERE id = 1', ['node1']);
    await cc.query('UPDATE tmetaconsole_setup SET server_name = ? WHERE id = 1', ['renamed']);
    const third = await reg.refresh();
    assert.equal(third[0].pool, pool1);
    assert.equal(third[0].name, 'renamed');
    await reg.close();
  });

  it('takes only the listed ids and reports disabled or missing ones', async () => {
    const reg = new InstanceRegistry(cc, { ids: [2, 9] });
    const list = await reg.refresh();
    assert.equal(list.length, 0);
    const messages = reg.lastProblems().map((p) => p.message);
    assert.ok(messages.some((m) => /instance 2 .*disabled/.test(m)));
    assert.ok(messages.some((m) => /instance 9 is not in tmetaconsole_setup/.test(m)));
    await reg.close();
  });

  it('explains a missing database and an encrypted-looking password', async () => {
    const reg = new InstanceRegistry(cc, { ids: [3] });
    const [bad] = await reg.refresh();
    const err = await bad.pool.query('SELECT 1').then(
      () => null,
      (e: unknown) => e,
    );
    assert.match(explainConnectError(bad, err), /database "missing_db" does not exist/);
    assert.equal(looksEncrypted('q2Vh6cN0n1uL0yXcYx1m1A=='), true);
    assert.equal(looksEncrypted('pandora'), false);
    const denied = explainConnectError(
      {
        id: 4,
        name: 'x',
        facts: { ...db.facts, database: 'd', password: 'q2Vh6cN0n1uL0yXcYx1m1A==' },
      },
      { code: 'ER_ACCESS_DENIED_ERROR' },
    );
    assert.match(denied, /encryption_passphrase/);
    await reg.close();
  });
});
