/**
 * The lease manager against a real MariaDB: several managers (members) on one database, a short
 * lease (2 s) so that expiry and takeover happen within the test.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { RowDataPacket } from 'mysql2';
import {
  ClusterError,
  LeaseLost,
  LeaseManager,
  type ManagedGate,
  type Takeover,
} from '../../lib/cluster';
import { DbDeliveries } from '../../lib/cluster/deliveries';
import { createPool, type Pool } from '../../lib/db/pool';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { sleep, waitFor } from '../helpers/wait';

const LEASE_S = 2;
const PULL = Array.from({ length: 12 }, (_, i) => `pull:10.0.0.${i + 1}:41121`);
const EVENTS = Array.from({ length: 4 }, (_, i) => `events:${i + 1}`);
const ALL = [...PULL, ...EVENTS];

describe('cluster leases', () => {
  let db: PrivateMariaDb;
  let pool: Pool;
  let managers: LeaseManager[] = [];

  before(async () => {
    db = await startMariaDb();
    await db.freshDatabase('cc');
    pool = createPool({ ...db.facts, database: 'cc' }, { connectionLimit: 20 });
  });
  after(async () => {
    await pool?.end();
    await db?.destroy();
  });
  afterEach(async () => {
    await Promise.all(managers.map((m) => m.close('test over')));
    managers = [];
    await pool.query('DELETE FROM tsync_cluster_lease').catch(() => undefined);
    await pool.query('DELETE FROM tsync_cluster_member').catch(() => undefined);
  });

  function member(name: string, start = true): { m: LeaseManager; gate: ManagedGate } {
    const m = new LeaseManager({ db: pool, member: name, leaseMs: LEASE_S * 1000 });
    managers.push(m);
    const gate = m.gate();
    gate.offer(ALL);
    if (start) m.start();
    return { m, gate };
  }

  /** Every unit held by exactly one of `ms` (as each sees itself). */
  function allHeldOnce(ms: LeaseManager[]): boolean {
    return ALL.every((u) => ms.filter((m) => m.holds(u)).length === 1);
  }

  function noDoubleHolder(ms: LeaseManager[]): void {
    for (const u of ALL) {
      const n = ms.filter((m) => m.holds(u)).length;
      assert.ok(n <= 1, `${u} held by ${n} members at once`);
    }
  }

  it('creates no table until a manager runs', async () => {
    const [rows] = await pool.query<RowDataPacket[]>("SHOW TABLES LIKE 'tsync_cluster%'");
    assert.equal(rows.length, 0);
  });

  it('spreads the units of each kind over three members, and over two when one leaves cleanly', async () => {
    const a = member('a');
    const b = member('b');
    const c = member('c');
    const ms = [a.m, b.m, c.m];
    await waitFor(
      () =>
        allHeldOnce(ms) &&
        ms.every((m) => m.state().held.filter((u) => u.startsWith('pull:')).length === 4) &&
        ms.every((m) => m.state().members.length === 3),
      20_000,
      'an even spread over three members',
    );
    for (const m of ms) {
      const events = m.state().held.filter((u) => u.startsWith('events:')).length;
      assert.ok(events >= 1 && events <= 2, `${m.member} holds ${events} of 4 instances`);
    }
    console.log(
      `# units per member (3 alive): ${ms.map((m) => `${m.member}=${m.state().held.length}`).join(' ')}`,
    );
    // A clean leave hands the units back at once: taken long before the lease could expire.
    const t0 = Date.now();
    const takeovers: Takeover[] = [];
    for (const m of [a.m, b.m]) m.on('takeover', (t) => takeovers.push(t));
    await c.m.close();
    await waitFor(
      () =>
        allHeldOnce([a.m, b.m]) &&
        [a.m, b.m].every((m) => m.state().held.filter((u) => u.startsWith('pull:')).length === 6),
      20_000,
      'an even spread over the two left',
    );
    const took = Date.now() - t0;
    assert.equal(takeovers.length, 0, 'a released unit is not a takeover');
    assert.ok(took < LEASE_S * 1000 * 2, `took ${took} ms`);
    console.log(`# clean leave: units re-held in ${took} ms (leaseSeconds ${LEASE_S})`);
  });

  it('shares a kind only among the members that work it', async () => {
    const a = member('a');
    const b = member('b');
    // b's flow has no event-pull: it offers the buffers only.
    b.gate.offer(PULL);
    await waitFor(
      () =>
        EVENTS.every((u) => a.m.holds(u)) &&
        PULL.every((u) => [a.m, b.m].filter((m) => m.holds(u)).length === 1) &&
        b.m.state().held.length === 6,
      20_000,
      'events all on a, buffers split 6/6',
    );
    assert.equal(a.m.state().held.filter((u) => u.startsWith('pull:')).length, 6);
  });

  it('a member that stops renewing loses its units, taken within 2 x leaseSeconds of its last renewal', async () => {
    // `a` ticks only when the test says so: when the test stops, `a` is a hung member.
    const a = member('a', false);
    const b = member('b');
    let aTicks = true;
    const ticker = (async () => {
      while (aTicks) {
        await a.m.requestRound('test');
        await sleep(a.m.tickMs);
      }
    })();
    await waitFor(
      () => allHeldOnce([a.m, b.m]) && a.m.state().held.length >= 6,
      20_000,
      'a spread over a and b',
    );
    const aHad = a.m.state().held;
    const takeovers: Takeover[] = [];
    b.m.on('takeover', (t) => takeovers.push(t));
    aTicks = false;
    await ticker;
    const stopped = Date.now();
    const sampler = setInterval(() => noDoubleHolder([a.m, b.m]), 20);
    try {
      await waitFor(
        () => ALL.every((u) => b.m.holds(u)),
        LEASE_S * 1000 * 4,
        'b holding everything',
      );
    } finally {
      clearInterval(sampler);
    }
    const waited = Date.now() - stopped;
    assert.deepEqual(takeovers.map((t) => t.unit).sort(), [...aHad].sort());
    for (const t of takeovers) {
      assert.equal(t.from, 'a');
      assert.ok(t.sinceRenewalMs >= LEASE_S * 1000, `${t.unit} taken after ${t.sinceRenewalMs} ms`);
      assert.ok(t.sinceRenewalMs <= LEASE_S * 2000, `${t.unit} taken after ${t.sinceRenewalMs} ms`);
    }
    const late = takeovers.map((t) => t.sinceRenewalMs).sort((x, y) => x - y);
    console.log(
      `# takeover since last renewal: max ${late[late.length - 1]} ms, p50 ${late[Math.floor(late.length / 2)]} ms ` +
        `(leaseSeconds ${LEASE_S}: limit ${LEASE_S * 2000} ms); b held all ${waited} ms after a stopped`,
    );
    assert.equal(
      a.m.state().held.length,
      0,
      'a hung member stops working before it can be replaced',
    );
  });

  it('fences a paused holder: its transaction cannot commit once another member took the unit', async () => {
    const a = member('a', false);
    a.gate.offer(['events:1']);
    await a.m.requestRound('test');
    assert.ok(a.m.holds('events:1'));
    await pool.query(
      'CREATE TABLE IF NOT EXISTS fenced_write (id INT PRIMARY KEY, who VARCHAR(8))',
    );
    // While a holds the lease, its fenced write commits.
    const write = async (m: LeaseManager, id: number): Promise<void> => {
      const conn = await pool.getConnection();
      try {
        await conn.beginTransaction();
        await conn.query('INSERT INTO fenced_write VALUES (?, ?)', [id, m.member]);
        await m.fence('events:1')(conn);
        await conn.commit();
      } catch (err) {
        await conn.rollback();
        throw err;
      } finally {
        conn.release();
      }
    };
    await write(a.m, 1);
    // a pauses (no more ticks); b takes the unit once the lease has expired in the database.
    const b = member('b', false);
    b.gate.offer(['events:1']);
    await waitFor(
      async () => {
        await b.m.requestRound('test');
        return b.m.holds('events:1');
      },
      LEASE_S * 3000,
      'b taking events:1',
    );
    assert.equal(a.m.holds('events:1'), false);
    // a wakes up mid-transaction: its write is refused and rolled back.
    await assert.rejects(write(a.m, 2), LeaseLost);
    await write(b.m, 3);
    const [rows] = await pool.query<RowDataPacket[]>(
      'SELECT id, who FROM fenced_write ORDER BY id',
    );
    assert.deepEqual(
      rows.map((r) => [r.id, r.who]),
      [
        [1, 'a'],
        [3, 'b'],
      ],
    );
    const [lease] = await pool.query<RowDataPacket[]>(
      "SELECT token FROM tsync_cluster_lease WHERE unit = 'events:1'",
    );
    assert.equal(String(lease[0].token), '2', 'each take increments the fencing token');
  });

  it('records a file as stored in one transaction fenced by the buffer lease; a member that lost the lease cannot', async () => {
    const a = member('a', false);
    const address = '10.0.0.1:41121';
    a.gate.offer([`pull:${address}`]);
    await a.m.requestRound('test');
    const d = new DbDeliveries(pool, a.m);
    const file = { name: 'agent.data', size: 10, sha1: 'a'.repeat(40) };
    const other = { name: 'other.data', size: 10, sha1: 'b'.repeat(40) };
    assert.equal(await d.state(address, file), null);
    assert.equal(await d.record(address, file), true);
    assert.equal(await d.state(address, file), 'stored');
    assert.equal(await d.state(address, { ...file, size: 11 }), null);
    // A second record of the same file writes nothing: it is somebody's already.
    assert.equal(await d.record(address, file), false);
    assert.equal(await d.storedHere(file), address);
    assert.equal(await d.storedHere(other), null);
    await d.forget(address, file);
    assert.equal(await d.state(address, file), null);
    assert.equal(await d.record(address, file), true);
    // A record left by an earlier version (`storing`) was never a commitment: not done.
    await pool.query(
      "INSERT INTO tsync_cluster_delivery VALUES (?, ?, ?, ?, 'storing', 'a', 'a/1', 1, NOW(6))",
      [`pull:${address}`, other.name, other.size, other.sha1],
    );
    assert.equal(await d.state(address, other), null);
    // a stops: its lease is gone, so it can commit nothing more.
    await a.m.close();
    await assert.rejects(d.record(address, { ...file, name: 'late.data' }), LeaseLost);
    // Its next run (same member name, new session) finds its own records by member name.
    const again = member('a', false);
    again.gate.offer([`pull:${address}`]);
    await again.m.requestRound('test');
    const d2 = new DbDeliveries(pool, again.m);
    assert.equal(await d2.storedHere(file), address);
    // Another member does not see a's records as its own.
    const b = member('b', false);
    assert.equal(await new DbDeliveries(pool, b.m).storedHere(file), null);
    // Not yet placed: kept even when the buffer no longer lists the file (its temp file may
    // still wait for a's restart).
    await d2.prune(address, []);
    assert.equal(await d2.state(address, file), 'stored');
    // a's restart has settled its temp files: its earlier records are placed.
    assert.equal(await d2.placedEarlier(), 1);
    assert.equal(await d2.storedHere(file), null);
    assert.equal(await d2.state(address, file), 'stored', 'placed is done too');
    // A placed record lasts until the buffer no longer lists the file (old `storing` ones too).
    await d2.prune(address, ['agent.data', 'other.data']);
    assert.equal(await d2.state(address, file), 'stored');
    await d2.prune(address, []);
    assert.equal(await d2.state(address, file), null);
    // This run's own file: placed right after its rename.
    assert.equal(await d2.record(address, other), true);
    await d2.placed(address, other);
    assert.equal(await d2.storedHere(other), null);
    await d2.prune(address, []);
    const [left] = await pool.query<RowDataPacket[]>('SELECT * FROM tsync_cluster_delivery');
    assert.equal(left.length, 0);
  });

  it('after close every call fails with the reason; options it cannot use are refused with their name', async () => {
    const a = member('a', false);
    await a.m.requestRound('test');
    await a.m.close('leaving');
    const closed = (err: unknown): boolean =>
      err instanceof ClusterError &&
      err.code === 'ERR_CLUSTER_CLOSED' &&
      err.facts.reason === 'leaving';
    await assert.rejects(a.m.requestRound('later'), closed);
    assert.throws(() => a.m.start(), closed);
    assert.equal(a.m.holds('events:1'), false);
    await assert.rejects(a.m.fence('events:1')({ query: async () => [{}] }), LeaseLost);
    const option = (name: string) => (err: unknown) =>
      err instanceof ClusterError && err.code === 'ERR_CLUSTER_OPTION' && err.facts.name === name;
    assert.throws(
      () => new LeaseManager({ db: pool, member: 'x', leaseMs: 10 }),
      option('leaseMs'),
    );
    assert.throws(() => new LeaseManager({ db: pool, member: ' ' }), option('clusterMember'));
  });

  it('the database stopped for longer than a lease: nobody works, then every unit is held once again', async () => {
    const a = member('a');
    const b = member('b');
    await waitFor(() => allHeldOnce([a.m, b.m]), 20_000, 'a spread over a and b');
    const sampler = setInterval(() => noDoubleHolder([a.m, b.m]), 20);
    try {
      await db.stop();
      await waitFor(
        () => ALL.every((u) => !a.m.holds(u) && !b.m.holds(u)),
        LEASE_S * 2000,
        'both members stopping work',
      );
      assert.ok(a.m.state().problem, 'the problem is reported');
      await sleep(LEASE_S * 1000);
      await db.start();
      await waitFor(() => allHeldOnce([a.m, b.m]), 30_000, 'every unit held once again');
      assert.equal(a.m.state().problem, null);
    } finally {
      clearInterval(sampler);
    }
  });
});
