/**
 * agent-cache at the size of a large Command Center (issue 26): 20, 50, 100 Instances × 5,000
 * agents (every Instance its own database on one MariaDB), the engine on its own timer with the
 * node's default interval. At each size:
 * - baseline, same run: a server-side INSERT … SELECT of every agent into the empty cache (the
 *   cheapest full copy there is; it also fills the cache, so the engine starts as after a restart);
 * - the first round after that restart (both sides compared in full), then unchanged rounds
 *   between full checks: wall time, Node.js CPU and rows the server read, each per 1,000 agents
 *   (goal: flat in agents) and as a share of the full copy;
 * - on the timer: agents changed one at a time on random Instances, each change's time until it is
 *   in the cache (goal: within 2 × interval), over a window longer than one full-check period so
 *   that the full checks fall into it; the Instances' round times meanwhile;
 * - connections opened to the server during the unchanged rounds (0: every pool reuses its own),
 *   and the peak RSS.
 * Plots: docs/plots/agent-cache-scale-{visible,round}.svg.
 *
 *   node dist/bench/scale-agent-cache.js [sizes=20,50,100] [agents=5000] [intervalS=5] [windowS=65]
 */
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { loadavg } from 'node:os';
import { AGENT_CACHE_DEFAULTS, AgentCache, planColumns } from '../lib/agentcache';
import { createPool } from '../lib/db/pool';
import { createCacheCc, createInstanceDb, insertAgents } from '../test/agentcache/fixtures';
import { startMariaDb, type PrivateMariaDb } from '../test/helpers/mariadb';
import { cpuMs, percentile, rssPeak } from './support/measure';
import { writePlot } from './support/plot';

const SIZES = (process.argv[2] ?? '20,50,100').split(',').map(Number);
const AGENTS = Number(process.argv[3] ?? 5000);
const INTERVAL_S = Number(process.argv[4] ?? AGENT_CACHE_DEFAULTS.intervalMs / 1000);
const WINDOW_S = Number(process.argv[5] ?? 65);
const PREFIX = 'sa';

const name = (i: number) => `${PREFIX}${i}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function status(c: Connection, what: string): Promise<number> {
  const [rows] = await c.query<RowDataPacket[]>('SHOW GLOBAL STATUS LIKE ?', [what]);
  return Number(rows[0].Value);
}

async function columns(c: Connection, database: string, table: string): Promise<string[]> {
  const [rows] = await c.query<RowDataPacket[]>(
    'SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    [database, table],
  );
  return rows.map((r) => String(r.c));
}

/** `sa1` with AGENTS agents (0–2 secondary groups each), copied server-side to the others. */
async function seed(db: PrivateMariaDb, instances: number): Promise<void> {
  await createInstanceDb(db, name(1));
  const first = await db.connect(name(1));
  await insertAgents(first, 1, AGENTS);
  await first.end();
  const root = await db.connect();
  for (let i = 2; i <= instances; i++) {
    await db.freshDatabase(name(i));
    for (const t of ['tagente', 'tagent_secondary_group']) {
      await root.query(`CREATE TABLE ${name(i)}.${t} LIKE ${name(1)}.${t}`);
      await root.query(`INSERT INTO ${name(i)}.${t} SELECT * FROM ${name(1)}.${t}`);
    }
  }
  await root.end();
}

/** The baseline: every Instance's agents and groups into the empty cache, server-side. */
async function copy(db: PrivateMariaDb, cc: string, n: number): Promise<number> {
  const c = await db.connect(cc);
  const shared = planColumns(
    await columns(c, name(1), 'tagente'),
    await columns(c, cc, 'tmetaconsole_agent'),
  ).shared.map((x) => `\`${x}\``);
  const t0 = performance.now();
  for (let i = 1; i <= n; i++) {
    await c.query(
      `INSERT INTO tmetaconsole_agent (id_tagente, id_tmetaconsole_setup, ${shared.join(', ')}) SELECT id_agente, ${i}, ${shared.join(', ')} FROM ${name(i)}.tagente`,
    );
    await c.query(
      `INSERT INTO tmetaconsole_agent_secondary_group (id_agent, id_tagente, id_tmetaconsole_setup, id_group)
       SELECT a.id_agente, s.id_agent, ${i}, s.id_group FROM ${name(i)}.tagent_secondary_group s
       JOIN tmetaconsole_agent a ON a.id_tmetaconsole_setup = ${i} AND a.id_tagente = s.id_agent`,
    );
  }
  const ms = performance.now() - t0;
  await c.end();
  return ms;
}

interface Figures {
  copyMs: number;
  restartMs: number;
  unchangedMs: number;
  unchangedCpuMs: number;
  rowsRead: number;
  opened: number;
  visible: number[];
  roundMs: number[];
  rssMiB: number;
}

async function measure(db: PrivateMariaDb, n: number): Promise<Figures> {
  const ccName = `sacc${n}`;
  await createCacheCc(
    db,
    ccName,
    Array.from({ length: n }, (_, i) => ({
      id: i + 1,
      name: name(i + 1),
      port: db.port,
      dbname: name(i + 1),
    })),
  );
  const copyMs = await copy(db, ccName, n);
  const peak = rssPeak(20);
  const pool = createPool({ ...db.facts, database: ccName });
  const cache = new AgentCache({ cc: pool, intervalMs: INTERVAL_S * 1000 });
  const root = await db.connect();
  const done = (s: Awaited<ReturnType<AgentCache['requestRound']>>) => {
    const bad = s.instances.filter((i) => i.outcome !== 'done');
    if (bad.length > 0) throw new Error(JSON.stringify(bad[0]));
  };
  let t = performance.now();
  done(await cache.requestRound('restart'));
  const restartMs = performance.now() - t;
  // Unchanged rounds between full checks (the figures the next tick compares with are known).
  const walls: number[] = [];
  const cpus: number[] = [];
  const reads: number[] = [];
  let opened = 0;
  for (let r = 0; r < 3; r++) {
    const rows0 = await status(root, 'Rows_read');
    const conns0 = await status(root, 'Connections');
    const cpu0 = process.cpuUsage();
    t = performance.now();
    done(await cache.requestRound('unchanged'));
    walls.push(performance.now() - t);
    cpus.push(cpuMs(cpu0));
    // Less the two SHOW STATUS statements' own rows.
    reads.push((await status(root, 'Rows_read')) - rows0);
    opened += (await status(root, 'Connections')) - conns0;
  }
  // On the timer: one change at a time, on a random Instance, at a random moment of the interval.
  const roundMs: number[] = [];
  cache.on('round', (r) => roundMs.push(r.ms));
  cache.start();
  const cc = await db.connect(ccName);
  const visible: number[] = [];
  const end = performance.now() + WINDOW_S * 1000;
  for (let k = 1; performance.now() < end; k++) {
    await sleep(Math.random() * INTERVAL_S * 1000);
    const i = 1 + Math.floor(Math.random() * n);
    const id = 1 + Math.floor(Math.random() * AGENTS);
    const alias = `changed ${k} ${Date.now()}`;
    await root.query(`UPDATE ${name(i)}.tagente SET alias = ? WHERE id_agente = ?`, [alias, id]);
    const t0 = performance.now();
    for (;;) {
      const [rows] = await cc.query<RowDataPacket[]>(
        'SELECT alias FROM tmetaconsole_agent WHERE id_tmetaconsole_setup = ? AND id_tagente = ?',
        [i, id],
      );
      if (rows[0]?.alias === alias) break;
      if (performance.now() - t0 > 10 * INTERVAL_S * 1000) throw new Error('change never seen');
      await sleep(50);
    }
    visible.push((performance.now() - t0) / 1000);
  }
  await cache.close('bench over');
  await pool.end();
  await cc.end();
  await root.end();
  return {
    copyMs,
    restartMs,
    unchangedMs: percentile(walls, 50),
    unchangedCpuMs: percentile(cpus, 50),
    rowsRead: percentile(reads, 50),
    opened,
    visible,
    roundMs,
    rssMiB: peak.stop(),
  };
}

async function main(): Promise<void> {
  const max = Math.max(...SIZES);
  // Each Instance has its own server in life; here they share one, given room for their pages.
  const db = await startMariaDb({ args: ['--innodb-buffer-pool-size=2G'] });
  try {
    const t0 = performance.now();
    await seed(db, max);
    console.log(
      `scale-agent-cache: ${max} Instances x ${AGENTS} agents seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s; interval ${INTERVAL_S} s, window ${WINDOW_S} s; load ${loadavg()[0].toFixed(1)}`,
    );
    const out: [number, Figures][] = [];
    for (const n of SIZES) {
      const f = await measure(db, n);
      out.push([n, f]);
      const k = (n * AGENTS) / 1000;
      console.log(
        [
          `  ${n} Instances (${n * AGENTS} agents): full copy (INSERT … SELECT, baseline) ${(f.copyMs / 1000).toFixed(2)} s;`,
          `first round after restart ${(f.restartMs / 1000).toFixed(2)} s;`,
          `unchanged round ${f.unchangedMs.toFixed(0)} ms = ${((f.unchangedMs / f.copyMs) * 100).toFixed(1)}% of the copy,`,
          `${(f.unchangedMs / k).toFixed(2)} ms, ${(f.unchangedCpuMs / k).toFixed(2)} ms Node CPU, ${(f.rowsRead / k / 1000).toFixed(2)} rows read per agent;`,
          `connections opened in 3 unchanged rounds: ${f.opened};`,
          `change visible p50 ${percentile(f.visible, 50).toFixed(1)} s, max ${Math.max(...f.visible).toFixed(1)} s of ${f.visible.length} (goal <= ${2 * INTERVAL_S} s);`,
          `Instance rounds on the timer p50 ${percentile(f.roundMs, 50)} ms, p99 ${percentile(f.roundMs, 99)} ms;`,
          `peak RSS ${f.rssMiB.toFixed(0)} MiB; load ${loadavg()[0].toFixed(1)}`,
        ].join(' '),
      );
    }
    writePlot({
      file: 'agent-cache-scale-visible.svg',
      title: 'agent-cache: a change visible in the cache after',
      xLabel: 'Instances (5,000 agents each)',
      yLabel: 's',
      series: [
        { name: 'max', points: out.map(([n, f]) => [n, Math.max(...f.visible)]) },
        { name: 'p50', points: out.map(([n, f]) => [n, percentile(f.visible, 50)]) },
      ],
      goal: { value: 2 * INTERVAL_S, label: `2 × interval` },
    });
    writePlot({
      file: 'agent-cache-scale-round.svg',
      title: 'agent-cache: unchanged round per 1,000 agents',
      xLabel: 'Instances (5,000 agents each)',
      yLabel: 'ms per 1,000 agents',
      series: [
        {
          name: 'unchanged round',
          points: out.map(([n, f]) => [n, f.unchangedMs / ((n * AGENTS) / 1000)]),
        },
        {
          name: 'Node CPU of it',
          points: out.map(([n, f]) => [n, f.unchangedCpuMs / ((n * AGENTS) / 1000)]),
        },
        {
          name: 'baseline: full copy',
          points: out.map(([n, f]) => [n, f.copyMs / ((n * AGENTS) / 1000)]),
        },
      ],
    });
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
