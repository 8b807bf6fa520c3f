/**
 * instance-query at the size of a large Command Center (issue 26): `agents` and `tactical` over
 * 10, 50, 100 Instances × 5,000 agents, every Instance its own database on one MariaDB.
 * Baseline in the same run: the very SELECT the engine sends, to all n Instances in parallel on n
 * connections opened beforehand, without the package (goal: the engine ≤ 1.5× of it). `agents`
 * is asked with limit 5,000 (every agent) and with the default limit 1,000: the engine's peak RSS
 * must follow the limit, not Instances × agents. Beside each size: the connections the engine
 * opened during its timed runs (0 when its pools reuse them). Median of R runs after a warm-up.
 * Plots: docs/plots/instance-query-scale-{ratio,time,rss}.svg.
 *
 *   node dist/bench/scale-instance-query.js [sizes=10,50,100] [agents=5000] [runs=3]
 */
import mysql from 'mysql2/promise';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { createPool, type Pool } from '../lib/db/pool';
import { InstanceQuery } from '../lib/query';
import { planRead } from '../lib/query/reads';
import { startMariaDb, type PrivateMariaDb } from '../test/helpers/mariadb';
import { seedInstances, seedRegistry } from './_query-seed';
import { percentile, rssPeak } from './support/measure';
import { writePlot } from './support/plot';

const SIZES = (process.argv[2] ?? '10,50,100').split(',').map(Number);
const AGENTS = Number(process.argv[3] ?? 5000);
const RUNS = Number(process.argv[4] ?? 3);
const PREFIX = 'sq';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const median = (xs: number[]) => percentile(xs, 50);

interface Case {
  label: string;
  kind: 'agents' | 'tactical';
  limit: number;
}

// In the order of the memory they need: RSS only grows within a process, so each case's peak
// is its own once the one before needed less.
const CASES: Case[] = [
  { label: 'tactical', kind: 'tactical', limit: 1000 },
  { label: 'agents, limit 1000', kind: 'agents', limit: 1000 },
  { label: `agents, limit ${AGENTS}`, kind: 'agents', limit: AGENTS },
];

interface Figures {
  engine: number;
  baseline: number;
  rows: number;
  rssMiB: number;
  opened: number;
}

async function connectionsOpened(c: mysql.Connection): Promise<number> {
  const [rows] = await c.query<mysql.RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Connections'");
  return Number(rows[0].Value);
}

async function measure(db: PrivateMariaDb, cc: Pool, n: number, c: Case): Promise<Figures> {
  const plan = planRead(c.kind, {}, c.limit);
  const conns = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      mysql.createConnection({
        ...db.facts,
        database: `${PREFIX}${i + 1}`,
        supportBigNumbers: true,
        bigNumberStrings: true,
        dateStrings: true,
        charset: 'utf8mb4',
      }),
    ),
  );
  const status = await db.connect();
  const q = new InstanceQuery({ cc, limit: c.limit, timeoutMs: 300_000 });
  const time = async (f: () => Promise<unknown>) => {
    const t = performance.now();
    await f();
    return performance.now() - t;
  };
  const baseline = () =>
    Promise.all(conns.map((k) => k.query(plan.statement.sql, plan.statement.params)));
  let rows = 0;
  const engine = async () => {
    const a = await q.run(c.kind, {});
    rows = a.rows.length;
    if (a.instances.some((i) => !i.ok)) throw new Error(JSON.stringify(a.instances[0]));
  };
  // Warm-up: the engine opens its pools, the server caches the pages.
  await baseline();
  await engine();
  const base: number[] = [];
  const ours: number[] = [];
  let rss = 0;
  let opened = 0;
  for (let r = 0; r < RUNS; r++) {
    base.push(await time(baseline));
    gc();
    const before = await connectionsOpened(status);
    const peak = rssPeak(5);
    ours.push(await time(engine));
    rss = Math.max(rss, peak.stop());
    // The SHOW itself is one statement on an open connection: no connection of its own.
    opened += (await connectionsOpened(status)) - before;
  }
  await q.close('bench over');
  await Promise.all(conns.map((k) => k.end()));
  await status.end();
  return { engine: median(ours), baseline: median(base), rows, rssMiB: rss, opened };
}

async function main(): Promise<void> {
  const max = Math.max(...SIZES);
  // Each Instance has its own server and buffer pool in life; here all share one, given room
  // for every Instance's pages so that the figures measure the package, not the disk.
  const db = await startMariaDb({ args: ['--innodb-buffer-pool-size=2G'] });
  try {
    const t0 = performance.now();
    await seedInstances(db, PREFIX, max, AGENTS);
    console.log(
      `scale-instance-query: ${max} Instances x ${AGENTS} agents seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s; median of ${RUNS} runs; load ${(await import('node:os')).loadavg()[0].toFixed(1)}`,
    );
    const results = new Map<string, [number, Figures][]>();
    for (const n of SIZES) {
      await seedRegistry(db, `sqcc${n}`, PREFIX, n);
      const cc = createPool({ ...db.facts, database: `sqcc${n}` });
      for (const c of CASES) {
        const f = await measure(db, cc, n, c);
        results.set(c.label, [...(results.get(c.label) ?? []), [n, f]]);
        console.log(
          `  ${String(n).padStart(3)} Instances, ${c.label.padEnd(20)}: engine ${f.engine.toFixed(0)} ms, ${n} SELECTs in parallel ${f.baseline.toFixed(0)} ms -> x${(f.engine / f.baseline).toFixed(2)} (goal <= 1.5); ${f.rows} rows; peak RSS ${f.rssMiB.toFixed(0)} MiB; connections opened in ${RUNS} runs: ${f.opened}`,
        );
      }
      await cc.end();
    }
    const series = (pick: (f: Figures) => number, label = (l: string) => l) =>
      CASES.map((c) => ({
        name: label(c.label),
        points: (results.get(c.label) ?? []).map(([n, f]) => [n, pick(f)] as [number, number]),
      }));
    writePlot({
      file: 'instance-query-scale-ratio.svg',
      title: 'instance-query: time / n SELECTs in parallel',
      xLabel: 'Instances (5,000 agents each)',
      yLabel: 'ratio',
      series: series((f) => f.engine / f.baseline),
      goal: { value: 1.5, label: 'goal ≤ 1.5' },
    });
    writePlot({
      file: 'instance-query-scale-time.svg',
      title: 'instance-query: time of one message',
      xLabel: 'Instances (5,000 agents each)',
      yLabel: 'ms',
      series: [
        ...series(
          (f) => f.engine,
          (l) => `engine: ${l}`,
        ),
        ...series(
          (f) => f.baseline,
          (l) => `baseline: ${l}`,
        ),
      ],
    });
    writePlot({
      file: 'instance-query-scale-rss.svg',
      title: 'instance-query: peak RSS during a message',
      xLabel: 'Instances (5,000 agents each)',
      yLabel: 'MiB',
      series: series((f) => f.rssMiB),
    });
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
