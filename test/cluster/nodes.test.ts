/**
 * The `cluster` fields of pandora-config in a Node-RED runtime: off by default (no table
 * created), on with two configs standing for two hosts (the instances split between them, the
 * status showing units here and members seen, the leases handed back on close), and a bad value.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { LeaseManager } from '../../lib/cluster';
import { createPool } from '../../lib/db/pool';
import eventPull from '../../nodes/event-pull/event-pull';
import tentaclePull from '../../nodes/tentacle-pull/tentacle-pull';
import pandoraConfig from '../../nodes/pandora-config/pandora-config';
import type { PandoraConfigNode } from '../../nodes/pandora-config/types';
import { createCommandCenter, createInstance, insertEvents } from '../events/fixtures/pandora';
import { freePort, PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { removeDir, tempDir } from '../helpers/files';
import { waitFor } from '../helpers/wait';
import helper from '../helpers/red-helper';
import { withCatalogue } from '../nodes/catalogue';

describe('pandora-config cluster fields', () => {
  let db: PrivateMariaDb;
  let cc: Connection;
  before(async () => {
    db = await startMariaDb();
    await createInstance(db, 'cn_node1');
    await createInstance(db, 'cn_node2');
    await createCommandCenter(db, 'cn_cc', [
      { id: 1, name: 'one', port: db.port, dbname: 'cn_node1' },
      { id: 2, name: 'two', port: db.port, dbname: 'cn_node2' },
    ]);
    for (const n of ['cn_node1', 'cn_node2']) {
      const c = await db.connect(n);
      await insertEvents(c, 30);
      await c.end();
    }
    cc = await db.connect('cn_cc');
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await cc?.end();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    await db?.destroy();
  });

  const config = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    type: 'pandora-config',
    dbHost: db.host,
    dbPort: String(db.port),
    dbName: 'cn_cc',
    dbUser: db.user,
    ...extra,
  });
  const puller = (id: string, cfg: string) => ({
    id,
    type: 'event-pull',
    config: cfg,
    instances: '',
    interval: '1',
    batchSize: '10',
    mode: 'all',
    wires: [[]],
  });
  const clusterTables = async (): Promise<number> => {
    const [rows] = await cc.query<RowDataPacket[]>("SHOW TABLES LIKE 'tsync_cluster%'");
    return rows.length;
  };
  const copied = async (): Promise<number> => {
    const [rows] = await cc.query<({ n: string } & RowDataPacket)[]>(
      'SELECT COUNT(*) AS n FROM tmetaconsole_event',
    );
    return Number(rows[0].n);
  };

  it('is off by default: nothing changes and no table is created', async () => {
    await helper.load(
      [withCatalogue(pandoraConfig, 'pandora-config'), eventPull],
      [config('c0'), puller('p0', 'c0')],
      {
        c0: { dbPass: db.password },
      },
    );
    const c = helper.getNode('c0') as unknown as PandoraConfigNode;
    assert.equal(c.cluster, null);
    await waitFor(async () => (await copied()) === 60, 20_000, 'both instances copied');
    assert.equal(await clusterTables(), 0);
  });

  it('splits the instances between two members, shows it in the status, hands back on close', async () => {
    await cc.query('DELETE FROM tmetaconsole_event');
    await cc.query('DELETE FROM tevent_pull_checkpoint');
    const statuses = new Map<string, string>();
    await helper.load(
      [withCatalogue(pandoraConfig, 'pandora-config'), eventPull],
      [
        config('cx', { cluster: true, clusterMember: 'host-x', leaseSeconds: '2' }),
        config('cy', { cluster: 'true', clusterMember: 'host-y', leaseSeconds: 2 }),
        puller('px', 'cx'),
        puller('py', 'cy'),
      ],
      { cx: { dbPass: db.password }, cy: { dbPass: db.password } },
    );
    // The test helper spies on node methods and reports each call as an event.
    type Spied = { on(event: string, f: (call: { args: [{ text?: string }] }) => void): void };
    for (const id of ['px', 'py']) {
      (helper.getNode(id) as unknown as Spied).on('call:status', (call) => {
        statuses.set(id, call.args[0]?.text ?? '');
      });
    }
    const cx = helper.getNode('cx') as unknown as PandoraConfigNode;
    assert.equal(cx.cluster?.settings.member, 'host-x');
    assert.equal(cx.cluster?.settings.leaseSeconds, 2);
    await waitFor(
      async () => {
        const [rows] = await cc.query<({ holder: string } & RowDataPacket)[]>(
          "SELECT holder FROM tsync_cluster_lease WHERE unit LIKE 'events:%' AND expires > NOW(6)",
        );
        const holders = rows.map((r) => r.holder.split('/')[0]).sort();
        return holders.join(',') === 'host-x,host-y';
      },
      20_000,
      'one instance per member',
    );
    await waitFor(async () => (await copied()) === 60, 20_000, 'both instances copied');
    await waitFor(
      () => ['px', 'py'].every((id) => (statuses.get(id) ?? '').includes('1/2 here · 2 members')),
      10_000,
      'the status of both nodes',
    );
    await helper.unload();
    const [held] = await cc.query<RowDataPacket[]>(
      "SELECT unit FROM tsync_cluster_lease WHERE holder <> ''",
    );
    assert.deepEqual(held, [], 'a clean close hands every unit back');
    const [members] = await cc.query<RowDataPacket[]>('SELECT session FROM tsync_cluster_member');
    assert.deepEqual(members, []);
  });

  it('tentacle-pull: a failing buffer handed to another member no longer counts as failing here', async () => {
    const dir = tempDir('cluster-status-');
    // Two buffers nobody listens on: both fail while this member holds both.
    const ports = [await freePort(), await freePort()];
    const statuses: string[] = [];
    const other = createPool({ ...db.facts, database: 'cn_cc' });
    const z = new LeaseManager({ db: other, member: 'host-z', leaseMs: 2000 });
    try {
      await helper.load(
        [withCatalogue(pandoraConfig, 'pandora-config'), tentaclePull],
        [
          config('cs', {
            cluster: true,
            clusterMember: 'host-s',
            leaseSeconds: 2,
            incomingDir: dir,
            syncAddress: ports.map((p) => `127.0.0.1:${p}`).join(','),
          }),
          {
            id: 'ts',
            type: 'tentacle-pull',
            config: 'cs',
            interval: '1',
            pattern: '\\.data$',
            wires: [[], []],
          },
        ],
        { cs: { dbPass: db.password } },
      );
      // The node's own status calls (the cluster part is added inside the call).
      // (The catalogue is not loaded here: the fill tells red, all failing, from yellow, some.)
      type Status = { text?: string; fill?: string };
      const ts = helper.getNode('ts') as unknown as { status: (s: Status) => void };
      const set = ts.status.bind(ts);
      ts.status = (st) => {
        statuses.push(`${st.fill ?? ''} ${st.text ?? ''}`);
        set(st);
      };
      await waitFor(
        () => (statuses.at(-1) ?? '').startsWith('red tentacle-pull.status.failing'),
        20_000,
        'both buffers failing here',
      );
      // Another member joins: one buffer is handed to it.
      z.gate().offer(ports.map((p) => `pull:127.0.0.1:${p}`));
      z.start();
      await waitFor(
        () => (statuses.at(-1) ?? '').startsWith('yellow tentacle-pull.status.failing'),
        20_000,
        'one buffer failing, one here',
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; statuses: ${statuses.slice(-4).join(' | ')}`);
    } finally {
      await helper.unload();
      await z.close('test over');
      await other.end();
      removeDir(dir);
    }
  });

  it('refuses a bad leaseSeconds with a config error naming it', async () => {
    await helper.load(
      [withCatalogue(pandoraConfig, 'pandora-config')],
      [config('cb', { cluster: true, leaseSeconds: 'soon' })],
      {
        cb: { dbPass: db.password },
      },
    );
    const c = helper.getNode('cb') as unknown as PandoraConfigNode;
    assert.match(String(c.configError?.message), /leaseSeconds/);
    assert.equal(c.cluster, null);
  });
});
