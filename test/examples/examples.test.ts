/**
 * Every flow in examples/ deploys as an administrator would import it: loaded into a Node-RED
 * runtime with the core nodes it uses, its addresses and paths pointed at real test resources (a
 * private MariaDB holding a Command Center and two Instances, Tentacle buffers over mutual TLS,
 * temp directories), then checked for errors logged, red statuses, and the work each one shows.
 */
import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Node, NodeMessage } from 'node-red';
import { applySchema } from '../helpers/schema';
import { TentacleServer } from '../../lib/tentacle/server';
import { TentacleClient } from '../../lib/tentacle/client';
import { generateCertificatesAsync } from '../../lib/tls/generate';
import agentCacheModule from '../../nodes/agent-cache/agent-cache';
import eventPull from '../../nodes/event-pull/event-pull';
import metaconsoleReplicate from '../../nodes/metaconsole-replicate/metaconsole-replicate';
import pandoraConfig from '../../nodes/pandora-config/pandora-config';
import tentacleBufferModule from '../../nodes/tentacle-buffer/tentacle-buffer';
import tentaclePullModule from '../../nodes/tentacle-pull/tentacle-pull';
import { withCatalogue } from '../nodes/catalogue';
import { freePort, PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { repoRoot } from '../helpers/node-red';
import { coreNodesDir, NODE_RED_PACKAGE } from '../helpers/node-red-version';
import { sleep, waitFor } from '../helpers/wait';
import helper from '../helpers/red-helper';

// The helper's RED._ returns keys; these nodes speak through their catalogues.
const tentacleBuffer = withCatalogue(tentacleBufferModule, 'tentacle-buffer');
const tentaclePull = withCatalogue(tentaclePullModule, 'tentacle-pull');
const agentCache = withCatalogue(agentCacheModule, 'agent-cache');

type FlowNode = Record<string, unknown> & { id: string; type: string; z?: string };
type AnyMsg = NodeMessage & Record<string, unknown>;
type Status = { fill?: string; shape?: string; text?: string };

const PACKAGE_TYPES = [
  'pandora-config',
  'tentacle-buffer',
  'tentacle-pull',
  'event-pull',
  'metaconsole-replicate',
  'agent-cache',
];
/** Properties that hold another node's id on purpose. */
const REFERENCE_KEYS = new Set(['id', 'z', 'g', 'wires', 'config', 'scope', 'links']);
/** How long a deployed example must stay free of errors. */
const SETTLE_MS = 3000;

const core = (path: string): unknown =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(join(coreNodesDir(), path));
const NODE_MODULES = [
  pandoraConfig,
  tentacleBuffer,
  tentaclePull,
  eventPull,
  metaconsoleReplicate,
  agentCache,
  core('common/20-inject.js'),
  core('common/21-debug.js'),
  core('common/90-comment.js'),
  core('function/10-function.js'),
];

// The runtime's own event bus, where every node.status() is published (with the node's id).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeEvents = (require(NODE_RED_PACKAGE) as { runtime: { events: EventEmitter } }).runtime
  .events;

const examplesDir = join(repoRoot, 'examples');
const exampleFiles = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.json'))
  .sort();
const readExample = (file: string): FlowNode[] =>
  JSON.parse(readFileSync(join(examplesDir, file), 'utf8')) as FlowNode[];

function ofType(flow: FlowNode[], type: string, name?: RegExp): FlowNode {
  const found = flow.find((n) => n.type === type && (!name || name.test(String(n.name ?? ''))));
  assert.ok(found, `a ${type} node${name ? ` named ${name}` : ''}`);
  return found;
}

function collect(id: string): AnyMsg[] {
  const node = helper.getNode(id);
  assert.ok(node, `node ${id} deployed`);
  const got: AnyMsg[] = [];
  node.on('input', (msg: AnyMsg) => got.push(msg));
  return got;
}

function press(id: string): void {
  const node = helper.getNode(id) as Node | null;
  assert.ok(node, `inject ${id} deployed`);
  node.receive({});
}

describe('example flows', () => {
  let work: string;
  let db: PrivateMariaDb;
  const buffers: { server: TentacleServer; storage: string; address: string }[] = [];
  let pem: { ca: string; cert: string; key: string };
  let statuses: Map<string, Status[]>;
  const onStatus = (e: { id: string; status?: Status }) => {
    if (!e.status) return;
    const list = statuses.get(e.id) ?? [];
    list.push(e.status);
    statuses.set(e.id, list);
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'pandora-sync-examples-'));
    // 2048 bits: Node.js 24 (OpenSSL security level 2) refuses smaller keys in a TLS context.
    const certs = await generateCertificatesAsync({});
    const tlsDir = join(work, 'tls');
    mkdirSync(tlsDir);
    pem = {
      ca: join(tlsDir, 'ca.crt'),
      cert: join(tlsDir, 'sync.crt'),
      key: join(tlsDir, 'sync.key'),
    };
    writeFileSync(pem.ca, certs.ca.cert);
    writeFileSync(pem.cert, certs.client.cert);
    writeFileSync(pem.key, certs.client.key, { mode: 0o600 });

    // Two buffers as the isolated networks run them: TLS with client certificates required.
    for (const name of ['a', 'b']) {
      const storage = join(work, `buffer-${name}`);
      const server = new TentacleServer({
        address: '127.0.0.1',
        port: 0,
        storage,
        filters: '.*\\.conf:conf;.*\\.md5:md5;.*\\.zip:collections',
        insecure: true,
        overwrite: true,
        tls: { cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert },
      });
      const at = await server.start();
      for (let i = 1; i <= 3; i++) {
        await server.put(`agent-${name}${i}.${i}.data`, Buffer.from(`<agent_data n="${i}"/>`));
      }
      buffers.push({ server, storage, address: `${at.address}:${at.port}` });
    }

    db = await startMariaDb();
    await db.freshDatabase('cc');
    const cc = await db.connect('cc');
    await applySchema(cc, 'registry', 'objects', 'sync-queue', 'agent-cache');
    await cc.query('INSERT INTO tgrupo (id_grupo, nombre, parent) VALUES (10, ?, 0), (11, ?, 10)', [
      'Servers',
      'Web',
    ]);
    await cc.query('INSERT INTO ttag (id_tag, name) VALUES (1, ?)', ['critical']);
    for (const [id, name] of [
      [1, 'inst1'],
      [2, 'inst2'],
    ] as const) {
      await db.freshDatabase(name);
      const c = await db.connect(name);
      // events.sql's tagente comes first; agents.sql adds the secondary groups agent-cache reads.
      await applySchema(c, 'objects', 'events', 'agents');
      await c.query('INSERT INTO tagente (id_agente, nombre, alias) VALUES (1, ?, ?)', [
        `web-0${id}`,
        `web-0${id}`,
      ]);
      for (const criticity of [4, 2, 3]) {
        await c.query(
          'INSERT INTO tevento (id_agente, evento, event_type, criticity, utimestamp) VALUES (1, ?, ?, ?, UNIX_TIMESTAMP())',
          ['Module&#x20;cpu&#x20;changed', 'going_up_critical', criticity],
        );
      }
      await c.end();
      await cc.query(
        'INSERT INTO tmetaconsole_setup (id, server_name, dbhost, dbport, dbname, dbuser, dbpass, disabled, unified) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0)',
        [id, name, '127.0.0.1', String(db.port), name, 'root', ''],
      );
    }
    await cc.end();
    runtimeEvents.on('node-status', onStatus);
  });

  afterEach(async () => {
    await helper.unload();
  });

  after(async () => {
    runtimeEvents.off('node-status', onStatus);
    for (const b of buffers) await b.server.close('test', 100);
    await db?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** The example with every address and path pointed at this test's resources. */
  async function pointAtTestResources(file: string): Promise<FlowNode[]> {
    const flow = readExample(file);
    const dir = mkdtempSync(join(work, file.replace(/\.json$/, '-')));
    for (const n of flow) {
      if (n.type === 'pandora-config') {
        Object.assign(n, {
          confFile: '',
          dbHost: '127.0.0.1',
          dbPort: String(db.port),
          dbName: 'cc',
          dbUser: 'root',
          incomingDir: join(dir, 'data_in'),
        });
        if (n.syncAddress) n.syncAddress = buffers.map((b) => b.address).join(',');
        if (n.syncCa) n.syncCa = pem.ca;
        if (n.syncCert) n.syncCert = pem.cert;
        if (n.syncKey) n.syncKey = pem.key;
      }
      // The Command Center database as the test's Instances reach it (merge writes it).
      if (n.type === 'metaconsole-replicate') n.ccDbAddress = `127.0.0.1:${db.port}`;
      if (n.type === 'tentacle-buffer') {
        Object.assign(n, {
          address: '127.0.0.1',
          port: String(await freePort()),
          storage: join(dir, 'buffer'),
        });
      }
    }
    return flow;
  }

  async function deploy(flow: FlowNode[]): Promise<void> {
    statuses = new Map();
    await helper.load(NODE_MODULES, flow, {});
  }

  /** No error logged, no red status, for a few seconds after the work was seen. */
  async function assertHealthy(flow: FlowNode[]): Promise<void> {
    await sleep(SETTLE_MS);
    const errors = helper
      .log()
      .args.filter(([e]) => e.level === 20)
      .map(([e]) => `${e.type ?? ''} ${e.id ?? ''}: ${String(e.msg)}`);
    assert.deepEqual(errors, [], 'errors logged after deploy');
    const names = new Map(flow.map((n) => [n.id, `${n.type} "${String(n.name ?? '')}"`]));
    const red = [...statuses]
      .flatMap(([id, list]) => list.map((s) => [id, s] as const))
      .filter(([, s]) => s.fill === 'red')
      .map(([id, s]) => `${names.get(id) ?? id}: ${s.text ?? ''}`);
    assert.deepEqual(red, [], 'red statuses after deploy');
  }

  const last = (id: string): Status | undefined => statuses.get(id)?.at(-1);

  it('each example has a tab, a comment explaining what to change, and generated ids', () => {
    assert.ok(exampleFiles.length >= 4, `examples: ${exampleFiles.join(', ')}`);
    for (const file of exampleFiles) {
      const flow = readExample(file);
      const tabs = flow.filter((n) => n.type === 'tab');
      assert.equal(tabs.length, 1, `${file}: one tab`);
      const comment = flow.find((n) => n.type === 'comment');
      assert.ok(comment, `${file}: a comment node`);
      assert.ok(
        String(comment.info ?? '').length > 100,
        `${file}: the comment's info explains what to change`,
      );
      const ids = new Set(flow.map((n) => n.id));
      assert.equal(ids.size, flow.length, `${file}: unique ids`);
      for (const n of flow) {
        assert.match(n.id, /^[0-9a-f]{16}$/, `${file}: ${n.type} id ${n.id} looks generated`);
        if (n.type !== 'tab' && n.type !== 'pandora-config') {
          assert.equal(n.z, tabs[0].id, `${file}: ${n.type} ${n.id} on the tab`);
        }
        // Node-RED takes a config node's property equal to another node's id as a reference.
        for (const [key, value] of Object.entries(n)) {
          if (REFERENCE_KEYS.has(key)) continue;
          assert.ok(
            !(typeof value === 'string' && ids.has(value)),
            `${file}: ${n.type}.${key} equals a node id`,
          );
        }
      }
      for (const n of flow.filter((x) => x.type !== 'pandora-config' && x.type !== 'tab')) {
        for (const wire of (n.wires as string[][] | undefined) ?? []) {
          for (const to of wire) assert.ok(ids.has(to), `${file}: ${n.id} wired to ${to}`);
        }
        if (typeof n.config === 'string') {
          assert.ok(ids.has(n.config), `${file}: ${n.id} uses a config node in the file`);
        }
      }
    }
  });

  it('the examples use every node type of the package, and show TLS for the central pull', () => {
    const types = new Set(exampleFiles.flatMap((f) => readExample(f).map((n) => n.type)));
    for (const t of PACKAGE_TYPES) assert.ok(types.has(t), `an example uses ${t}`);
    const cfg = ofType(readExample('central-pull.json'), 'pandora-config');
    for (const key of ['syncCa', 'syncCert', 'syncKey']) {
      assert.match(String(cfg[key]), /^\/.+\.(crt|key|pem)$/, `central-pull ${key} is a PEM path`);
    }
    assert.ok(String(cfg.syncAddress).includes(','), 'central-pull names several buffers');
  });

  it('isolated-network-buffer.json: the buffer listens and receives agent files', async () => {
    const flow = await pointAtTestResources('isolated-network-buffer.json');
    const buffer = ofType(flow, 'tentacle-buffer');
    const debug = ofType(flow, 'debug');
    await deploy(flow);
    const events = collect(debug.id);
    await waitFor(() => /127\.0\.0\.1:\d+/.test(last(buffer.id)?.text ?? ''), 10_000, 'listening');
    const agent = await TentacleClient.connect({ host: '127.0.0.1', port: Number(buffer.port) });
    await agent.send('web-01.1.data', Buffer.from('<agent_data agent_name="web-01"/>'));
    await agent.quit();
    press(ofType(flow, 'inject').id);
    await waitFor(
      () => events.filter((m) => m.topic === 'received').length >= 2,
      10_000,
      'two files',
    );
    assert.ok(existsSync(join(String(buffer.storage), 'web-01.1.data')));
    await waitFor(() => /2 files/.test(last(buffer.id)?.text ?? ''), 5000, 'status 2 files');
    assert.equal(last(buffer.id)?.fill, 'green');
    await assertHealthy(flow);
  });

  it('central-pull.json: pulls several buffers over TLS and pushes remote configuration', async () => {
    const flow = await pointAtTestResources('central-pull.json');
    const cfg = ofType(flow, 'pandora-config');
    const pull = ofType(flow, 'tentacle-pull');
    const summaryDebug = ofType(flow, 'debug', /round/);
    await deploy(flow);
    const summaries = collect(summaryDebug.id);
    press(ofType(flow, 'inject', /pull/).id);
    await waitFor(
      () => {
        const pulled = summaries.filter((m) => (m.payload as { files?: number })?.files);
        return new Set(pulled.map((m) => m.topic)).size === buffers.length;
      },
      20_000,
      'a round summary with files from each buffer',
    );
    for (const m of summaries) {
      assert.equal((m.payload as { error?: unknown }).error ?? null, null, String(m.topic));
    }
    const delivered = readdirSync(String(cfg.incomingDir)).filter((f) => f.endsWith('.data'));
    assert.equal(delivered.length, 6, `delivered: ${delivered.join(' ')}`);
    await waitFor(() => last(pull.id)?.fill === 'green', 5000, 'green pull status');

    press(ofType(flow, 'inject', /push/).id);
    await waitFor(
      () => buffers.every((b) => existsSync(join(b.storage, 'conf', '0123456789abcdef.conf'))),
      15_000,
      'the remote configuration on both buffers',
    );
    await assertHealthy(flow);
  });

  it('event-gathering.json: Instance events land in tmetaconsole_event in batches', async () => {
    const flow = await pointAtTestResources('event-gathering.json');
    const batchesDebug = ofType(flow, 'debug', /batch/);
    const countsDebug = ofType(flow, 'debug', /count/);
    const events = ofType(flow, 'event-pull');
    await deploy(flow);
    const batches = collect(batchesDebug.id);
    const counts = collect(countsDebug.id);
    press(ofType(flow, 'inject').id);
    await waitFor(
      () => new Set(batches.map((m) => (m.instance as { id: number }).id)).size === 2,
      20_000,
      'a batch from each instance',
    );
    await waitFor(() => counts.length > 0, 5000, 'per-criticity counts');
    const cc = await db.connect('cc');
    try {
      const [rows] = await cc.query(
        'SELECT server_id, COUNT(*) AS n FROM tmetaconsole_event GROUP BY server_id ORDER BY server_id',
      );
      assert.deepEqual(
        (rows as { server_id: number; n: number }[]).map((r) => [Number(r.server_id), Number(r.n)]),
        [
          [1, 3],
          [2, 3],
        ],
      );
    } finally {
      await cc.end();
    }
    await waitFor(() => last(events.id)?.fill === 'green', 10_000, 'green event-pull status');
    await assertHealthy(flow);
  });

  it('agent-cache.json: every Instance agent lands in tmetaconsole_agent', async () => {
    const flow = await pointAtTestResources('agent-cache.json');
    const cache = ofType(flow, 'agent-cache');
    await deploy(flow);
    const rounds = collect(ofType(flow, 'debug').id);
    press(ofType(flow, 'inject').id);
    await waitFor(() => rounds.length > 0, 20_000, 'the round of the inject');
    const outcomes = rounds[0].payload as { id: number; outcome: string; agents: number }[];
    assert.deepEqual(
      outcomes.map((o) => [o.id, o.outcome, o.agents]),
      [
        [1, 'done', 1],
        [2, 'done', 1],
      ],
    );
    const cc = await db.connect('cc');
    try {
      const [rows] = await cc.query(
        'SELECT id_tmetaconsole_setup AS s, id_tagente AS a, nombre FROM tmetaconsole_agent ORDER BY s',
      );
      assert.deepEqual(
        (rows as { s: number; a: number; nombre: string }[]).map((r) => [
          Number(r.s),
          Number(r.a),
          r.nombre,
        ]),
        [
          [1, 1, 'web-01'],
          [2, 1, 'web-02'],
        ],
      );
    } finally {
      await cc.end();
    }
    await waitFor(() => last(cache.id)?.fill === 'green', 10_000, 'green agent-cache status');
    await assertHealthy(flow);
  });

  it('command-center-replication.json: reports per instance for sync, plan and merge', async () => {
    const flow = await pointAtTestResources('command-center-replication.json');
    const reportDebug = ofType(flow, 'debug');
    const replicate = ofType(flow, 'metaconsole-replicate');
    await deploy(flow);
    const reports = collect(reportDebug.id);
    const seen = (topic: string) =>
      new Set(
        reports
          .filter((m) => m.topic === topic)
          .map((m) => (m.payload as { instance: { id: number } }).instance.id),
      ).size === 2;
    await waitFor(() => seen('sync'), 20_000, 'a sync report for each instance');
    press(ofType(flow, 'inject', /plan/).id);
    await waitFor(() => seen('plan'), 20_000, 'a plan report for each instance');
    press(ofType(flow, 'inject', /merge/).id);
    await waitFor(() => seen('merge'), 20_000, 'a merge report for each instance');
    for (const m of reports) {
      assert.deepEqual((m.payload as { errors: unknown[] }).errors, [], String(m.topic));
    }
    const inst = await db.connect('inst2');
    try {
      const [rows] = await inst.query('SELECT nombre FROM tgrupo ORDER BY id_grupo');
      assert.deepEqual(
        (rows as { nombre: string }[]).map((r) => r.nombre),
        ['Servers', 'Web'],
      );
    } finally {
      await inst.end();
    }
    await waitFor(() => last(replicate.id)?.fill === 'green', 10_000, 'green replicate status');
    await assertHealthy(flow);
  });
});
