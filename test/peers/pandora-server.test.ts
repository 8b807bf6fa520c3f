/**
 * The helper's own check: the Perl pandora_server of PANDORA_SOURCE, data server only, against a
 * database loaded with the tree's schema and data, turns an agent file of its incomingdir into
 * agent, module, state and event rows, and sets aside a file it cannot read.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type mysql from 'mysql2/promise';
import { startMariaDb, type PrivateMariaDb } from '../helpers/mariadb';
import { loadPandoraDatabase, PandoraServer, PEERS_SKIP } from '../helpers/pandora-peers';
import { waitFor } from '../helpers/wait';
import { agentFile } from './agent-files';

describe("Pandora's own pandora_server (data server)", { skip: PEERS_SKIP }, () => {
  let db: PrivateMariaDb;
  let server: PandoraServer;
  let c: mysql.Connection;

  before(async () => {
    db = await startMariaDb();
    await loadPandoraDatabase(db, 'pandora');
    server = await PandoraServer.start({ db, database: 'pandora' });
    c = await db.connect('pandora');
  });
  after(async () => {
    await c?.end();
    await server?.stop();
    await db?.destroy();
  });

  const rows = async (sql: string, params: unknown[] = []) =>
    (await c.query<mysql.RowDataPacket[]>(sql, params))[0];

  it('makes an agent, its modules, their states and events from an agent file, and deletes it', async () => {
    const file = join(server.incomingDir, 'peer-01.1.data');
    writeFileSync(file, agentFile('peer-01', { cpu: 95, disk: 10 }));
    await waitFor(() => !existsSync(file), 30_000, 'pandora_server to take the file');
    // It deletes the file once read, and writes the modules after.
    const states = () =>
      rows(
        `SELECT m.nombre, e.datos, e.estado FROM tagente a
         JOIN tagente_modulo m ON m.id_agente = a.id_agente
         JOIN tagente_estado e ON e.id_agente_modulo = m.id_agente_modulo
         WHERE a.nombre = ? AND e.utimestamp > 0 ORDER BY m.nombre`,
        ['peer-01'],
      );
    await waitFor(async () => (await states()).length === 2, 30_000, 'both module states');
    const [agent] = await rows('SELECT id_agente FROM tagente WHERE nombre = ?', ['peer-01']);
    const modules = await states();
    assert.deepEqual(
      modules.map((m) => [m.nombre, Number(m.datos), Number(m.estado)]),
      [
        ['cpu', 95, 1],
        ['disk', 10, 0],
      ],
    );
    const types = async () =>
      (await rows('SELECT event_type FROM tevento WHERE id_agente = ?', [agent.id_agente])).map(
        (e) => String(e.event_type),
      );
    await waitFor(
      async () => {
        const seen = await types();
        return seen.includes('new_agent') && seen.includes('going_up_critical');
      },
      30_000,
      'the new_agent and going_up_critical events',
    );
  });

  it('renames a file it cannot parse to <name>_BADXML', async () => {
    const file = join(server.incomingDir, 'broken.1.data');
    writeFileSync(file, '<agent_data agent_name="broken"><module>');
    await waitFor(() => existsSync(`${file}_BADXML`), 30_000, 'the _BADXML rename');
    assert.equal((await rows('SELECT 1 FROM tagente WHERE nombre = ?', ['broken'])).length, 0);
  });
});
