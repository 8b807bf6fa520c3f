/**
 * End to end with Pandora's own pandora_server (PANDORA_SOURCE): the agents it creates from agent
 * files appear in the Command Center's cache with the module counters it computed, and an
 * instance-query `agent.disable` is in the cache within two intervals. Both databases are loaded
 * from the tree's own pandoradb.sql and pandoradb_data.sql.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type mysql from 'mysql2/promise';
import type { Node, NodeMessage } from 'node-red';
import agentCacheModule from '../../nodes/agent-cache/agent-cache';
import instanceQueryModule from '../../nodes/instance-query/instance-query';
import pandoraConfig from '../../nodes/pandora-config/pandora-config';
import { startMariaDb, type PrivateMariaDb } from '../helpers/mariadb';
import { PandoraServer, PEERS_SKIP, startPandoraSite } from '../helpers/pandora-peers';
import helper from '../helpers/red-helper';
import { until, waitFor } from '../helpers/wait';
import { withCatalogue } from '../nodes/catalogue';
import { agentFile } from '../peers/agent-files';
import { assertCacheEquals } from './fixtures';

const INSTANCE = 'ac_pandora_node';
const CC = 'ac_pandora_cc';
const INTERVAL_S = 3;

describe(
  "agent-cache with Pandora's own pandora_server",
  { skip: PEERS_SKIP, timeout: 300_000 },
  () => {
    let db: PrivateMariaDb;
    let server: PandoraServer;
    let node: mysql.Connection;
    let cc: mysql.Connection;
    const answers: NodeMessage[] = [];

    before(async () => {
      db = await startMariaDb();
      ({ server, node, cc } = await startPandoraSite(db, INSTANCE, CC));
      await new Promise<void>((resolve) => helper.startServer(() => resolve()));
      await helper.load(
        [
          pandoraConfig,
          withCatalogue(agentCacheModule, 'agent-cache'),
          withCatalogue(instanceQueryModule, 'instance-query'),
        ],
        [
          {
            id: 'cfg',
            type: 'pandora-config',
            name: 'command center',
            dbHost: db.host,
            dbPort: String(db.port),
            dbName: CC,
            dbUser: db.user,
          },
          {
            id: 'cache',
            type: 'agent-cache',
            config: 'cfg',
            interval: String(INTERVAL_S),
            wires: [[]],
          },
          {
            id: 'query',
            type: 'instance-query',
            config: 'cfg',
            query: 'agents',
            allowChanges: true,
            timeout: '10',
            wires: [['answers']],
          },
          { id: 'answers', type: 'helper' },
        ],
        { cfg: { dbPass: db.password } },
      );
      (helper.getNode('answers') as Node).on('input', (m: NodeMessage) => answers.push(m));
    });

    after(async () => {
      await helper.unload();
      await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
      await node?.end();
      await cc?.end();
      await server?.stop();
      await db?.destroy();
    });

    const rows = async (c: mysql.Connection, sql: string, params: unknown[] = []) =>
      (await c.query<mysql.RowDataPacket[]>(sql, params))[0];

    it('agents pandora_server makes from agent files are cached with its counters', async () => {
      writeFileSync(
        join(server.incomingDir, 'web-01.1.data'),
        agentFile('web-01', { cpu: 95, disk: 40 }),
      );
      writeFileSync(
        join(server.incomingDir, 'db-01.1.data'),
        agentFile('db-01', { cpu: 12, disk: 70 }),
      );
      // The server recounts an agent's modules (tagente.*_count) in a task of its own, every 30 s.
      await waitFor(
        async () =>
          (
            await rows(
              node,
              'SELECT 1 FROM tagente WHERE update_module_count = 0 AND total_count = 2',
            )
          ).length === 2,
        120_000,
        "pandora_server's module counts",
      );
      const exact = () =>
        assertCacheEquals(node, cc, 1).then(
          () => true,
          () => false,
        );
      assert.ok(await until(exact, 4 * INTERVAL_S * 1000, 200), 'the cache equals the Instance');
      await assertCacheEquals(node, cc, 1);
      const cached = await rows(
        cc,
        `SELECT nombre, critical_count, normal_count, total_count FROM tmetaconsole_agent
        WHERE id_tmetaconsole_setup = 1 ORDER BY nombre`,
      );
      assert.deepEqual(
        cached.map((r) => [
          r.nombre,
          Number(r.critical_count),
          Number(r.normal_count),
          Number(r.total_count),
        ]),
        [
          ['db-01', 0, 2, 2],
          ['web-01', 1, 1, 2],
        ],
      );
    });

    it('an instance-query agent.disable is in the cache within two intervals', async () => {
      const [web] = await rows(node, "SELECT id_agente FROM tagente WHERE nombre = 'web-01'");
      const before = answers.length;
      (helper.getNode('query') as Node).receive({
        topic: 'agent.disable',
        payload: { instance: 1, id: Number(web.id_agente) },
      } as NodeMessage);
      await waitFor(() => answers.length > before, 30_000, 'the agent.disable answer');
      const asked = Date.now();
      assert.equal(
        Number(
          (await rows(node, 'SELECT disabled FROM tagente WHERE id_agente = ?', [web.id_agente]))[0]
            .disabled,
        ),
        1,
      );
      await waitFor(
        async () =>
          Number(
            (
              await rows(
                cc,
                'SELECT disabled FROM tmetaconsole_agent WHERE id_tmetaconsole_setup = 1 AND id_tagente = ?',
                [web.id_agente],
              )
            )[0]?.disabled,
          ) === 1,
        30_000,
        'the disable in the cache',
      );
      const took = Date.now() - asked;
      assert.ok(took <= 2 * INTERVAL_S * 1000, `in the cache after ${took} ms`);
      await assertCacheEquals(node, cc, 1);
    });
  },
);
