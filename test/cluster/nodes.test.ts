/**
 * The `cluster` fields of pandora-config in a Node-RED runtime: off by default (no table
 * created), on with two configs standing for two hosts (the instances split between them, the
 * status showing units here and members seen, the leases handed back on close), and a bad value.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import eventPull from '../../nodes/event-pull/event-pull';
import pandoraConfig from '../../nodes/pandora-config/pandora-config';
import type { PandoraConfigNode } from '../../nodes/pandora-config/types';
import { createCommandCenter, createInstance, insertEvents } from '../events/fixtures/pandora';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { waitFor } from '../helpers/wait';
import helper from '../helpers/red-helper';

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
    await helper.load([pandoraConfig, eventPull], [config('c0'), puller('p0', 'c0')], {
      c0: { dbPass: db.password },
    });
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
      [pandoraConfig, eventPull],
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

  it('refuses a bad leaseSeconds with a config error naming it', async () => {
    await helper.load([pandoraConfig], [config('cb', { cluster: true, leaseSeconds: 'soon' })], {
      cb: { dbPass: db.password },
    });
    const c = helper.getNode('cb') as unknown as PandoraConfigNode;
    assert.match(String(c.configError?.message), /leaseSeconds/);
    assert.equal(c.cluster, null);
  });
});
