import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Node, NodeMessage } from 'node-red';
import agentCacheModule from '../../nodes/agent-cache/agent-cache';
import { cacheStatus } from '../../nodes/agent-cache/status';
import pandoraConfig from '../../nodes/pandora-config/pandora-config';
import { AgentCacheError } from '../../lib/agentcache';
import { registry } from '../../nodes/shared/metrics';
import { withCatalogue } from './catalogue';
import {
  assertCacheEquals,
  count,
  createCacheCc,
  createInstanceDb,
  insertAgents,
} from '../agentcache/fixtures';
import { freePort, PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { waitFor } from '../helpers/wait';
import helper from '../helpers/red-helper';

const agentCache = withCatalogue(agentCacheModule, 'agent-cache');
const agentCacheEs = withCatalogue(agentCacheModule, 'agent-cache', 'es-ES');

/** The test helper records every call of a node's methods as `call:<name>` events. */
interface Spied {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each call's arguments differ
  on(event: string, f: (call: { args: any[] }) => void): void;
}
const spy = (node: Node) => node as unknown as Spied;

describe('agent-cache node', () => {
  let db: PrivateMariaDb;
  let seq = 0;

  before(async () => {
    db = await startMariaDb();
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    await db?.destroy();
  });

  async function site(port2?: number) {
    const tag = `${++seq}`;
    await createInstanceDb(db, `na_${tag}`);
    await createInstanceDb(db, `nb_${tag}`);
    await createCacheCc(db, `ncc_${tag}`, [
      { id: 1, name: 'alpha', port: db.port, dbname: `na_${tag}` },
      { id: 2, name: 'beta', port: port2 ?? db.port, dbname: `nb_${tag}` },
    ]);
    const a = await db.connect(`na_${tag}`);
    const b = await db.connect(`nb_${tag}`);
    const c = await db.connect(`ncc_${tag}`);
    await insertAgents(a, 1, 120);
    await insertAgents(b, 1, 30);
    return { tag, a, b, c, end: () => Promise.all([a.end(), b.end(), c.end()]) };
  }

  const flow = (tag: string, props: Record<string, unknown>) => [
    {
      id: 'cfg',
      type: 'pandora-config',
      dbHost: db.host,
      dbPort: String(db.port),
      dbName: `ncc_${tag}`,
      dbUser: db.user,
    },
    {
      id: 'cache',
      type: 'agent-cache',
      config: 'cfg',
      instances: '',
      interval: 0,
      wires: [['out']],
      ...props,
    },
    { id: 'out', type: 'helper' },
  ];

  it('a message runs a round: one outcome per Instance, the cache filled, status agents and lag', async () => {
    const s = await site();
    await helper.load([pandoraConfig, agentCache], flow(s.tag, {}), {
      cfg: { dbPass: db.password },
    });
    const node = helper.getNode('cache') as Node;
    const out = helper.getNode('out') as Node;
    const statuses: { text?: string; fill?: string }[] = [];
    spy(node).on('call:status', (call) => statuses.push(call.args[0]));
    const got = new Promise<NodeMessage & { payload: Record<string, unknown>[] }>((resolve) =>
      out.on('input', (m: NodeMessage) =>
        resolve(m as NodeMessage & { payload: Record<string, unknown>[] }),
      ),
    );
    node.receive({ payload: 'now', _keep: 'me' } as NodeMessage);
    const msg = await got;
    assert.equal((msg as unknown as { _keep: string })._keep, 'me');
    assert.deepEqual(
      msg.payload.map((o) => [o.id, o.name, o.outcome, o.agents, o.written]),
      [
        [1, 'alpha', 'done', 120, 120],
        [2, 'beta', 'done', 30, 30],
      ],
    );
    await assertCacheEquals(s.a, s.c, 1);
    await assertCacheEquals(s.b, s.c, 2);
    await waitFor(
      () => /^2 inst · 150 agents · lag \d+ s$/.test(statuses.at(-1)?.text ?? ''),
      5000,
      `the status (last: ${statuses.at(-1)?.text})`,
    );
    assert.equal(statuses.at(-1)?.fill, 'green');
    const lag = await registry.getSingleMetric('pandora_sync_agent_cache_lag_seconds')?.get();
    assert.deepEqual(
      lag?.values
        .filter((v) => v.labels.node === 'cache')
        .map((v) => v.labels.instance)
        .sort(),
      ['1', '2'],
      'a lag series per Instance',
    );
    await s.end();
  });

  it('runs rounds by itself on its interval, numbers and strings as flows carry them', async () => {
    const s = await site();
    await helper.load(
      [pandoraConfig, agentCache],
      flow(s.tag, { interval: '0.3', instances: [1, '2'] }),
      {
        cfg: { dbPass: db.password },
      },
    );
    await waitFor(
      async () => (await count(s.c, 'SELECT COUNT(*) AS n FROM tmetaconsole_agent')) === 150,
      20_000,
      'fill',
    );
    await s.a.query("UPDATE tagente SET alias = 'moved&#x20;on', id_grupo = 3 WHERE id_agente = 9");
    await waitFor(
      async () =>
        (await count(
          s.c,
          "SELECT COUNT(*) AS n FROM tmetaconsole_agent WHERE alias = 'moved&#x20;on' AND id_grupo = 3",
        )) === 1,
      20_000,
      'the change',
    );
    await s.end();
  });

  it('an Instance down: one Catch-able error in the runtime language, red status naming it', async () => {
    const s = await site(await freePort());
    await helper.load([pandoraConfig, agentCacheEs], flow(s.tag, {}), {
      cfg: { dbPass: db.password },
    });
    const node = helper.getNode('cache') as Node;
    const errors: { text: string; msg?: NodeMessage & { instance?: { id: number } } }[] = [];
    spy(node).on('call:error', (call) =>
      errors.push({ text: String(call.args[0]?.message ?? call.args[0]), msg: call.args[1] }),
    );
    const statuses: { text?: string; fill?: string }[] = [];
    spy(node).on('call:status', (call) => statuses.push(call.args[0]));
    const out = helper.getNode('out') as Node;
    let outs = 0;
    out.on('input', () => outs++);
    node.receive({ payload: 1 } as NodeMessage);
    node.receive({ payload: 2 } as NodeMessage);
    await waitFor(() => outs === 2, 20_000, 'two rounds');
    const down = errors.filter((e) => e.msg?.instance?.id === 2);
    assert.equal(down.length, 1, JSON.stringify(errors.map((e) => e.text)));
    assert.match(down[0].text, /^instancia 2 \(beta\): /);
    await waitFor(() => /caídas: 2/.test(statuses.at(-1)?.text ?? ''), 5000, 'red status');
    assert.equal(statuses.at(-1)?.fill, 'red');
    await assertCacheEquals(s.a, s.c, 1);
    await s.end();
  });

  it('refuses a bad property with a worded, Catch-able error and a red status', async () => {
    const s = await site();
    await helper.load([pandoraConfig, agentCache], flow(s.tag, { interval: 'soon' }), {
      cfg: { dbPass: db.password },
    });
    const node = helper.getNode('cache') as Node;
    node.receive({} as NodeMessage);
    const logged = () =>
      helper
        .log()
        .args.map(([e]) => String(e.msg))
        .join('\n');
    await waitFor(() => /not configured/.test(logged()), 5000, 'the refusal of the message');
    assert.match(logged(), /interval must be from 0 to 86400, got "soon"/);
    assert.match(logged(), /agent-cache is not configured/);
    await s.end();
  });

  it('status: red for the Command Center, yellow when far behind, grey without Instances', () => {
    const t = (k: string, v?: Record<string, string | number>) =>
      `${k}${v ? JSON.stringify(v) : ''}`;
    const cc = new AgentCacheError('ERR_AGENT_CACHE_CC', { message: 'gone' });
    assert.equal(cacheStatus({ commandCenter: cc, instances: [] }, 5, t).fill, 'red');
    const one = { id: 1, name: 'a', agents: 10, down: false, elsewhere: false };
    assert.equal(
      cacheStatus({ commandCenter: null, instances: [{ ...one, lag: 31 }] }, 5, t).fill,
      'yellow',
    );
    assert.equal(
      cacheStatus({ commandCenter: null, instances: [{ ...one, lag: 29 }] }, 5, t).fill,
      'green',
    );
    assert.equal(
      cacheStatus({ commandCenter: null, instances: [{ ...one, lag: 900 }] }, 0, t).fill,
      'green',
    );
    assert.equal(cacheStatus({ commandCenter: null, instances: [] }, 5, t).fill, 'grey');
  });
});
