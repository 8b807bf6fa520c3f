/**
 * Database faults under event pulling and replication, both running in this process while a
 * producer keeps adding events, queue items (non-idempotent increments) and Command Center rows:
 *  - an Instance's MariaDB (its own server) stopped and started, once cleanly, once with SIGKILL;
 *  - the Command Center's MariaDB killed (SIGKILL) and stopped (SIGTERM) while rounds run, so
 *    transactions are cut mid-way;
 *  - a full disk: both servers' datadirs live on small tmpfs mounts that the test fills up.
 * At the end of each: counts exact, nothing twice, the queue drained, tables converged, and the
 * failure reported once per outage (event-pull `problem` events; replicator state changes).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Connection } from 'mysql2/promise';
import { createPool, Pool } from '../../lib/db/pool';
import { EventPuller, PullProblem } from '../../lib/events';
import { InstanceState, Replicator } from '../../lib/replicate';
import { createCommandCenter, createInstance, insertEvents } from '../events/fixtures/pandora';
import { worded } from '../events/fixtures/words';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { until, waitFor } from '../helpers/wait';
import { dump, makeSite, Site } from '../replicate/fixture';
import { wordsOf } from '../replicate/words';
import { seedFromEnv, seeded, sleep, within } from './util';

const TABLE_SOURCE = ['ttag', 'tusuario'];

async function enqueue(cc: Pool, target: number, sqls: string[]): Promise<void> {
  await cc.query(
    'INSERT INTO tsync_queue (`sql`, target, utimestamp, operation, `table`, error, result) VALUES ?',
    [sqls.map((s) => [s, target, 0, s.split(' ')[0], 'tgrupo', '', ''])],
  );
}

/** A tmpfs of `mb` MiB at a fresh directory, or null when this machine refuses mounts. */
function tmpfs(mb: number): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'fault-db-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mb}m`, 'tmpfs', dir], { stdio: 'pipe' });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
}

function unmount(dir: string | null): void {
  if (!dir) return;
  try {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  } catch {
    // Already gone.
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Writes a filler file until the filesystem is full. */
function fill(dir: string): void {
  const fd = openSync(join(dir, 'filler'), 'w');
  const block = Buffer.alloc(256 * 1024);
  try {
    for (let i = 0; i < 100_000; i++) writeSync(fd, block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

function unfill(dir: string): void {
  rmSync(join(dir, 'filler'), { force: true });
}

async function count(c: Connection | Pool, sql: string, args: unknown[] = []): Promise<number> {
  const [rows] = (await c.query(sql, args)) as unknown as [{ n: string | number }[]];
  return Number(rows[0].n);
}

/** Queue-source and table-source replicators back to back, recording each Instance's states. */
class ReplicationLoop {
  /** Entries into `failing` per replicator and Instance, e.g. `queue:2`. */
  readonly failings = new Map<string, number>();
  readonly errors: string[] = [];
  /** Rounds that could not start (Command Center down), counted once per run of failures. */
  roundOutages = 0;
  private readonly last = new Map<string, InstanceState>();
  private stopped = false;
  /** The state the last round of `name` (queue or tables) left Instance `id` in. */
  stateOf(key: string): InstanceState | undefined {
    return this.last.get(key);
  }
  private readonly done: Promise<void>;
  private readonly reps: [string, Replicator][];

  constructor(cc: Pool) {
    this.reps = [
      [
        'queue',
        new Replicator({
          cc,
          useTables: false,
          queueBatch: 50,
          backoffBaseMs: 20,
          backoffMaxMs: 300,
        }),
      ],
      ['tables', new Replicator({ cc, useQueue: false, objects: ['tags', 'users'] })],
    ];
    this.done = this.run();
  }

  private async run(): Promise<void> {
    let down = false;
    while (!this.stopped) {
      for (const [name, rep] of this.reps) {
        try {
          for (const r of await rep.requestRound('test')) {
            const key = `${name}:${r.instance.id}`;
            if (r.state === 'failing' && this.last.get(key) !== 'failing') {
              this.failings.set(key, (this.failings.get(key) ?? 0) + 1);
            }
            this.last.set(key, r.state);
            this.errors.push(...wordsOf(r.errors));
          }
          down = false;
        } catch (err) {
          if (!down) this.roundOutages++;
          down = true;
          this.errors.push(String(err));
        }
      }
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.done;
    for (const [, rep] of this.reps) await rep.close('test');
  }
}

interface Rig {
  evCc: Pool;
  puller: EventPuller;
  problems: PullProblem[];
  recovered: string[];
  site: Site;
  loop: ReplicationLoop;
  /** Events inserted per instance, increments and keyless INSERTs queued per node. */
  events: [number, number];
  queued: [number, number];
  inserts: [number, number];
  serial: number;
}

describe('fault: database outages and a full disk under event-pull and replication', () => {
  let ccDir: string | null = null;
  let i2Dir: string | null = null;
  let ccDb: PrivateMariaDb;
  let i1Db: PrivateMariaDb;
  let i2Db: PrivateMariaDb;
  const seed = seedFromEnv();
  const rnd = seeded(seed);
  // Engines still running when a case fails: stopped in after(), so the process can exit.
  const running: Rig[] = [];
  const logDir = mkdtempSync(join(tmpdir(), 'fault-db-logs-'));

  /** The server's own log, for a failure's report (the tmpfs goes away with the test). */
  function serverLog(db: PrivateMariaDb | undefined): string {
    try {
      return readFileSync(join(db?.dir ?? '', 'error.log'), 'utf8')
        .split('\n')
        .slice(-15)
        .join('\n');
    } catch {
      return '';
    }
  }

  before(async () => {
    // The Command Center's and the second Instance's servers live on small tmpfs mounts when
    // the machine allows it, so the full-disk case can fill them.
    ccDir = tmpfs(320);
    i2Dir = tmpfs(320);
    // The servers' logs live off the tmpfs, so a full disk does not silence them.
    for (const dir of [ccDir, i2Dir]) {
      if (dir) symlinkSync(join(logDir, `${dir.slice(-6)}.log`), join(dir, 'error.log'));
    }
    // One at a time: parallel mariadb-install-db runs have tripped over each other's temp tables.
    ccDb = await startMariaDb(ccDir ? { dir: ccDir } : {});
    i1Db = await startMariaDb();
    i2Db = await startMariaDb(i2Dir ? { dir: i2Dir } : {});
    console.log(`# db-faults seed ${seed}; tmpfs ${ccDir && i2Dir ? 'mounted' : 'not available'}`);
  });
  after(async () => {
    for (const r of running) {
      await within(r.puller.close(), 10_000, 'puller close').catch(() => undefined);
      await within(r.loop.stop(), 10_000, 'replication stop').catch(() => undefined);
    }
    if (process.env.FAULT_DEBUG) {
      for (const db of [ccDb, i2Db]) console.error(`# ${db?.dir} error.log:\n${serverLog(db)}`);
    }
    await Promise.all([ccDb?.destroy(), i1Db?.destroy(), i2Db?.destroy()]);
    unmount(ccDir);
    unmount(i2Dir);
    if (!process.env.FAULT_DEBUG) rmSync(logDir, { recursive: true, force: true });
  });

  async function rig(prefix: string): Promise<Rig> {
    await createInstance(i1Db, `${prefix}_ev1`);
    await createInstance(i2Db, `${prefix}_ev2`);
    await createCommandCenter(ccDb, `${prefix}_evcc`, [
      { id: 1, name: 'one', port: i1Db.port, dbname: `${prefix}_ev1` },
      { id: 2, name: 'two', port: i2Db.port, dbname: `${prefix}_ev2` },
    ]);
    const evCc = createPool({ ...ccDb.facts, database: `${prefix}_evcc` });
    const puller = new EventPuller({
      cc: evCc,
      intervalMs: 50,
      batchSize: 100,
      maxBackoffMs: 400,
      queryTimeoutMs: 5000,
    });
    const problems: PullProblem[] = [];
    const recovered: string[] = [];
    puller.on('problem', (p: PullProblem) => problems.push(p));
    puller.on('recovered', (r: { key: string }) => recovered.push(r.key));
    const site = await makeSite(
      ccDb,
      [
        { db: i1Db, name: `${prefix}_rp1` },
        { db: i2Db, name: `${prefix}_rp2` },
      ],
      `${prefix}_rpcc`,
    );
    for (const n of site.nodes) {
      await n.query("INSERT INTO tgrupo (id_grupo, nombre, max_agents) VALUES (30, 'counter', 0)");
    }
    puller.start();
    const loop = new ReplicationLoop(site.cc);
    running.push({} as Rig);
    const rig: Rig = {
      evCc,
      puller,
      problems,
      recovered,
      site,
      loop,
      events: [0, 0],
      queued: [0, 0],
      inserts: [0, 0],
      serial: 0,
    };
    running[running.length - 1] = rig;
    return rig;
  }

  /** One producer step; `up` says which servers take writes now (never one being stopped). */
  async function produce(
    r: Rig,
    prefix: string,
    up: { cc: boolean; i1: boolean; i2: boolean },
    bigRows = false,
  ): Promise<void> {
    for (const [i, on, db] of [
      [0, up.i1, i1Db],
      [1, up.i2, i2Db],
    ] as const) {
      if (!on) continue;
      const c = await db.connect(`${prefix}_ev${i + 1}`);
      await insertEvents(c, 120, r.events[i]);
      await c.end();
      r.events[i] += 120;
    }
    if (!up.cc) return;
    r.serial++;
    for (const target of [1, 2] as const) {
      const sqls = Array.from(
        { length: 15 },
        () => 'UPDATE tgrupo SET max_agents = max_agents + 1 WHERE id_grupo = 30',
      );
      sqls.push(
        bigRows
          ? `INSERT INTO tgrupo (nombre, other) VALUES ('q${r.serial}', REPEAT('x', 6000))`
          : `INSERT INTO tgrupo (nombre) VALUES ('q${r.serial}')`,
      );
      await enqueue(r.site.cc, target, sqls);
      r.queued[target - 1] += 15;
      r.inserts[target - 1] += 1;
    }
    await r.site.cc.query(
      "INSERT INTO tusuario (id_user, fullname, firstname, lastname, middlename, password) VALUES (?, ?, 'F', 'L', '', 'x')",
      [`u${r.serial}`, `User ${r.serial}`],
    );
    await r.site.cc.query('INSERT INTO ttag (id_tag, name, description, url) VALUES (?, ?, ?, ?)', [
      r.serial,
      `tag${r.serial}`,
      'd',
      '',
    ]);
  }

  /** Waits for everything to arrive, stops the engines and checks counts, uniqueness, tables. */
  async function settle(r: Rig, prefix: string, what: string): Promise<void> {
    const all = r.events[0] + r.events[1];
    const ok = await until(async () => {
      if ((await count(r.evCc, 'SELECT COUNT(*) AS n FROM tmetaconsole_event')) < all) return false;
      return (await count(r.site.cc, 'SELECT COUNT(*) AS n FROM tsync_queue')) === 0;
    }, 40_000);
    const converged = await until(async () => {
      const want = JSON.stringify(await dump(r.site.cc, TABLE_SOURCE));
      for (const n of r.site.nodes) {
        if (JSON.stringify(await dump(n, TABLE_SOURCE)) !== want) return false;
      }
      return true;
    }, 30_000);
    // A Command Center recovery is announced by the next registry re-read (each second).
    await until(() => {
      const keys = new Set(r.problems.map((p) => p.key));
      return [...keys].every(
        (k) =>
          r.recovered.filter((x) => x === k).length ===
          r.problems.filter((p) => p.key === k).length,
      );
    }, 5_000);
    await r.puller.close();
    await r.loop.stop();
    const left = await count(r.site.cc, 'SELECT COUNT(*) AS n FROM tsync_queue');
    const copied = await count(r.evCc, 'SELECT COUNT(*) AS n FROM tmetaconsole_event');
    console.log(
      `# ${what}: events ${copied}/${all}, queue left ${left}, event-pull problems ${r.problems.map((p) => p.key).join(',') || 'none'} recovered ${r.recovered.join(',') || 'none'}, replicator failing entries ${JSON.stringify(Object.fromEntries(r.loop.failings))}, rounds refused ${r.loop.roundOutages}`,
    );
    for (const p of r.problems) console.log(`#   problem ${p.key}: ${worded(p.error)}`);
    const sampleErrors = [...new Set(r.loop.errors.map((e) => e.replace(/\d+/g, 'N')))];
    for (const e of sampleErrors.slice(0, 6)) console.log(`#   replicator: ${e.slice(0, 160)}`);
    assert.ok(ok, `${what}: everything arrived (events ${copied}/${all}, queue ${left})`);
    assert.equal(copied, all);
    assert.equal(
      await count(
        r.evCc,
        'SELECT COUNT(DISTINCT server_id, id_source_event) AS n FROM tmetaconsole_event',
      ),
      all,
      'no event copied twice',
    );
    for (const i of [0, 1]) {
      assert.equal(
        await count(r.evCc, 'SELECT COUNT(*) AS n FROM tmetaconsole_event WHERE server_id = ?', [
          i + 1,
        ]),
        r.events[i],
      );
      const db = i === 0 ? i1Db : i2Db;
      const c = await db.connect(`${prefix}_rp${i + 1}`);
      try {
        assert.equal(
          await count(c, 'SELECT max_agents AS n FROM tgrupo WHERE id_grupo = 30'),
          r.queued[i],
          `node ${i + 1}: each increment applied once`,
        );
        assert.equal(
          await count(c, "SELECT COUNT(*) AS n FROM tgrupo WHERE nombre LIKE 'q%'"),
          r.inserts[i],
          `node ${i + 1}: each keyless INSERT made one row`,
        );
      } finally {
        await c.end();
      }
    }
    assert.ok(converged, `${what}: table-source objects converged`);
    await r.evCc.end();
    await r.site.cc.end();
    for (const n of r.site.nodes) await n.end();
  }

  const allUp = { cc: true, i1: true, i2: true };

  it("an Instance's MariaDB stopped and started twice: the other flows, it catches up, one report per outage", async () => {
    const r = await rig('io');
    for (let k = 0; k < 3; k++) {
      await produce(r, 'io', allUp);
      await sleep(150);
    }
    let outage = 0;
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      await produce(r, 'io', allUp);
      await sleep(50 + Math.floor(rnd() * 250));
      await i2Db.stop(signal);
      outage++;
      for (let k = 0; k < 4; k++) {
        await produce(r, 'io', { cc: true, i1: true, i2: false });
        await sleep(300);
      }
      await i2Db.start();
      await produce(r, 'io', allUp);
      // The next outage starts only once this one is over for every reader: two outages that
      // overlap a retry backoff would be one report, and the count below could not hold.
      await waitFor(
        () =>
          r.recovered.filter((k) => k === '2').length === outage &&
          r.loop.stateOf('queue:2') !== 'failing' &&
          r.loop.stateOf('tables:2') !== 'failing',
        30_000,
        `recovery from outage ${outage}`,
      );
    }
    await settle(r, 'io', 'instance outages');
    assert.equal(r.problems.filter((p) => p.key === '2').length, 2, 'event-pull: one per outage');
    assert.deepEqual(
      r.recovered.filter((k) => k === '2'),
      ['2', '2'],
    );
    assert.equal(r.problems.filter((p) => p.key !== '2').length, 0, 'nothing else reported');
    for (const p of r.problems) {
      assert.match(
        worded(p.error),
        /instance 2 \(two\).*(connection refused|Connection lost|closed|ECONNRESET)/i,
      );
    }
    assert.equal(r.loop.failings.get('queue:2'), 2, 'queue source: failing once per outage');
    assert.equal(r.loop.failings.get('tables:2'), 2, 'table source: failing once per outage');
    assert.equal(r.loop.failings.get('queue:1'), undefined, 'instance 1 never failed');
    assert.equal(r.loop.failings.get('tables:1'), undefined);
  });

  it("the Command Center's MariaDB killed and restarted while rounds run: nothing lost, nothing twice", async () => {
    const r = await rig('cc');
    for (let k = 0; k < 3; k++) {
      await produce(r, 'cc', allUp);
      await sleep(150);
    }
    for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
      await produce(r, 'cc', allUp);
      await produce(r, 'cc', allUp);
      // Rounds are copying and applying now: the stop cuts transactions mid-way.
      await sleep(Math.floor(rnd() * 120));
      await ccDb.stop(signal);
      for (let k = 0; k < 3; k++) {
        await produce(r, 'cc', { cc: false, i1: true, i2: true });
        await sleep(300);
      }
      await ccDb.start();
      await produce(r, 'cc', allUp);
      await sleep(200);
    }
    await settle(r, 'cc', 'Command Center outages');
    const keys = new Set(r.problems.map((p) => p.key));
    assert.ok(r.problems.length >= 2, 'the outages were reported');
    for (const key of keys) {
      const n = r.problems.filter((p) => p.key === key).length;
      assert.ok(n <= 2, `event-pull key ${key}: at most one report per outage (${n})`);
      assert.equal(r.recovered.filter((k) => k === key).length, n, `key ${key} recovered`);
    }
    assert.ok(r.loop.roundOutages + r.loop.failings.size >= 1, 'the replicator saw the outage');
    assert.ok(r.loop.roundOutages <= 2 * 2, 'replicator: rounds refused at most once per outage');
  });

  it('a full disk on the Command Center and on an Instance: writes refused and reported, all arrives once space is back', async (t) => {
    if (!ccDir || !i2Dir) {
      t.skip('mount -t tmpfs is refused here: a full disk cannot be simulated');
      return;
    }
    const r = await rig('fd');
    for (let k = 0; k < 3; k++) {
      await produce(r, 'fd', allUp);
      await sleep(150);
    }
    assert.ok(
      await until(
        async () =>
          (await count(r.evCc, 'SELECT COUNT(*) AS n FROM tmetaconsole_event')) ===
          r.events[0] + r.events[1],
        20_000,
      ),
    );
    // The Instance's disk first: its replicated rows (big keyless INSERTs) cannot be stored.
    fill(i2Dir);
    const queueFull = await until(
      async () => {
        await produce(r, 'fd', { cc: true, i1: true, i2: false }, true);
        return r.loop.errors.some((e) => /instance 2.*is full/i.test(e));
      },
      15_000,
      200,
    );
    // Then the Command Center's disk: the event copies cannot be written. MariaDB 10.11 may
    // refuse the write ("table is full") or abort outright ("[FATAL] InnoDB: Error (Out of disk
    // space) in rollback"); either way nothing may be lost or copied twice once it is back.
    fill(ccDir);
    const ccAlive = async (): Promise<boolean> => {
      try {
        await (await ccDb.connect()).end();
        return true;
      } catch {
        return false;
      }
    };
    let ccCrashed = false;
    const ccFull = await until(
      async () => {
        const c = await i1Db.connect('fd_ev1');
        await insertEvents(c, 200, r.events[0]);
        await c.end();
        r.events[0] += 200;
        if (!(await ccAlive())) ccCrashed = true;
        return ccCrashed || r.problems.some((p) => /is full/i.test(worded(p.error)));
      },
      15_000,
      200,
    );
    await sleep(1000);
    unfill(ccDir);
    unfill(i2Dir);
    if (ccCrashed || !(await ccAlive())) {
      ccCrashed = true;
      await ccDb.stop();
      await ccDb.start();
    }
    console.log(
      `# full disk: instance refused queue items (${queueFull}); Command Center ${ccCrashed ? 'aborted (MariaDB [FATAL] out of disk space) and was restarted' : 'refused the copies (table is full)'}`,
    );
    await produce(r, 'fd', allUp);
    await settle(r, 'fd', 'full disk');
    assert.ok(queueFull, 'the replicator reported the Instance full');
    assert.ok(ccFull, 'event-pull reported the Command Center full, or its server aborted');
    assert.ok(r.problems.length >= 1, 'event-pull reported the full Command Center');
    assert.equal(r.loop.failings.get('queue:2'), 1, 'queue source: failing once while full');
    for (const key of new Set(r.problems.map((p) => p.key))) {
      assert.equal(r.problems.filter((p) => p.key === key).length, 1, `key ${key}: once`);
    }
    assert.equal(r.recovered.length, r.problems.length);
  });
});
