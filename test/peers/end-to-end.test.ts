/**
 * End to end with Pandora's own programs at both ends, in a real Node-RED runtime:
 *
 *   stock tentacle_client → tentacle-buffer (and a stock tentacle_server) → tentacle-pull →
 *   the incomingdir of a real pandora_server (data server) → the agents, modules, states and
 *   events it writes → event-pull → the Command Center's tmetaconsole_event, and instance-query
 *   over what it wrote.
 *
 * The Instance database and the Command Center database are both loaded from the tree's
 * pandoradb.sql and pandoradb_data.sql (that commit holds the Command Center tables). Every
 * expected value is read from what pandora_server wrote, never from rows this test inserts.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type mysql from 'mysql2/promise';
import type { Node, NodeMessage } from 'node-red';
import eventPullModule from '../../nodes/event-pull/event-pull';
import instanceQueryModule from '../../nodes/instance-query/instance-query';
import pandoraConfig from '../../nodes/pandora-config/pandora-config';
import tentacleBufferModule from '../../nodes/tentacle-buffer/tentacle-buffer';
import tentaclePullModule from '../../nodes/tentacle-pull/tentacle-pull';
import { removeDir } from '../helpers/files';
import { freePort, startMariaDb, type PrivateMariaDb } from '../helpers/mariadb';
import {
  PEERS_SKIP,
  PandoraServer,
  StockTentacleServer,
  startPandoraSite,
  peerDir,
  stockTentacleClient,
} from '../helpers/pandora-peers';
import helper from '../helpers/red-helper';
import { waitFor } from '../helpers/wait';
import { withCatalogue } from '../nodes/catalogue';
import { agentFile } from './agent-files';

type Row = Record<string, unknown> & { instance: { id: number; name: string } };
type Out = NodeMessage & { payload: Row[]; instances?: { id: number; ok: boolean }[] };

const INSTANCE = 'pandora_node';
const CC = 'pandora_cc';

describe("end to end with Pandora's own programs", { skip: PEERS_SKIP, timeout: 300_000 }, () => {
  let db: PrivateMariaDb;
  let server: PandoraServer;
  let work: string;
  let node: mysql.Connection;
  let cc: mysql.Connection;
  let bufferPort: number;
  let stockBuffer: StockTentacleServer;
  const got: Record<string, Out[]> = { files: [], events: [], query: [] };

  before(async () => {
    db = await startMariaDb();
    ({ server, node, cc } = await startPandoraSite(db, INSTANCE, CC));
    work = peerDir('pandora-peer-e2e-');
    bufferPort = await freePort();
    // A second buffer, Pandora's own: a Sync server pulls an estate of both kinds in one round.
    stockBuffer = await StockTentacleServer.start({ overwrite: false });
    const flow = [
      {
        id: 'a1b2c3d4e5f60718',
        type: 'pandora-config',
        name: 'sync',
        incomingDir: server.incomingDir,
        syncAddress: `127.0.0.1:${bufferPort},${stockBuffer.endpoint.address}`,
        syncTimeout: '5',
        syncRetries: '2',
      },
      {
        id: 'b2c3d4e5f6071829',
        type: 'pandora-config',
        name: 'command center',
        dbHost: db.host,
        dbPort: String(db.port),
        dbName: CC,
        dbUser: db.user,
      },
      {
        id: 'buffer',
        type: 'tentacle-buffer',
        address: '127.0.0.1',
        port: String(bufferPort),
        storage: join(work, 'buffer'),
        insecure: 'true',
        overwrite: 'true',
        wires: [[]],
      },
      {
        id: 'pull',
        type: 'tentacle-pull',
        config: 'a1b2c3d4e5f60718',
        interval: '0',
        deliver: 'dir',
        wires: [['files'], []],
      },
      {
        id: 'events',
        type: 'event-pull',
        config: 'b2c3d4e5f6071829',
        interval: '0',
        batchSize: '100',
        mode: 'all',
        writeBack: 'false',
        wires: [['eventsOut']],
      },
      {
        id: 'query',
        type: 'instance-query',
        config: 'b2c3d4e5f6071829',
        query: 'agents',
        timeout: '10',
        limit: '1000',
        wires: [['queryOut']],
      },
      { id: 'files', type: 'helper' },
      { id: 'eventsOut', type: 'helper' },
      { id: 'queryOut', type: 'helper' },
    ];
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
    await helper.load(
      [
        pandoraConfig,
        withCatalogue(tentacleBufferModule, 'tentacle-buffer'),
        withCatalogue(tentaclePullModule, 'tentacle-pull'),
        withCatalogue(eventPullModule, 'event-pull'),
        withCatalogue(instanceQueryModule, 'instance-query'),
      ],
      flow,
      { b2c3d4e5f6071829: { dbPass: db.password } },
    );
    for (const [id, key] of [
      ['files', 'files'],
      ['eventsOut', 'events'],
      ['queryOut', 'query'],
    ] as const) {
      (helper.getNode(id) as Node).on('input', (m: NodeMessage) => got[key].push(m as Out));
    }
  });

  after(async () => {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    await node?.end();
    await cc?.end();
    await server?.stop();
    await stockBuffer?.stop();
    await db?.destroy();
    if (work) removeDir(work);
  });

  const rows = async (c: mysql.Connection, sql: string, params: unknown[] = []) =>
    (await c.query<mysql.RowDataPacket[]>(sql, params))[0];

  /** Sends `msg` to a node and waits for the next message on its output. */
  async function ask(id: string, key: string, msg: Record<string, unknown>): Promise<Out> {
    const before = got[key].length;
    (helper.getNode(id) as Node).receive(msg as NodeMessage);
    await waitFor(() => got[key].length > before, 30_000, `a message from ${id}`);
    return got[key][got[key].length - 1];
  }

  it('agent files sent by the stock client reach pandora_server through either buffer and the pull', async () => {
    const agents = join(work, 'agents');
    mkdirSync(agents);
    writeFileSync(join(agents, 'web-01.1.data'), agentFile('web-01', { cpu: 95, disk: 40 }));
    writeFileSync(join(agents, 'db-01.1.data'), agentFile('db-01', { cpu: 12, disk: 70 }));
    writeFileSync(join(agents, 'app-01.1.data'), agentFile('app-01', { cpu: 30, disk: 55 }));
    const port = ['-a', '127.0.0.1', '-p', String(bufferPort)];
    const plain = await stockTentacleClient([...port, 'web-01.1.data'], agents);
    assert.equal(plain.code, 0, plain.stderr);
    const zipped = await stockTentacleClient([...port, '-z', 'db-01.1.data'], agents);
    assert.equal(zipped.code, 0, zipped.stderr);
    const stockPort = ['-a', '127.0.0.1', '-p', String(stockBuffer.port)];
    const toStock = await stockTentacleClient([...stockPort, 'app-01.1.data'], agents);
    assert.equal(toStock.code, 0, toStock.stderr);
    (helper.getNode('pull') as Node).receive({ payload: 'now' } as NodeMessage);
    await waitFor(() => got.files.length === 3, 30_000, 'three pulled files');
    // tentacle-buffer unlinks an MV'd file when the next line (here QUIT) arrives.
    await waitFor(
      () => readdirSync(join(work, 'buffer')).filter((n) => n.endsWith('.data')).length === 0,
      30_000,
      'tentacle-buffer to let both go',
    );
    await waitFor(
      () => readdirSync(stockBuffer.storage).length === 0,
      30_000,
      'the stock buffer to let its file go',
    );
    // pandora_server takes each file (and deletes it) within a scan or two.
    await waitFor(
      () => !existsSync(join(server.incomingDir, 'web-01.1.data')),
      30_000,
      'pandora_server to take web-01',
    );
    await waitFor(
      async () =>
        (await rows(node, 'SELECT 1 FROM tagente_estado WHERE utimestamp > 0')).length === 6,
      60_000,
      'the six module states',
    );
    assert.deepEqual(
      readdirSync(server.incomingDir).filter((n) => n.endsWith('_BADXML')),
      [],
      'pandora_server read every file',
    );
  });

  it('event-pull copies the events pandora_server wrote into tmetaconsole_event', async () => {
    const want = async () =>
      rows(
        node,
        `SELECT e.id_evento, e.event_type, e.id_agente, a.nombre AS agent, m.nombre AS module
           FROM tevento e LEFT JOIN tagente a ON a.id_agente = e.id_agente
           LEFT JOIN tagente_modulo m ON m.id_agente_modulo = e.id_agentmodule
           ORDER BY e.id_evento`,
      );
    await waitFor(
      async () =>
        (await want()).filter((e) => ['new_agent', 'going_up_critical'].includes(e.event_type))
          .length >= 4,
      30_000,
      'three new_agent events and one going_up_critical',
    );
    const source = await want();
    await ask('events', 'events', { payload: 'now' });
    await waitFor(
      async () =>
        (await rows(cc, 'SELECT COUNT(*) AS n FROM tmetaconsole_event'))[0].n >= source.length,
      30_000,
      'the copies',
    );
    const copies = await rows(
      cc,
      `SELECT id_source_event, server_id, event_type, id_agente, agent_name, module_name
         FROM tmetaconsole_event WHERE id_source_event <= ? ORDER BY id_source_event`,
      // Only the events read above: the server may write more meanwhile.
      [source.at(-1)?.id_evento],
    );
    assert.deepEqual(
      copies.map((c) => [
        Number(c.id_source_event),
        Number(c.server_id),
        c.event_type,
        Number(c.id_agente),
      ]),
      source.map((e) => [Number(e.id_evento), 1, e.event_type, Number(e.id_agente)]),
    );
    const critical = copies.find((c) => c.event_type === 'going_up_critical');
    assert.equal(critical?.agent_name, 'web-01');
    assert.equal(critical?.module_name, 'cpu');
  });

  it('instance-query lists the agents and modules pandora_server wrote, with their states', async () => {
    const agents = (await ask('query', 'query', { topic: 'agents', payload: {} })).payload;
    const written = await rows(
      node,
      'SELECT a.id_agente, a.nombre, g.nombre AS grupo FROM tagente a JOIN tgrupo g USING (id_grupo) ORDER BY a.id_agente',
    );
    assert.deepEqual(
      agents.map((a) => [a.id, a.name, (a.group as { name: string }).name, a.instance.id]),
      written.map((w) => [Number(w.id_agente), w.nombre, w.grupo, 1]),
    );
    const modules = (await ask('query', 'query', { topic: 'modules', payload: {} })).payload;
    const states = await rows(
      node,
      `SELECT m.id_agente_modulo, m.nombre, a.nombre AS agent, e.datos, e.estado
         FROM tagente_modulo m JOIN tagente a USING (id_agente)
         JOIN tagente_estado e USING (id_agente_modulo) ORDER BY m.id_agente_modulo`,
    );
    assert.deepEqual(
      modules.map((m) => [
        m.id,
        m.name,
        (m.agent as { name: string }).name,
        Number(m.value),
        m.estado,
      ]),
      states.map((s) => [
        Number(s.id_agente_modulo),
        s.nombre,
        s.agent,
        Number(s.datos),
        Number(s.estado),
      ]),
    );
    const critical = modules.filter((m) => m.status === 'critical');
    assert.deepEqual(
      critical.map((m) => [(m.agent as { name: string }).name, m.name]),
      [['web-01', 'cpu']],
    );
  });

  it('instance-query agents and tactical follow the counters pandora_server keeps', async () => {
    // The server recounts an agent's modules (tagente.*_count) in a task of its own, every
    // 30 seconds, for agents marked update_module_count = 1.
    await waitFor(
      async () =>
        (
          await rows(
            node,
            'SELECT 1 FROM tagente WHERE update_module_count = 0 AND total_count = 2',
          )
        ).length === 3,
      90_000,
      "pandora_server's module counts",
    );
    const counted = await rows(
      node,
      `SELECT id_agente, normal_count, warning_count, critical_count, unknown_count,
         notinit_count, total_count FROM tagente ORDER BY id_agente`,
    );
    const agents = (await ask('query', 'query', { topic: 'agents', payload: {} })).payload;
    assert.deepEqual(
      agents.map((a) => [a.id, a.modules]),
      counted.map((c) => [
        Number(c.id_agente),
        {
          total: Number(c.total_count),
          normal: Number(c.normal_count),
          warning: Number(c.warning_count),
          critical: Number(c.critical_count),
          unknown: Number(c.unknown_count),
          notinit: Number(c.notinit_count),
        },
      ]),
    );
    assert.deepEqual(agents.map((a) => [a.name, a.status]).sort(), [
      ['app-01', 'normal'],
      ['db-01', 'normal'],
      ['web-01', 'critical'],
    ]);
    const tactical = (await ask('query', 'query', { topic: 'tactical', payload: {} })).payload;
    const one = tactical.find((t) => t.instance.id === 1) as Row & {
      agents: Record<string, number>;
      modules: Record<string, number>;
    };
    assert.ok(one, JSON.stringify(tactical));
    assert.equal(one.agents.total, 3);
    assert.equal(one.agents.critical, 1);
    assert.equal(one.agents.normal, 2);
    assert.equal(one.modules.total, 6);
    assert.equal(one.modules.critical, 1);
    assert.equal(one.modules.normal, 5);
  });
});
