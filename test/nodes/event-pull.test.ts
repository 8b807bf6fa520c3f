import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Node, NodeMessage } from 'node-red';
import eventPullModule from '../../nodes/event-pull/event-pull';
import pandoraConfig from '../../nodes/pandora-config/pandora-config';
import { withCatalogue } from './catalogue';
import { createCommandCenter, createInstance, insertEvents } from '../events/fixtures/pandora';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { waitFor } from '../helpers/wait';
import helper from '../helpers/red-helper';

type BatchMsg = NodeMessage & {
  payload: Record<string, unknown>[];
  instance: { id: number; name: string };
};

function collect(node: Node, count: number, ms = 20_000): Promise<BatchMsg[]> {
  return new Promise((resolve, reject) => {
    const got: BatchMsg[] = [];
    const t = setTimeout(() => reject(new Error(`only ${got.length} of ${count} messages`)), ms);
    node.on('input', (msg: NodeMessage) => {
      got.push(msg as BatchMsg);
      if (got.length === count) {
        clearTimeout(t);
        resolve(got);
      }
    });
  });
}

/** The test helper records every call of a node's methods as `call:<name>` events. */
interface Spied {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each call's arguments differ
  on(event: string, f: (call: { args: any[] }) => void): void;
}
function spy(node: Node): Spied {
  return node as unknown as Spied;
}

const eventPull = withCatalogue(eventPullModule, 'event-pull');

describe('event-pull node', () => {
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

  async function site(extra: { id: number; name: string; port: number; dbname: string }[] = []) {
    const tag = `${++seq}`;
    await createInstance(db, `a_${tag}`);
    await createInstance(db, `b_${tag}`);
    await createCommandCenter(db, `cc_${tag}`, [
      { id: 1, name: 'alpha', port: db.port, dbname: `a_${tag}` },
      { id: 2, name: 'beta', port: db.port, dbname: `b_${tag}` },
      ...extra,
    ]);
    return tag;
  }

  const flow = (tag: string, props: Record<string, unknown>) => [
    {
      id: 'cfg',
      type: 'pandora-config',
      dbHost: db.host,
      dbPort: String(db.port),
      dbName: `cc_${tag}`,
      dbUser: db.user,
    },
    {
      id: 'pull',
      type: 'event-pull',
      config: 'cfg',
      instances: '',
      interval: 0,
      batchSize: '100',
      mode: 'all',
      writeBack: 'false',
      wires: [['out']],
      ...props,
    },
    { id: 'out', type: 'helper' },
  ];

  it('sends one message per batch with msg.instance, and shows the lag per instance', async () => {
    const tag = await site();
    const a = await db.connect(`a_${tag}`);
    const b = await db.connect(`b_${tag}`);
    await insertEvents(a, 250);
    await insertEvents(b, 40);
    await helper.load([pandoraConfig, eventPull], flow(tag, {}), { cfg: { dbPass: db.password } });
    const pull = helper.getNode('pull') as Node;
    const out = helper.getNode('out') as Node;
    const statuses: { text?: string; fill?: string }[] = [];
    spy(pull).on('call:status', (call: { args: { text?: string }[] }) =>
      statuses.push(call.args[0]),
    );
    const wait = collect(out, 4);
    pull.receive({ payload: 'now' } as NodeMessage);
    const msgs = await wait;
    const a1 = msgs.filter((m) => m.instance.id === 1);
    const b1 = msgs.filter((m) => m.instance.id === 2);
    assert.deepEqual(
      a1.map((m) => m.payload.length),
      [100, 100, 50],
    );
    assert.deepEqual(
      b1.map((m) => [m.instance.name, m.payload.length, m.topic]),
      [['beta', 40, 'new']],
    );
    assert.equal(a1[0].payload[0].id_source_event, '1');
    assert.equal(a1[0].payload[0].server_id, 1);
    await waitFor(
      () => /^2 inst · lag 0\/0 s$/.test(statuses.at(-1)?.text ?? ''),
      5000,
      'the status',
    );
    assert.match(statuses.at(-1)?.text ?? '', /^2 inst · lag 0\/0 s$/);
    await Promise.all([a.end(), b.end()]);
  });

  it('accepts numbers and booleans as flows carry them, and runs rounds by itself', async () => {
    const tag = await site();
    const a = await db.connect(`a_${tag}`);
    await insertEvents(a, 5);
    await helper.load(
      [pandoraConfig, eventPull],
      flow(tag, { interval: 0.2, batchSize: 1000, writeBack: false, instances: 1 }),
      { cfg: { dbPass: db.password } },
    );
    const out = helper.getNode('out') as Node;
    const [m] = await collect(out, 1);
    assert.equal(m.payload.length, 5);
    assert.deepEqual(m.instance, { id: 1, name: 'alpha' });
    await insertEvents(a, 3, 100);
    const [m2] = await collect(out, 1);
    assert.equal(m2.payload.length, 3);
    await a.end();
  });

  it('reports an unreachable instance once per outage to a Catch node, and says so in the status', async () => {
    const { freePort } = await import('../helpers/mariadb');
    const dead = await freePort();
    const tag = await site([{ id: 3, name: 'gamma', port: dead, dbname: 'nothing' }]);
    await helper.load([pandoraConfig, eventPull], flow(tag, { interval: 0.2 }), {
      cfg: { dbPass: db.password },
    });
    const pull = helper.getNode('pull') as Node;
    // node.error(err, msg) is what a Catch node receives: spy on its calls.
    const errors: NodeMessage[] = [];
    spy(pull).on('call:error', (call: { args: unknown[] }) => {
      if (call.args[1]) errors.push(call.args[1] as NodeMessage);
    });
    const statuses: { text?: string; fill?: string }[] = [];
    spy(pull).on('call:status', (call: { args: { text?: string; fill?: string }[] }) =>
      statuses.push(call.args[0]),
    );
    // Several automatic rounds and two manual ones.
    const red = () => statuses.filter((s) => s.fill === 'red').length;
    await waitFor(() => red() >= 3, 20_000, 'several failing automatic rounds');
    const before = red();
    pull.receive({} as NodeMessage);
    pull.receive({} as NodeMessage);
    await waitFor(() => red() >= before + 2, 20_000, 'the two manual rounds');
    const about3 = errors.filter((m) => /instance 3 \(gamma\)/.test(String(m.payload)));
    assert.equal(about3.length, 1, 'once per outage, not once per round');
    assert.deepEqual((about3[0] as NodeMessage & { instance: unknown }).instance, {
      id: 3,
      name: 'gamma',
    });
    const s = statuses.at(-1);
    assert.equal(s?.fill, 'red');
    assert.match(s?.text ?? '', /^3 inst · lag 0\/0\/\? s · down: 3$/);
  });

  it('shows a clear status for a bad mode instead of crashing', async () => {
    const tag = await site();
    await helper.load([pandoraConfig, eventPull], flow(tag, { mode: 'sometimes' }), {
      cfg: { dbPass: db.password },
    });
    const pull = helper.getNode('pull') as Node;
    const errors: unknown[] = [];
    spy(pull).on('call:error', (call: { args: unknown[] }) => errors.push(call.args[0]));
    pull.receive({} as NodeMessage);
    await waitFor(() => errors.length > 0, 5000, 'the node error');
    assert.match(String(errors[0]), /mode must be "all" or "only_validated"/);
  });

  it('carries the input message properties on the messages its round causes', async () => {
    const tag = await site();
    await helper.load([pandoraConfig, eventPull], flow(tag, {}), { cfg: { dbPass: db.password } });
    const pull = helper.getNode('pull') as Node;
    const out = helper.getNode('out') as Node;
    const statuses: { text?: string }[] = [];
    spy(pull).on('call:status', (call: { args: { text?: string }[] }) =>
      statuses.push(call.args[0]),
    );
    // The round the node starts by itself finds nothing; after it, new events wait for a message.
    await waitFor(() => /lag 0\/0 s/.test(statuses.at(-1)?.text ?? ''), 10_000, 'first round');
    const a = await db.connect(`a_${tag}`);
    await insertEvents(a, 3);
    const wait = collect(out, 1);
    pull.receive({ payload: 'now', correlation: { ticket: 7 } } as NodeMessage);
    const [m] = await wait;
    assert.equal(m.payload.length, 3);
    assert.equal(m.topic, 'new');
    assert.deepEqual((m as BatchMsg & { correlation?: unknown }).correlation, { ticket: 7 });
    await a.end();
  });

  it('words its status in the language of the runtime (es-ES)', async () => {
    const tag = await site();
    const a = await db.connect(`a_${tag}`);
    await insertEvents(a, 5);
    await helper.load(
      [pandoraConfig, withCatalogue(eventPullModule, 'event-pull', 'es-ES')],
      flow(tag, {}),
      { cfg: { dbPass: db.password } },
    );
    const pull = helper.getNode('pull') as Node;
    const statuses: { text?: string }[] = [];
    spy(pull).on('call:status', (call: { args: { text?: string }[] }) =>
      statuses.push(call.args[0]),
    );
    pull.receive({} as NodeMessage);
    await waitFor(
      () => statuses.some((s) => /^2 inst · retraso 0\/0 s$/.test(s.text ?? '')),
      10_000,
      'the Spanish status',
    );
    await a.end();
  });

  it('refuses an interval Node cannot wait for, in words', async () => {
    const tag = await site();
    await helper.load([pandoraConfig, eventPull], flow(tag, { interval: -1 }), {
      cfg: { dbPass: db.password },
    });
    const pull = helper.getNode('pull') as Node;
    const errors: unknown[] = [];
    spy(pull).on('call:error', (call: { args: unknown[] }) => errors.push(call.args[0]));
    pull.receive({} as NodeMessage);
    await waitFor(() => errors.length >= 2, 5000, 'the setup error and the refused message');
    assert.match(String(errors[0]), /interval must be a number of seconds from 0 to 86400/);
    assert.match(String(errors[1]), /event-pull is not configured/);
  });
});
