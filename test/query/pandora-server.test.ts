/**
 * instance-query on rows Pandora's own pandora_server wrote (PANDORA_SOURCE: its data server
 * against the tree's schema and data), and the server acting on what agent.disable writes.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type mysql from 'mysql2/promise';
import { createPool, Pool } from '../../lib/db/pool';
import { InstanceQuery, QueryAnswer } from '../../lib/query';
import { createCommandCenter } from '../events/fixtures/pandora';
import { startMariaDb, type PrivateMariaDb } from '../helpers/mariadb';
import { loadPandoraDatabase, PandoraServer, PEERS_SKIP } from '../helpers/pandora-peers';
import { waitFor } from '../helpers/wait';
import { agentFile } from '../peers/agent-files';

type Row = Record<string, unknown>;
const rowsOf = (a: QueryAnswer) => a.rows as Row[];

describe("instance-query on what Pandora's pandora_server wrote", { skip: PEERS_SKIP }, () => {
  let db: PrivateMariaDb;
  let server: PandoraServer;
  let c: mysql.Connection;
  let cc: Pool;
  let q: InstanceQuery;
  let files = 0;

  const rows = async (sql: string, params: unknown[] = []) =>
    (await c.query<mysql.RowDataPacket[]>(sql, params))[0];
  const agentRow = async () =>
    (
      await rows(
        'SELECT id_agente, disabled, update_module_count, total_count, fired_count FROM tagente WHERE nombre = ?',
        ['peer-q'],
      )
    )[0];

  /** An agent file with `cpu`, `disk` and a module whose data the server refuses. */
  const send = async (cpu: number) => {
    const xml = agentFile('peer-q', { cpu, disk: 10 })
      .toString()
      .replace(
        '</agent_data>',
        '  <module><name>noise</name><type>generic_data</type><data>n/a</data></module>\n</agent_data>',
      );
    const file = join(server.incomingDir, `peer-q.${++files}.data`);
    writeFileSync(file, xml);
    await waitFor(() => !existsSync(file), 30_000, 'pandora_server to take the agent file');
  };

  before(async () => {
    db = await startMariaDb();
    await loadPandoraDatabase(db, 'pandora');
    server = await PandoraServer.start({ db, database: 'pandora' });
    c = await db.connect('pandora');
    await createCommandCenter(db, 'pcc', [
      { id: 1, name: 'real', port: db.port, dbname: 'pandora' },
    ]);
    cc = createPool({ host: db.host, port: db.port, database: 'pcc', user: db.user, password: '' });
    q = new InstanceQuery({ cc });
  });

  after(async () => {
    await q?.close();
    await cc?.end();
    await c?.end();
    await server?.stop();
    await db?.destroy();
  });

  it('reads the states, counters and fired alert the server wrote, as the console counts them', async () => {
    await send(95);
    const modules = () =>
      rows(
        `SELECT m.id_agente_modulo, m.nombre, e.estado, e.utimestamp FROM tagente a
         JOIN tagente_modulo m ON m.id_agente = a.id_agente
         JOIN tagente_estado e ON e.id_agente_modulo = m.id_agente_modulo
         WHERE a.nombre = 'peer-q' ORDER BY m.nombre`,
      );
    await waitFor(async () => (await modules()).length === 3, 30_000, 'the three modules');
    const byName = Object.fromEntries((await modules()).map((m) => [m.nombre, m]));
    // The refused data left its module as the server created it: never received data.
    assert.deepEqual([Number(byName.noise.estado), Number(byName.noise.utimestamp)], [4, 0]);
    // An alert on cpu with a template of our own (no action); the next critical data fires it.
    await c.query(
      "INSERT INTO talert_templates (id, name, type, max_alerts, min_alerts) VALUES (100, 'peer critical', 'critical', 1, 0)",
    );
    await c.query(
      'INSERT INTO talert_template_modules (id_agent_module, id_alert_template) VALUES (?, 100)',
      [byName.cpu.id_agente_modulo],
    );
    await send(96);
    // Its counters come from the server's own periodic tasks (every 5 s alerts, 30 s modules).
    await waitFor(
      async () => {
        const a = await agentRow();
        return Number(a.total_count) === 3 && Number(a.fired_count) === 1;
      },
      70_000,
      'the server to count the modules and the fired alert',
    );

    const mods = await q.run('modules', { agent: 'peer-q' });
    assert.deepEqual(
      rowsOf(mods).map((m) => [m.name, m.status]),
      [
        ['cpu', 'critical'],
        ['disk', 'normal'],
        ['noise', 'notinit'],
      ],
    );
    const [agent] = rowsOf(await q.run('agents', { agent: 'peer-q' }));
    assert.equal(agent.status, 'critical');
    assert.deepEqual(agent.modules, {
      total: 3,
      normal: 1,
      warning: 0,
      critical: 1,
      unknown: 0,
      notinit: 1,
    });
    assert.equal(agent.alertsFired, 1);
    const [alert] = rowsOf(await q.run('alerts', { agent: 'peer-q', status: 'fired' }));
    assert.equal(alert.timesFired, 1);
    const [tactical] = rowsOf(await q.run('tactical', { group: 'Servers' }));
    assert.deepEqual(
      [
        tactical.alertsDefined,
        tactical.alertsFired,
        tactical.monitorHealth,
        tactical.moduleSanity,
        tactical.alertLevel,
        tactical.globalHealth,
      ],
      [1, 1, 33.3, 66.7, 0, 66.7],
    );
  });

  it('agent.disable and agent.enable flag the agent, and the server recounts it', async () => {
    const { id_agente: id } = await agentRow();
    const d = await q.run('agent.disable', { instance: 1, id: Number(id) });
    assert.equal(rowsOf(d)[0].changed, true);
    assert.deepEqual(
      [Number((await agentRow()).disabled), Number((await agentRow()).update_module_count)],
      [1, 1],
    );
    await waitFor(
      async () => Number((await agentRow()).update_module_count) === 0,
      70_000,
      'the server to take the recount flag',
    );
    // The server still counts the alert on the agent (its rule ignores the agent's flag); the
    // console's rule does not, and neither does instance-query.
    assert.equal(Number((await agentRow()).fired_count), 1);
    const [alert] = rowsOf(await q.run('alerts', { agent: 'peer-q', disabled: 'all' }));
    assert.equal(alert.fired, false);
    assert.equal(rowsOf(await q.run('tactical', undefined))[0].alertsFired, 0);
    assert.deepEqual(rowsOf(await q.run('agents', { agent: 'peer-q' })), []);

    await q.run('agent.enable', { instance: 1, id: Number(id) });
    assert.equal(Number((await agentRow()).update_module_count), 1);
    await waitFor(
      async () => Number((await agentRow()).update_module_count) === 0,
      70_000,
      'the server to take the recount flag again',
    );
    assert.equal(rowsOf(await q.run('tactical', undefined))[0].alertsFired, 1);
  });
});
