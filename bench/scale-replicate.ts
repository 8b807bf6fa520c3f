/**
 * metaconsole-replicate at the size of a large Command Center (issue 26): 10, 50 and 100 Instance
 * databases on one MariaDB server, each with Pandora's object tables.
 *
 * 1. Fan-out: the engine runs as the node runs it (its own timer, the default options, both
 *    sources). The console changes an object on the Command Center and queues the statement for
 *    every node (as Pandora's console does once centralised), CHANGES times; the time from the
 *    change to each Instance's report of it (the statement committed there), per Instance and
 *    for the last Instance of each change. Baseline in the same run: the same UPDATE executed
 *    directly on every Instance database at once, over connections already open.
 * 2. Queue drain: ITEMS statements of Pandora's console (test/replicate/console.ts) queued over
 *    the N Instances, drained by one requested round. Baseline in the same run: the same
 *    statements executed directly, one by one, on N other databases (one connection each, the N
 *    in parallel, as the engine works its Instances). Goal: at least half the direct rate.
 *
 * Peak RSS and this process's CPU are measured for each size. Plots go to docs/plots/.
 *
 *   node dist/bench/scale-replicate.js [sizes=10,50,100] [changes=20] [items=10000]
 */
import { createPool, type Pool } from '../lib/db/pool';
import { Replicator, type ReplicaRoundReport } from '../lib/replicate';
import { startMariaDb, type PrivateMariaDb } from '../test/helpers/mariadb';
import { applySchema } from '../test/helpers/schema';
import {
  consoleRound,
  COUNTER_GROUP,
  playOnCc,
  PLUGIN_REFRESH,
  seedConsoleBase,
} from '../test/replicate/console';
import { cpuMs, percentile, rssPeak } from './support/measure';
import { writePlot } from './support/plot';

const SIZES = (process.argv[2] ?? '10,50,100').split(',').map(Number);
const CHANGES = Number(process.argv[3] ?? 20);
const ITEMS = Number(process.argv[4] ?? 10_000);

interface Figures {
  n: number;
  setupS: number;
  /** Change → every Instance's report: p50 / p99 over Instances × changes; last Instance p99. */
  eachP50: number;
  eachP99: number;
  allP99: number;
  /** A round over every Instance that finds nothing to do (median of 3), ms. */
  steadyMs: number;
  /** The same UPDATE directly on every Instance at once: p50 / p99 of the slowest. */
  directP50: number;
  directP99: number;
  fanoutCpuMsPerChange: number;
  drainRate: number;
  directRate: number;
  rssMiB: number;
}

const ms = (v: number) => v.toFixed(1);

/** A fresh database with `schemas`; the Command Center's pool as pandora-config opens it. */
async function openDb(db: PrivateMariaDb, name: string, schemas: string[]): Promise<Pool> {
  await db.freshDatabase(name);
  const p = createPool(
    { ...db.facts, database: name },
    name.startsWith('cc') ? {} : { connectionLimit: 1 },
  );
  await applySchema(p, ...schemas);
  await seedConsoleBase(p);
  return p;
}

/** `make` over `items`, four at a time, results in order. */
async function inParallel<T, R>(items: T[], make: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const at = next++;
      out[at] = await make(items[at]);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return out;
}

/** Resolves when every Instance has reported a round that applied the change made at `t0`. */
function seenOnAll(rep: Replicator, n: number, t0: number): Promise<number[]> {
  return new Promise((resolve) => {
    const at = new Map<number, number>();
    const onReport = (r: ReplicaRoundReport) => {
      if (r.topic !== 'sync' || at.has(r.instance.id)) return;
      if (r.queue.dequeued === 0 && !r.applied.tgrupo) return;
      at.set(r.instance.id, performance.now() - t0);
      if (at.size === n) {
        rep.off('report', onReport);
        resolve([...at.values()]);
      }
    };
    rep.on('report', onReport);
  });
}

async function size(db: PrivateMariaDb, n: number): Promise<Figures> {
  const setupStarted = performance.now();
  const cc = await openDb(db, `cc${n}`, ['registry', 'objects', 'sync-queue']);
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  // Four databases at a time: the schema's DDL is most of a size's setup.
  const instances = await inParallel(ids, (i) => openDb(db, `r${n}_${i}`, ['objects']));
  for (const i of ids) {
    const name = `r${n}_${i}`;
    await cc.query(
      'INSERT INTO tmetaconsole_setup (id, server_name, dbhost, dbport, dbname, dbuser, dbpass, unified) VALUES (?, ?, ?, ?, ?, ?, ?, 1)',
      [i, name, db.host, String(db.port), name, db.user, db.password],
    );
  }
  const direct = await inParallel(ids, (i) => openDb(db, `d${n}_${i}`, ['objects']));
  const setupS = (performance.now() - setupStarted) / 1000;
  const rss = rssPeak();

  // 1. Fan-out, the engine on its own timer.
  const rep = new Replicator({ cc });
  await rep.requestRound('warm-up');
  // A round that finds nothing to do: its cost per Instance must stay flat as Instances grow.
  const steady: number[] = [];
  for (let k = 0; k < 3; k++) {
    const t0 = performance.now();
    await rep.requestRound('steady');
    steady.push(performance.now() - t0);
  }
  rep.start();
  const each: number[] = [];
  const all: number[] = [];
  const targets = Array.from({ length: n }, (_, i) => i + 1);
  // As Pandora's console writes a change: the new value, not an increment (the table source may
  // bring a change before its queue item does).
  const update = (v: number) =>
    `UPDATE \`tgrupo\` SET \`max_agents\` = ${v} WHERE \`id_grupo\` = ${COUNTER_GROUP}`;
  const cpu0 = process.cpuUsage();
  for (let k = 0; k < CHANGES; k++) {
    // Changes come at any moment, not in step with the engine's look at the queue.
    await new Promise((r) => setTimeout(r, Math.random() * 1000));
    const t0 = performance.now();
    const seen = seenOnAll(rep, n, t0);
    await playOnCc(cc, [{ sql: update(k + 1), table: 'tgrupo', operation: 'UPDATE' }], targets);
    const times = await seen;
    each.push(...times);
    all.push(Math.max(...times));
  }
  const fanoutCpu = cpuMs(cpu0) / CHANGES;
  console.log(`      each change -> all (ms): ${all.map((v) => v.toFixed(0)).join(' ')}`);
  await rep.close('bench');
  const [[cc10]] = (await cc.query('SELECT max_agents FROM tgrupo WHERE id_grupo = ?', [
    COUNTER_GROUP,
  ])) as unknown as [[{ max_agents: number }]];
  for (const p of instances) {
    const [[g]] = (await p.query('SELECT max_agents FROM tgrupo WHERE id_grupo = ?', [
      COUNTER_GROUP,
    ])) as unknown as [[{ max_agents: number }]];
    if (Number(g.max_agents) !== Number(cc10.max_agents)) throw new Error('a change was lost');
  }
  // Baseline: the same UPDATE on every Instance at once, connections open.
  await Promise.all(instances.map((p) => p.query('SELECT 1')));
  const directTimes: number[] = [];
  for (let k = 0; k < CHANGES; k++) {
    const t0 = performance.now();
    await Promise.all(instances.map((p) => p.query(update(1000 + k))));
    directTimes.push(performance.now() - t0);
  }

  // 2. Queue drain of ITEMS console statements over the n Instances.
  const perInstance = Math.max(1, Math.ceil(ITEMS / n));
  const statements: string[] = [];
  const scenes = [];
  for (let r = 0; statements.length < perInstance; r++) {
    const scene = consoleRound(r).filter((s) => s.operation !== PLUGIN_REFRESH);
    scenes.push(scene);
    statements.push(...scene.map((s) => s.sql));
  }
  for (const scene of scenes) await playOnCc(cc, scene, targets);
  const queued = statements.length * n;
  let t = performance.now();
  await Promise.all(
    direct.map(async (p) => {
      for (const sql of statements) await p.query(sql);
    }),
  );
  const directRate = queued / ((performance.now() - t) / 1000);
  const drainer = new Replicator({ cc, useTables: false });
  t = performance.now();
  const reports = await drainer.requestRound('bench');
  const drainRate = queued / ((performance.now() - t) / 1000);
  await drainer.close('bench');
  const dequeued = reports.reduce((s, r) => s + r.queue.dequeued, 0);
  if (dequeued !== queued || reports.some((r) => r.errors.length > 0)) {
    throw new Error(`drained ${dequeued} of ${queued}: ${reports.flatMap((r) => r.errors)[0]}`);
  }
  const rssMiB = rss.stop();
  for (const p of [cc, ...instances, ...direct]) await p.end();
  return {
    n,
    setupS,
    steadyMs: percentile(steady, 50),
    eachP50: percentile(each, 50),
    eachP99: percentile(each, 99),
    allP99: percentile(all, 99),
    directP50: percentile(directTimes, 50),
    directP99: percentile(directTimes, 99),
    fanoutCpuMsPerChange: fanoutCpu,
    drainRate,
    directRate,
    rssMiB,
  };
}

async function main(): Promise<void> {
  const db = await startMariaDb();
  const out: Figures[] = [];
  try {
    console.log(
      `scale-replicate: sizes ${SIZES.join(', ')} Instances on one MariaDB, ${CHANGES} changes, ${ITEMS} queued items; 2 cores shared`,
    );
    for (const n of SIZES) {
      const f = await size(db, n);
      out.push(f);
      console.log(
        `N=${n} (setup ${f.setupS.toFixed(0)} s): change -> each Instance p50 ${ms(f.eachP50)} ms p99 ${ms(f.eachP99)} ms, -> all p99 ${ms(f.allP99)} ms (goal <= 1000); direct UPDATE on all p50 ${ms(f.directP50)} ms p99 ${ms(f.directP99)} ms; CPU ${ms(f.fanoutCpuMsPerChange)} ms/change`,
      );
      console.log(
        `      a round finding nothing to do: ${ms(f.steadyMs)} ms (${ms(f.steadyMs / n)} ms per Instance)`,
      );
      console.log(
        `      queue drain ${f.drainRate.toFixed(0)} items/s vs direct ${f.directRate.toFixed(0)} statements/s = ${(f.drainRate / f.directRate).toFixed(2)}x (goal >= 0.5x); peak RSS ${f.rssMiB.toFixed(0)} MiB`,
      );
    }
  } finally {
    await db.destroy();
  }
  const pts = (k: keyof Figures): [number, number][] => out.map((f) => [f.n, f[k]]);
  const files = [
    writePlot({
      file: 'replicate-fanout.svg',
      title: 'metaconsole-replicate: a CC change visible on every Instance',
      xLabel: 'Instances',
      yLabel: 'ms',
      series: [
        { name: 'change -> all p99', points: pts('allP99') },
        { name: 'change -> each p50', points: pts('eachP50') },
        { name: 'direct UPDATE on all p99', points: pts('directP99') },
      ],
      goal: { value: 1000, label: 'goal 1 s' },
    }),
    writePlot({
      file: 'replicate-queue-rate.svg',
      title: `metaconsole-replicate: draining ${ITEMS} queued items`,
      xLabel: 'Instances',
      yLabel: 'statements/s',
      series: [
        { name: 'queue drain', points: pts('drainRate') },
        { name: 'direct execution', points: pts('directRate') },
        {
          name: '0.5x direct (goal)',
          points: out.map((f): [number, number] => [f.n, f.directRate / 2]),
        },
      ],
    }),
    writePlot({
      file: 'replicate-steady-round.svg',
      title: 'metaconsole-replicate: a round finding nothing to do, per Instance',
      xLabel: 'Instances',
      yLabel: 'ms per Instance',
      series: [
        {
          name: 'round / Instances',
          points: out.map((f): [number, number] => [f.n, f.steadyMs / f.n]),
        },
        {
          name: 'direct UPDATE on all / Instances',
          points: out.map((f): [number, number] => [f.n, f.directP50 / f.n]),
        },
      ],
    }),
    writePlot({
      file: 'replicate-rss.svg',
      title: 'metaconsole-replicate: peak RSS',
      xLabel: 'Instances',
      yLabel: 'MiB',
      series: [{ name: 'peak RSS', points: pts('rssMiB') }],
    }),
  ];
  console.log(`plots: ${files.join(', ')}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
