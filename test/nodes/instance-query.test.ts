import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Node, NodeMessage } from 'node-red';
import instanceQuery from '../../nodes/instance-query/instance-query';
import pandoraConfig from '../../nodes/pandora-config/pandora-config';
import { createCommandCenter } from '../events/fixtures/pandora';
import { freePort, PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { createInstance, rowsOf } from '../query/fixtures/pandora';
import helper from '../helpers/red-helper';
import { waitFor } from '../helpers/wait';
import { withCatalogue } from './catalogue';

type Out = NodeMessage & {
  payload: (Record<string, unknown> & { instance: { id: number; name: string } })[];
  instances: {
    id: number;
    name: string;
    ok: boolean;
    ms: number;
    rows: number;
    error: string | null;
  }[];
  keep?: string;
};

/** The test helper records every call of a node's methods as `call:<name>` events. */
interface Spied {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each call's arguments differ
  on(event: string, f: (call: { args: any[] }) => void): void;
}
const spy = (node: Node) => node as unknown as Spied;

function next(node: Node, ms = 20_000): Promise<Out> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no message')), ms);
    node.once('input', (msg: NodeMessage) => {
      clearTimeout(t);
      resolve(msg as Out);
    });
  });
}

describe('instance-query node', () => {
  let db: PrivateMariaDb;
  let downPort: number;

  before(async () => {
    db = await startMariaDb();
    downPort = await freePort();
    await Promise.all([createInstance(db, 'nqa', 1), createInstance(db, 'nqb', 2)]);
    await createCommandCenter(db, 'nqcc', [
      { id: 1, name: 'alpha', port: db.port, dbname: 'nqa' },
      { id: 2, name: 'beta', port: db.port, dbname: 'nqb' },
      { id: 3, name: 'gone', port: downPort, dbname: 'nqc' },
    ]);
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    await db?.destroy();
  });

  const flow = (props: Record<string, unknown>) => [
    {
      id: 'cfg',
      type: 'pandora-config',
      dbHost: db.host,
      dbPort: String(db.port),
      dbName: 'nqcc',
      dbUser: db.user,
    },
    {
      id: 'q',
      type: 'instance-query',
      config: 'cfg',
      instances: '1,2',
      query: 'tactical',
      timeout: '5',
      limit: '1000',
      wires: [['out']],
      ...props,
    },
    { id: 'out', type: 'helper' },
  ];

  it('answers one message per message, keeping its properties, with msg.instances', async () => {
    await helper.load([pandoraConfig, instanceQuery], flow({}), {
      cfg: { dbPass: db.password },
    });
    const q = helper.getNode('q') as Node;
    const out = helper.getNode('out') as Node;
    const statuses: { text?: string; fill?: string }[] = [];
    spy(q).on('call:status', (call) => statuses.push(call.args[0]));
    const got = next(out);
    q.receive({ payload: '', keep: 'me' } as NodeMessage);
    const m = await got;
    assert.equal(m.keep, 'me');
    assert.deepEqual(
      m.payload.map((r) => r.instance.id),
      [1, 2, 0],
    );
    assert.deepEqual(
      m.instances.map((i) => [i.id, i.name, i.ok, i.rows, i.error]),
      [
        [1, 'alpha', true, 1, null],
        [2, 'beta', true, 1, null],
      ],
    );
    // The test helper's RED._ gives the key back; Node-RED fills in the counts.
    assert.deepEqual(
      statuses.map((s) => [s.fill, s.text]),
      [
        [undefined, undefined],
        ['blue', 'instance-query.status.asking'],
        ['green', 'instance-query.status.answered'],
      ],
    );
  });

  it('takes the operation from msg.topic and sends rows of a read back as targets', async () => {
    await helper.load(
      [pandoraConfig, instanceQuery],
      flow({ query: 'agents', limit: 10, timeout: 5, allowChanges: true }),
      {
        cfg: { dbPass: db.password },
      },
    );
    const q = helper.getNode('q') as Node;
    const out = helper.getNode('out') as Node;
    let got = next(out);
    q.receive({ topic: 'alerts', payload: { status: 'fired' } } as NodeMessage);
    const fired = await got;
    assert.deepEqual(
      fired.payload.map((r) => [r.instance.id, r.id, (r.template as { name: string }).name]),
      [
        [1, 5, 'Critical condition'],
        [2, 5, 'Critical condition'],
      ],
    );
    got = next(out);
    q.receive({ topic: 'alert.standby', payload: fired.payload } as NodeMessage);
    const changed = await got;
    assert.deepEqual(
      changed.payload.map((r) => [r.instance.id, r.action, r.id, r.ok, r.changed]),
      [
        [1, 'alert.standby', 5, true, true],
        [2, 'alert.standby', 5, true, true],
      ],
    );
    for (const dbname of ['nqa', 'nqb']) {
      assert.deepEqual(
        await rowsOf(db, dbname, 'SELECT standby FROM talert_template_modules WHERE id = 5'),
        [{ standby: 1 }],
      );
    }
    got = next(out);
    q.receive({ topic: 'alert.unstandby', payload: fired.payload } as NodeMessage);
    await got;
  });

  it('refuses a bad message through done(err), so a Catch node sees it', async () => {
    await helper.load([pandoraConfig, withCatalogue(instanceQuery, 'instance-query')], flow({}), {
      cfg: { dbPass: db.password },
    });
    const q = helper.getNode('q') as Node;
    const errors: unknown[] = [];
    spy(q).on('call:error', (call) => errors.push(call.args[0]));
    q.receive({ topic: 'agents', payload: { state: 'critical' } } as NodeMessage);
    q.receive({ topic: 'agents.delete', payload: {} } as NodeMessage);
    await waitFor(() => errors.length >= 2, 10_000, 'both messages refused');
    assert.equal(errors.length, 2);
    assert.match(String(errors[0]), /"agents" has no filter "state"/);
    assert.match(String(errors[1]), /unknown operation "agents.delete"/);
  });

  it('refuses every change while allowChanges is off: a Catch-able error, nothing written', async () => {
    const before = async () =>
      Promise.all(
        ['nqa', 'nqb'].map((d) =>
          rowsOf(
            db,
            d,
            `SELECT (SELECT COUNT(*) FROM tsesion) AS audit,
                    (SELECT COUNT(*) FROM tpolicy_queue) AS queued,
                    (SELECT GROUP_CONCAT(disabled, standby) FROM talert_template_modules) AS alerts,
                    (SELECT GROUP_CONCAT(disabled) FROM tagente) AS agents,
                    (SELECT GROUP_CONCAT(disabled) FROM tagente_modulo) AS modules`,
          ),
        ),
      );
    const was = await before();
    // The node's own operation a change too: the default of a message without a topic.
    await helper.load(
      [pandoraConfig, withCatalogue(instanceQuery, 'instance-query')],
      flow({ query: 'alert.disable' }),
      { cfg: { dbPass: db.password } },
    );
    const q = helper.getNode('q') as Node;
    const out = helper.getNode('out') as Node;
    const errors: unknown[] = [];
    const sent: unknown[] = [];
    spy(q).on('call:error', (call) => errors.push(call.args[0]));
    out.on('input', (m: NodeMessage) => sent.push(m));
    const target = [{ instance: 1, id: 1 }];
    const changes = [
      'agent.disable',
      'agent.enable',
      'module.disable',
      'module.enable',
      'alert.disable',
      'alert.enable',
      'alert.standby',
      'alert.unstandby',
      'policy.apply',
    ];
    for (const topic of changes) q.receive({ topic, payload: target } as NodeMessage);
    q.receive({ payload: target } as NodeMessage);
    await waitFor(() => errors.length === changes.length + 1);
    for (const [i, topic] of [...changes, 'alert.disable'].entries()) {
      assert.match(
        String(errors[i]),
        new RegExp(`"${topic.replace('.', '\\.')}" changes Instances .*allowChanges`),
      );
    }
    assert.deepEqual(sent, []);
    assert.deepEqual(await before(), was, 'nothing written on either Instance');
    // A read still works on the same node.
    const got = next(out);
    q.receive({ topic: 'tactical', payload: {} } as NodeMessage);
    assert.equal((await got).instances.length, 2);
  });

  it('reports an Instance that is down beside the others, status yellow', async () => {
    await helper.load(
      [pandoraConfig, withCatalogue(instanceQuery, 'instance-query')],
      flow({ instances: '', query: 'agents' }),
      {
        cfg: { dbPass: db.password },
      },
    );
    const q = helper.getNode('q') as Node;
    const out = helper.getNode('out') as Node;
    const statuses: { text?: string; fill?: string }[] = [];
    spy(q).on('call:status', (call) => statuses.push(call.args[0]));
    const got = next(out);
    q.receive({ payload: { status: 'critical' } } as NodeMessage);
    const m = await got;
    assert.deepEqual(
      m.payload.map((r) => `${r.instance.id}:${String(r.name)}`),
      ['1:Web server (main)', '2:Web server (main)'],
    );
    const gone = m.instances.find((i) => i.id === 3);
    assert.equal(gone?.ok, false);
    assert.match(String(gone?.error), /instance 3 \(gone\) at .*: connection refused/);
    assert.equal(statuses.at(-1)?.fill, 'yellow');
  });

  it('reports a bad property in its status instead of running', async () => {
    await helper.load(
      [pandoraConfig, withCatalogue(instanceQuery, 'instance-query')],
      flow({ query: 'everything' }),
      {
        cfg: { dbPass: db.password },
      },
    );
    const q = helper.getNode('q') as Node;
    const errors: unknown[] = [];
    spy(q).on('call:error', (call) => errors.push(call.args[0]));
    q.receive({ payload: '' } as NodeMessage);
    await waitFor(
      () => /instance-query is not configured/.test(String(errors.at(-1))),
      10_000,
      'the message refused',
    );
  });
});
