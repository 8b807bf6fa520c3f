import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Node, NodeMessage } from 'node-red';
import metaconsoleReplicateModule from '../../nodes/metaconsole-replicate/metaconsole-replicate';
import pandoraConfig from '../../nodes/pandora-config/pandora-config';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { makeSite, seedCc, Site } from '../replicate/fixture';
import helper from '../helpers/red-helper';
import { waitFor } from '../helpers/wait';
import { withCatalogue } from './catalogue';

const metaconsoleReplicate = withCatalogue(metaconsoleReplicateModule, 'metaconsole-replicate');

interface Payload {
  instance: { id: number; name: string };
  applied: Record<string, { inserted: number; updated: number; deleted: number }>;
  errors: string[];
  unified?: boolean;
}

function collect(
  node: Node,
  count: number,
  ms = 20_000,
): Promise<(NodeMessage & { payload: Payload })[]> {
  return new Promise((resolve, reject) => {
    const got: (NodeMessage & { payload: Payload })[] = [];
    const t = setTimeout(() => reject(new Error(`only ${got.length} of ${count} messages`)), ms);
    node.on('input', (msg: NodeMessage) => {
      got.push(msg as NodeMessage & { payload: Payload });
      if (got.length === count) {
        clearTimeout(t);
        resolve(got);
      }
    });
  });
}

describe('metaconsole-replicate node', () => {
  let db: PrivateMariaDb;
  let site: Site;
  before(async () => {
    db = await startMariaDb();
    site = await makeSite(db, [
      { db, name: 'n1' },
      { db, name: 'n2', unified: false },
    ]);
    await seedCc(site.cc);
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    await site?.cc.end();
    for (const n of site?.nodes ?? []) await n.end();
    await db?.destroy();
  });

  const flow = (props: Record<string, unknown>) => [
    {
      id: 'cfg',
      type: 'pandora-config',
      dbHost: db.host,
      dbPort: String(db.port),
      dbName: 'cc',
      dbUser: db.user,
    },
    {
      id: 'rep',
      type: 'metaconsole-replicate',
      config: 'cfg',
      instances: '',
      objects: '',
      interval: 0,
      wires: [['out']],
      ...props,
    },
    { id: 'out', type: 'helper' },
  ];

  it('plans, then syncs: one message per instance, plan equal to sync', async () => {
    await helper.load(
      [pandoraConfig, metaconsoleReplicate],
      flow({ objects: 'groups,tags,alertCommands,alertActions' }),
      {
        cfg: { dbPass: db.password },
      },
    );
    const rep = helper.getNode('rep') as Node;
    const out = helper.getNode('out') as Node;
    let wait = collect(out, 2);
    rep.receive({ topic: 'plan' } as NodeMessage);
    const plan = await wait;
    wait = collect(out, 2);
    rep.receive({ topic: 'sync' } as NodeMessage);
    const sync = await wait;
    const byId = (ms: typeof plan) =>
      Object.fromEntries(ms.map((m) => [m.payload.instance.id, m.payload.applied]));
    assert.deepEqual(byId(sync), byId(plan));
    assert.deepEqual(Object.keys(byId(sync)[1]).sort(), [
      'talert_actions',
      'talert_commands',
      'tgrupo',
      'ttag',
    ]);
    assert.equal(sync[0].topic, 'sync');
    const [[n]] = (await site.nodes[0].query('SELECT COUNT(*) AS n FROM tusuario')) as unknown as [
      [{ n: number }],
    ];
    assert.equal(Number(n.n), 0, 'users were not chosen in objects');
  });

  it('runs automatic rounds and merges on msg.topic merge', async () => {
    await helper.load(
      [pandoraConfig, metaconsoleReplicate],
      flow({ interval: '1', instances: '2' }),
      {
        cfg: { dbPass: db.password },
      },
    );
    const rep = helper.getNode('rep') as Node;
    const out = helper.getNode('out') as Node;
    const auto = await collect(out, 1);
    assert.equal(auto[0].payload.instance.id, 2);
    assert.deepEqual(auto[0].payload.errors, []);
    await helper.unload();
    // Without ccDbAddress the config's 127.0.0.1 cannot be written for the node's console.
    await helper.load([pandoraConfig, metaconsoleReplicate], flow({ instances: '2' }), {
      cfg: { dbPass: db.password },
    });
    let wait = collect(helper.getNode('out') as Node, 1);
    (helper.getNode('rep') as Node).receive({ topic: 'merge', priority: [2] } as NodeMessage);
    const [loop] = await wait;
    assert.equal(loop.payload.unified, false);
    assert.match(loop.payload.errors.join(' '), /loopback address.*ccDbAddress/);
    await helper.unload();
    await helper.load(
      [pandoraConfig, metaconsoleReplicate],
      flow({ instances: '2', ccDbAddress: `127.0.0.1:${db.port}` }),
      { cfg: { dbPass: db.password } },
    );
    const rep2 = helper.getNode('rep') as Node;
    const out2 = helper.getNode('out') as Node;
    wait = collect(out2, 1);
    rep2.receive({ topic: 'merge', priority: [2] } as NodeMessage);
    const [m] = await wait;
    assert.equal(m.topic, 'merge');
    assert.equal(m.payload.unified, true);
    const [[host]] = (await site.nodes[1].query(
      "SELECT `value` FROM tconfig WHERE token = 'replication_dbport'",
    )) as unknown as [[{ value: string }]];
    assert.equal(host.value, String(db.port));
    void rep;
  });

  it('refuses a ccDbAddress that is not host or host:port, with a clear error', async () => {
    await helper.load(
      [pandoraConfig, metaconsoleReplicate],
      flow({ ccDbAddress: 'db.example:99999' }),
      { cfg: { dbPass: db.password } },
    );
    const rep = helper.getNode('rep') as Node;
    const errors: string[] = [];
    (rep as unknown as { on(e: string, f: (call: { args: unknown[] }) => void): void }).on(
      'call:error',
      (call) => errors.push(String(call.args[0])),
    );
    rep.receive({ topic: 'sync' } as NodeMessage);
    await waitFor(() => /not configured/.test(errors.join(' ')), 10_000, 'the input refused');
    assert.match(errors.join(' '), /not configured/, 'nothing runs with a bad ccDbAddress');
  });

  it('skips the item that blocks an instance, once, and says which on the output', async () => {
    // As the console: the change runs on the Command Center and is queued for the node.
    await site.cc.query("UPDATE tgrupo SET contact = 'after skip' WHERE id_grupo = 10");
    await site.cc.query(
      "INSERT INTO tsync_queue (`sql`, target, utimestamp, operation, `table`, error, result) VALUES ('UPDATE tgrupo, tusuario SET tusuario.fullname = 1', 2, 0, 'UPDATE', 'tgrupo', '', ''), ('UPDATE tgrupo SET contact = ''after skip'' WHERE id_grupo = 10', 2, 0, 'UPDATE', 'tgrupo', '', '')",
    );
    await helper.load([pandoraConfig, metaconsoleReplicate], flow({ instances: '2' }), {
      cfg: { dbPass: db.password },
    });
    const rep = helper.getNode('rep') as Node;
    const out = helper.getNode('out') as Node;
    const errors: string[] = [];
    (rep as unknown as { on(e: string, f: (call: { args: unknown[] }) => void): void }).on(
      'call:error',
      (call) => errors.push(String(call.args[0])),
    );
    let wait = collect(out, 1);
    rep.receive({ topic: 'sync', _keep: 'me' } as NodeMessage);
    const [blocked] = await wait;
    const queue = (blocked.payload as unknown as { queue: { error: { id: string } } }).queue;
    assert.match(blocked.payload.errors[0], /refused/);
    assert.equal((blocked as unknown as { _keep: string })._keep, 'me', 'input properties kept');
    wait = collect(out, 1);
    rep.receive({ topic: 'sync' } as NodeMessage);
    await wait;
    assert.equal(errors.length, 1, 'the same failure goes to Catch once');

    wait = collect(out, 1);
    rep.receive({ topic: 'skip', payload: { id: queue.error.id } } as NodeMessage);
    const [skipped] = await wait;
    assert.equal(skipped.topic, 'skip');
    const s = skipped.payload as unknown as { item: { id: string; sql: string }; pending: number };
    assert.equal(s.item.id, queue.error.id);
    assert.match(s.item.sql, /tusuario/);
    wait = collect(out, 1);
    rep.receive({ topic: 'sync' } as NodeMessage);
    const [after] = await wait;
    assert.deepEqual(after.payload.errors, []);
    const [[g]] = (await site.nodes[1].query(
      'SELECT contact FROM tgrupo WHERE id_grupo = 10',
    )) as unknown as [[{ contact: string }]];
    assert.equal(g.contact, 'after skip');
  });

  it('reports an unknown topic as a Catch-able error', async () => {
    await helper.load([pandoraConfig, metaconsoleReplicate], flow({}), {
      cfg: { dbPass: db.password },
    });
    const rep = helper.getNode('rep') as Node;
    const err = new Promise<string>((resolve) => {
      (rep as unknown as { on(e: string, f: (m: { msg: string }) => void): void }).on(
        'call:error',
        (call: unknown) => {
          resolve(String((call as { args: unknown[] }).args[0]));
        },
      );
    });
    rep.receive({ topic: 'nonsense' } as NodeMessage);
    assert.match(await err, /unknown msg.topic "nonsense"/);
  });
});
