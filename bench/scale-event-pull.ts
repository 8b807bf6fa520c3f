/**
 * Issue 26, event-pull: N Instances (default 10, 50, 100) on one MariaDB server, each receiving
 * R events/s (default 50, a tick every 500 ms), copied into one Command Center by one
 * EventPuller (interval 1 s). A tick's lag is the time from its INSERT to its last event being
 * visible in the copy. Beside it, in the same run and on the same Instances and load, the
 * baseline: a bare loop per Instance of INSERT ... SELECT id > last (no names, no comments, no
 * checkpoint, no transactions of our own) every interval, the floor of a polling copier.
 * Both copiers run at the same time, each in a child process of its own (its CPU and peak RSS
 * are its alone), so both meet the same machine; this process drives the load and watches both
 * copies. The MariaDB server's CPU (from /proc) is given per event for everything together.
 *
 *   node dist/bench/scale-event-pull.js [sizes=10,50,100] [seconds=20] [rate=50] [intervalMs=1000]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { createPool, type DbFacts, type Pool } from '../lib/db/pool';
import { schemaStatements } from '../lib/db/schema';
import { EVENT_PULL_CC_CONNECTIONS, EventPuller } from '../lib/events';
import { createCommandCenter, createInstance } from '../test/events/fixtures/pandora';
import { startMariaDb, type PrivateMariaDb } from '../test/helpers/mariadb';
import { sleep } from '../test/helpers/wait';
import { cpuMs, percentile, rssPeak } from './support/measure';
import { writePlot } from './support/plot';

const TICK_MS = 500;
const GOAL_P99_S = 2;

const instanceName = (k: number) => `ev_i${k + 1}`;

/** CPU time (ms) a process has used so far (utime + stime of /proc/<pid>/stat). */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

type Kind = 'baseline' | 'pull';

/** What a copier child was told: which copier, how many Instances, where. */
interface CopierJob {
  kind: Kind;
  n: number;
  intervalMs: number;
  facts: DbFacts;
  cc: string;
  /** Each Instance's last event id when the run starts (the baseline's cursors). */
  start: number[];
}

/** What a copier child reports when told to stop. */
interface CopierReport {
  cpuMs: number;
  rssMiB: number;
}

/**
 * The child: runs one copier from the moment it says `ready` until stdin closes, then prints
 * its CPU and peak RSS over that time as JSON.
 */
async function copierChild(job: CopierJob): Promise<void> {
  let stop = false;
  let finish: () => Promise<void>;
  if (job.kind === 'pull') {
    const pool = createPool(
      { ...job.facts, database: job.cc },
      // As the node opens it; EVB_CC_POOL=4 measures the shared pandora-config pool it replaced.
      { connectionLimit: Number(process.env.EVB_CC_POOL ?? EVENT_PULL_CC_CONNECTIONS) },
    );
    const puller = new EventPuller({ cc: pool, intervalMs: job.intervalMs });
    puller.on('batch', () => {});
    puller.start();
    finish = async () => {
      await puller.close('bench');
      await pool.end();
    };
  } else {
    const pool = createPool({ ...job.facts, database: job.cc }, { connectionLimit: job.n });
    const loops = job.start.map(async (from, i) => {
      let last = from;
      while (!stop) {
        const t = Date.now();
        const c = await pool.getConnection();
        try {
          await c.query(
            `INSERT INTO copy SELECT ?, id_evento, evento, utimestamp, estado FROM \`${instanceName(i)}\`.tevento WHERE id_evento > ? ORDER BY id_evento LIMIT 1000`,
            [i + 1, last],
          );
          const [[row]] = await c.query<RowDataPacket[]>(
            'SELECT COALESCE(MAX(id_source_event), 0) AS n FROM copy WHERE server_id = ?',
            [i + 1],
          );
          last = Math.max(last, Number(row.n));
        } finally {
          // Kept by this loop: one connection per Instance, as a bare copier would hold it.
          c.release();
        }
        await sleep(Math.max(0, job.intervalMs - (Date.now() - t)));
      }
    });
    finish = async () => {
      await Promise.all(loops);
      await pool.end();
    };
  }
  const cpu0 = process.cpuUsage();
  const rss = rssPeak();
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => {
    process.stdin.on('data', () => {});
    process.stdin.on('end', resolve);
  });
  stop = true;
  const report: CopierReport = { cpuMs: cpuMs(cpu0), rssMiB: rss.stop() };
  await finish();
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/** Starts a copier child; resolves once it is copying, with the way to stop it. */
async function startCopier(
  job: CopierJob,
): Promise<{ pid: number; stop(): Promise<CopierReport> }> {
  const child = spawn(process.execPath, [__filename, 'copier', JSON.stringify(job)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const next = (): Promise<string> =>
    new Promise((resolve, reject) => {
      lines.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`copier exited with ${code}`)));
    });
  if ((await next()) !== 'ready') throw new Error('copier did not start');
  return {
    pid: child.pid!,
    async stop() {
      const report = next();
      child.stdin!.end();
      return JSON.parse(await report) as CopierReport;
    },
  };
}

/** One tick's rows for one Instance, as test/events/fixtures/pandora.ts shapes them. */
function rows(n: number, first: number): unknown[][] {
  const now = Math.floor(Date.now() / 1000);
  const ts = new Date(now * 1000).toISOString().slice(0, 19).replace('T', ' ');
  return Array.from({ length: n }, (_, k) => {
    const i = first + k;
    return [
      7,
      '0',
      i % 3 === 0 ? 0 : 2,
      0,
      ts,
      `Event&#x20;#${i}`,
      now,
      'system',
      i % 2 ? 0 : 11,
      0,
      i % 7,
      '',
      0,
    ];
  });
}

/**
 * Connections each copier has open now, by their database: the baseline's all on its Command
 * Center, the puller's on its Command Center and on the Instances (the probes' one each left out).
 */
async function connectionsNow(load: Pool, n: number): Promise<{ baseline: number; pull: number }> {
  const [rs] = await load.query<RowDataPacket[]>(
    "SELECT SUM(DB = ?) AS b, SUM(DB = ? OR DB LIKE 'ev\\_i%') AS p FROM information_schema.PROCESSLIST",
    [`baseline_cc_${n}`, `pull_cc_${n}`],
  );
  return { baseline: Number(rs[0].b) - 1, pull: Number(rs[0].p) - 1 };
}

/** The highest event id of each of the first `n` Instances (where both copiers start). */
async function lastIds(load: Pool, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const [[r]] = await load.query<RowDataPacket[]>(
      `SELECT COALESCE(MAX(id_evento), 0) AS n FROM \`${instanceName(i)}\`.tevento`,
    );
    out.push(Number(r.n));
  }
  return out;
}

interface Run {
  lagP50: number;
  lagP99: number;
  /** Microseconds of the copier process's CPU per event copied. */
  copierCpuPerEventUs: number;
  /** Events inserted (the load this machine could drive). */
  events: number;
  /** Peak RSS of the copier's process. */
  rssMiB: number;
  /** Most server connections the copier had open at once. */
  connections: number;
}

/** Prepares a copier's Command Center database and starts its child. */
async function startRun(
  db: PrivateMariaDb,
  kind: Kind,
  n: number,
  start: number[],
  intervalMs: number,
) {
  const cc = `${kind}_cc_${n}`;
  const entries = Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    name: instanceName(i),
    port: db.port,
    dbname: instanceName(i),
  }));
  await createCommandCenter(db, cc, entries);
  const probe = createPool({ ...db.facts, database: cc }, { connectionLimit: 1 });
  if (kind === 'pull') {
    for (const s of schemaStatements('event-copy')) await probe.query(s);
    // The puller starts at the Instances' current last event, as the baseline does (the
    // backlog of earlier runs is not this run's load).
    for (let i = 0; i < n; i++) {
      await probe.query('INSERT INTO tevent_pull_checkpoint (server_id, last_id) VALUES (?, ?)', [
        i + 1,
        start[i],
      ]);
    }
  } else {
    await probe.query(
      'CREATE TABLE copy (server_id INT NOT NULL, id_source_event BIGINT NOT NULL, evento TEXT, utimestamp BIGINT, estado TINYINT, PRIMARY KEY (server_id, id_source_event))',
    );
  }
  const table = kind === 'pull' ? 'tmetaconsole_event' : 'copy';
  /** The highest id copied of each Instance. */
  const copied = async (): Promise<Map<number, number>> => {
    const [rs] = await probe.query<RowDataPacket[]>(
      `SELECT server_id AS s, MAX(id_source_event) AS n FROM ${table} GROUP BY server_id`,
    );
    return new Map(rs.map((r) => [Number(r.s), Number(r.n)]));
  };
  const copier = await startCopier({
    kind,
    n,
    intervalMs,
    facts: { ...db.facts, database: cc },
    cc,
    start,
  });
  return { kind, probe, copied, copier, seenAt: [] as number[], cpu0: processCpuMs(copier.pid) };
}

/**
 * Runs both copiers at once on the first `n` Instances for `seconds` under one load, so that
 * both meet the same machine (2 shared cores whose load swings from minute to minute): each
 * tick's lag in each copy, each copier's CPU, the server's CPU (for both), the connections.
 */
async function run(
  db: PrivateMariaDb,
  load: Pool,
  n: number,
  opts: { seconds: number; rate: number; intervalMs: number },
): Promise<{ base: Run; pull: Run; serverUsPerEvent: number }> {
  const start = await lastIds(load, n);
  const base = await startRun(db, 'baseline', n, start, opts.intervalMs);
  const pull = await startRun(db, 'pull', n, start, opts.intervalMs);
  const both = [base, pull];
  const perTick = Math.max(1, Math.round((opts.rate * TICK_MS) / 1000));
  const ticks: { inst: number; lastId: number; at: number }[] = [];
  let driving = true;
  const most = { baseline: 0, pull: 0 };
  const server0 = processCpuMs(db.pid!);
  const end = Date.now() + opts.seconds * 1000;
  const pending = () =>
    both.some((r) => r.seenAt.filter((x) => x !== undefined).length < ticks.length);
  const watcher = (async () => {
    while (driving || pending()) {
      for (const r of both) {
        const max = await r.copied();
        const now = Date.now();
        ticks.forEach((t, k) => {
          if (r.seenAt[k] === undefined && (max.get(t.inst + 1) ?? 0) >= t.lastId)
            r.seenAt[k] = now;
        });
      }
      const open = await connectionsNow(load, n);
      most.baseline = Math.max(most.baseline, open.baseline);
      most.pull = Math.max(most.pull, open.pull);
      if (!driving && Date.now() > end + 30_000) break;
      await sleep(50);
    }
  })();
  let counter = 0;
  while (Date.now() < end) {
    const t = Date.now();
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const [res] = await load.query<ResultSetHeader>(
          `INSERT INTO \`${instanceName(i)}\`.tevento (id_agente, id_usuario, id_grupo, estado, timestamp, evento, utimestamp, event_type, id_agentmodule, id_alert_am, criticity, owner_user, ack_utimestamp) VALUES ?`,
          [rows(perTick, counter)],
        );
        ticks.push({ inst: i, lastId: Number(res.insertId) + perTick - 1, at: t });
      }),
    );
    counter += perTick;
    await sleep(Math.max(0, TICK_MS - (Date.now() - t)));
  }
  driving = false;
  await watcher;
  const events = ticks.length * perTick;
  const serverCpu = processCpuMs(db.pid!) - server0;
  const out: Run[] = [];
  for (const r of both) {
    const copierCpu = processCpuMs(r.copier.pid) - r.cpu0;
    const report = await r.copier.stop();
    await r.probe.end();
    const lags = ticks.map((t, k) => (r.seenAt[k] ?? Infinity) - t.at);
    out.push({
      lagP50: percentile(lags, 50),
      lagP99: percentile(lags, 99),
      copierCpuPerEventUs: (copierCpu * 1000) / events,
      events,
      rssMiB: report.rssMiB,
      connections: most[r.kind],
    });
  }
  return { base: out[0], pull: out[1], serverUsPerEvent: (serverCpu * 1000) / events };
}

const fmt = (r: Run) =>
  `lag p50 ${r.lagP50} ms, p99 ${r.lagP99} ms; copier CPU ${r.copierCpuPerEventUs.toFixed(0)} µs/event; connections ${r.connections}; copier peak RSS ${r.rssMiB.toFixed(0)} MiB`;

async function main(): Promise<void> {
  const sizes = (process.argv[2] ?? '10,50,100').split(',').map(Number);
  const opts = {
    seconds: Number(process.argv[3] ?? 20),
    rate: Number(process.argv[4] ?? 50),
    intervalMs: Number(process.argv[5] ?? 1000),
  };
  const db = await startMariaDb();
  const started = Date.now();
  try {
    const most = Math.max(...sizes);
    console.log(
      `scale-event-pull: ${sizes.join(', ')} Instances on one MariaDB server, ${opts.rate} events/s each (a tick every ${TICK_MS} ms), interval ${opts.intervalMs} ms, ${opts.seconds} s per run`,
    );
    for (let k = 0; k < most; k += 10) {
      await Promise.all(
        Array.from({ length: Math.min(10, most - k) }, (_, j) =>
          createInstance(db, instanceName(k + j)),
        ),
      );
    }
    console.log(`${most} Instances created in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    // The load and the lag probe: a few connections of their own, fully qualified names.
    const load = createPool({ ...db.facts, database: 'mysql' }, { connectionLimit: 4 });
    const results: { n: number; base: Run; pull: Run; serverUsPerEvent: number }[] = [];
    for (const n of sizes) {
      const r = await run(db, load, n, opts);
      console.log(
        `${n} Instances, ${r.base.events} events inserted, MariaDB CPU ${r.serverUsPerEvent.toFixed(0)} µs/event (both copiers and the load)`,
      );
      console.log(`  baseline INSERT...SELECT loop: ${fmt(r.base)}`);
      console.log(`  event-pull:                    ${fmt(r.pull)}`);
      results.push({ n, ...r });
    }
    await load.end();
    const first = results[0];
    for (const r of results) {
      console.log(
        `${r.n} Instances: copier CPU per event event-pull/baseline x${(r.pull.copierCpuPerEventUs / r.base.copierCpuPerEventUs).toFixed(2)}; vs ${first.n} Instances: event-pull x${(r.pull.copierCpuPerEventUs / first.pull.copierCpuPerEventUs).toFixed(2)}, baseline x${(r.base.copierCpuPerEventUs / first.base.copierCpuPerEventUs).toFixed(2)}`,
      );
    }
    const series = (f: (r: Run) => number) => [
      { name: 'event-pull', points: results.map((r) => [r.n, f(r.pull)] as [number, number]) },
      {
        name: 'baseline INSERT…SELECT loop',
        points: results.map((r) => [r.n, f(r.base)] as [number, number]),
      },
    ];
    writePlot({
      file: 'event-pull-lag.svg',
      title: `event-pull: lag p99, ${opts.rate} events/s per Instance, interval ${opts.intervalMs / 1000} s`,
      xLabel: 'Instances',
      yLabel: 'lag p99 (s)',
      series: series((r) => r.lagP99 / 1000),
      goal: { value: GOAL_P99_S, label: 'goal ≤ 2 s at 100' },
    });
    writePlot({
      file: 'event-pull-cpu.svg',
      title: "event-pull: the copier process's CPU per event",
      xLabel: 'Instances',
      yLabel: 'µs per event',
      series: series((r) => r.copierCpuPerEventUs),
    });
    writePlot({
      file: 'event-pull-rss.svg',
      title: "event-pull: the copier process's peak RSS",
      xLabel: 'Instances',
      yLabel: 'MiB',
      series: series((r) => r.rssMiB),
    });
    console.log(`whole run ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await db.destroy();
  }
}

if (process.argv[2] === 'copier') {
  copierChild(JSON.parse(process.argv[3]) as CopierJob).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
