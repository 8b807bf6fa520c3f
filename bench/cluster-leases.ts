/**
 * cluster: three lease managers, each in a process of its own, on one MariaDB, sharing buffers and
 * Instances (10 buffers per Instance: 1,100 units = 1,000 buffers + 100 Instances). At each size:
 * the spread (units per member, goal within ±10% of a third), the lease table load per member
 * (statements per second in steady state), a member SIGKILLed and its units taken over (goal:
 * within 2 × leaseSeconds of its last renewal), and the time of a round and of the planner.
 * Baselines of the same run, on the same table: the bare UPDATE a renewal needs (one unit), and
 * the renewal of a member's share one unit at a time in one transaction (the previous design).
 * Usage: node dist/bench/cluster-leases.js [sizes=275,550,1100,2200] [leaseSeconds=5]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ResultSetHeader, RowDataPacket } from 'mysql2';
import { ensureClusterSchema, plan, quoted, type LeaseRow, type MemberRow } from '../lib/cluster';
import { createPool, type Pool } from '../lib/db/pool';
import { startMariaDb, type PrivateMariaDb } from '../test/helpers/mariadb';
import { percentile, rssPeak } from './support/measure';
import { writePlot } from './support/plot';
import type { ChildReport, LeaseChildArgs } from './cluster-leases-child';

const SIZES = (process.argv[2] ?? '275,550,1100,2200').split(',').map(Number);
const LEASE_S = Number(process.argv[3] ?? 5);
const LEASE_MS = LEASE_S * 1000;
const TICK_MS = Math.floor(LEASE_MS / 3);
const MEMBERS = 3;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** N units: one Instance per ten buffers. */
function unitsOf(n: number): string[] {
  const instances = Math.round(n / 11);
  const buffers = n - instances;
  return [
    ...Array.from(
      { length: buffers },
      (_, i) => `pull:10.${i >> 16}.${(i >> 8) & 255}.${i & 255}:41121`,
    ),
    ...Array.from({ length: instances }, (_, i) => `events:${i + 1}`),
  ];
}

interface Child {
  name: string;
  proc: ChildProcess;
  session: string;
}

function ask<T extends ChildReport['type']>(
  c: Child,
  type: T,
): Promise<Extract<ChildReport, { type: T }>> {
  return new Promise((resolve) => {
    const on = (m: ChildReport) => {
      if (m.type !== type) return;
      c.proc.off('message', on);
      resolve(m as Extract<ChildReport, { type: T }>);
    };
    c.proc.on('message', on);
    c.proc.send({ type });
  });
}

async function launch(args: LeaseChildArgs): Promise<Child> {
  const proc = fork(join(__dirname, 'cluster-leases-child.js'), [JSON.stringify(args)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const session = await new Promise<string>((resolve, reject) => {
    proc.once('message', (m: ChildReport) => m.type === 'ready' && resolve(m.session));
    proc.once('exit', () => reject(new Error(`${args.member} ended`)));
  });
  return { name: args.member, proc, session };
}

/** Live units per holder session, and how many units are not live-held. */
async function holders(
  pool: Pool,
  units: number,
): Promise<{ per: Map<string, number>; free: number }> {
  const [rows] = await pool.query<({ holder: string; n: string } & RowDataPacket)[]>(
    `SELECT holder, COUNT(*) AS n FROM ${quoted.lease} WHERE holder <> '' AND expires > NOW(6) AND unit NOT LIKE 'base:%' GROUP BY holder`,
  );
  const per = new Map(rows.map((r) => [r.holder, Number(r.n)]));
  const held = [...per.values()].reduce((a, b) => a + b, 0);
  return { per, free: units - held };
}

/** Waits until every unit is held by `sessions` alone, each within ±10% of an even share. */
async function spreadOver(pool: Pool, n: number, sessions: string[], ms: number): Promise<number> {
  const t0 = performance.now();
  const share = n / sessions.length;
  while (performance.now() - t0 < ms) {
    const { per, free } = await holders(pool, n);
    const ok =
      free === 0 &&
      [...per.keys()].every((s) => sessions.includes(s)) &&
      sessions.every((s) => Math.abs((per.get(s) ?? 0) - share) <= share * 0.1);
    if (ok) return performance.now() - t0;
    await sleep(50);
  }
  throw new Error(`no even spread over ${sessions.length} members within ${ms} ms`);
}

/** Baselines: a member's share renewed one row at a time (previous design) and the bare UPDATE. */
async function baselines(pool: Pool, share: number) {
  const session = 'base/1';
  const units = Array.from({ length: share }, (_, i) => `base:${i}`);
  await pool.query(`DELETE FROM ${quoted.lease} WHERE unit LIKE 'base:%'`);
  await pool.query(`INSERT INTO ${quoted.lease} (unit, holder, token, expires) VALUES ?`, [
    units.map((u) => [u, session, 1, new Date(Date.now() + 3_600_000)]),
  ]);
  const leaseUs = LEASE_MS * 1000;
  const bare: number[] = [];
  const perUnit: number[] = [];
  const one: number[] = [];
  for (let k = 0; k < 7; k++) {
    let t0 = performance.now();
    await pool.query<ResultSetHeader>(
      `UPDATE ${quoted.lease} SET expires = NOW(6) + INTERVAL ? MICROSECOND WHERE unit = ? AND holder = ?`,
      [leaseUs, units[0], session],
    );
    bare.push(performance.now() - t0);
    t0 = performance.now();
    const conn = await pool.getConnection();
    try {
      await conn.beginTransaction();
      for (const u of units) {
        await conn.query(
          `UPDATE ${quoted.lease} SET expires = NOW(6) + INTERVAL ? MICROSECOND WHERE unit = ? AND holder = ?`,
          [leaseUs, u, session],
        );
      }
      await conn.commit();
    } finally {
      conn.release();
    }
    perUnit.push(performance.now() - t0);
    t0 = performance.now();
    await pool.query(
      `UPDATE ${quoted.lease} SET expires = NOW(6) + INTERVAL ? MICROSECOND WHERE holder = ?`,
      [leaseUs, session],
    );
    one.push(performance.now() - t0);
  }
  await pool.query(`DELETE FROM ${quoted.lease} WHERE unit LIKE 'base:%'`);
  return {
    bareMs: percentile(bare, 50),
    perUnitMs: percentile(perUnit, 50),
    oneStatementMs: percentile(one, 50),
  };
}

/** The planner alone on `n` rows, three members, a third held by each: ms per plan. */
function plannerMs(n: number): number {
  const units = unitsOf(n);
  const sessions = ['a/1', 'b/1', 'c/1'];
  const rows: LeaseRow[] = units.map((unit, i) => ({
    unit,
    holder: sessions[i % 3],
    token: '1',
    live: true,
    overdueMs: -1000,
  }));
  const members: MemberRow[] = sessions.map((s) => ({
    session: s,
    member: s,
    kinds: ['events', 'pull'],
  }));
  const mine = new Set(units.filter((_, i) => i % 3 === 0));
  const view = {
    session: 'a/1',
    leaseMs: LEASE_MS,
    wanted: new Set(units),
    held: mine,
    draining: new Set<string>(),
  };
  for (let i = 0; i < 5; i++) plan(rows, members, view);
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    plan(rows, members, view);
    times.push(performance.now() - t0);
  }
  return percentile(times, 50);
}

interface Figures {
  n: number;
  settleMs: number;
  perMember: number[];
  deviationPct: number;
  queriesPerS: number[];
  roundP50: number;
  roundP99: number;
  killedUnits: number;
  takeoverWallMs: number;
  takeoverSinceRenewalMs: number;
  takeoverQueries: number;
  afterKill: number[];
  planMs: number;
  bareMs: number;
  perUnitMs: number;
  oneStatementMs: number;
  childRssMiB: number;
}

async function runSize(db: PrivateMariaDb, n: number): Promise<Figures> {
  const database = `bench_cl_${n}`;
  await db.freshDatabase(database);
  const facts = { ...db.facts, database };
  const pool = createPool(facts, { connectionLimit: 4 });
  await ensureClusterSchema(pool);
  const units = unitsOf(n);
  const children: Child[] = [];
  try {
    for (let m = 0; m < MEMBERS; m++) {
      children.push(await launch({ db: facts, member: `m${m + 1}`, leaseMs: LEASE_MS, units }));
    }
    const sessions = children.map((c) => c.session);
    const settleMs = await spreadOver(pool, n, sessions, 120_000);
    // Steady state: three rounds' worth of statements per member.
    await Promise.all(children.map((c) => ask(c, 'stats')));
    const windowMs = TICK_MS * 3;
    const t0 = performance.now();
    await sleep(windowMs);
    const stats = await Promise.all(children.map((c) => ask(c, 'stats')));
    const seconds = (performance.now() - t0) / 1000;
    const { per } = await holders(pool, n);
    const perMember = sessions.map((s) => per.get(s) ?? 0);
    const share = n / MEMBERS;
    const deviationPct = Math.max(...perMember.map((k) => (Math.abs(k - share) / share) * 100));
    const rounds = stats.flatMap((s) => s.rounds);

    // SIGKILL the first member; the others take its units.
    const victim = children[0];
    const killedUnits = per.get(victim.session) ?? 0;
    const survivors = children.slice(1);
    await Promise.all(survivors.map((c) => ask(c, 'stats')));
    const killedAt = performance.now();
    victim.proc.kill('SIGKILL');
    for (;;) {
      const h = await holders(pool, n);
      if (h.free === 0 && !h.per.has(victim.session)) break;
      if (performance.now() - killedAt > LEASE_MS * 4) throw new Error('no takeover');
      await sleep(25);
    }
    const takeoverWallMs = performance.now() - killedAt;
    const during = await Promise.all(survivors.map((c) => ask(c, 'stats')));
    const took = await Promise.all(survivors.map((c) => ask(c, 'takeovers')));
    const takeoverQueries = during.reduce((a, s) => a + s.queries, 0);
    await spreadOver(
      pool,
      n,
      survivors.map((c) => c.session),
      60_000,
    ).catch(() => -1);
    const after = await holders(pool, n);
    const last = await Promise.all(survivors.map((c) => ask(c, 'stats')));
    const base = await baselines(pool, Math.round(share));
    return {
      n,
      settleMs,
      perMember,
      deviationPct,
      queriesPerS: stats.map((s) => s.queries / seconds),
      roundP50: percentile(rounds, 50),
      roundP99: percentile(rounds, 99),
      killedUnits,
      takeoverWallMs,
      takeoverSinceRenewalMs: Math.max(...took.map((t) => t.maxSinceRenewalMs)),
      takeoverQueries,
      afterKill: survivors.map((c) => after.per.get(c.session) ?? 0),
      planMs: plannerMs(n),
      ...base,
      childRssMiB: Math.max(...stats.map((s) => s.rssMiB), ...last.map((s) => s.rssMiB)),
    };
  } finally {
    for (const c of children) {
      if (c.proc.exitCode === null && c.proc.signalCode === null) {
        const exited = new Promise((r) => c.proc.once('exit', r));
        c.proc.send({ type: 'close' });
        await Promise.race([exited, sleep(5000)]);
        if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
      }
    }
    await pool.end();
  }
}

async function main(): Promise<void> {
  const rss = rssPeak();
  const started = performance.now();
  const db = await startMariaDb();
  const out: Figures[] = [];
  try {
    console.log(
      `cluster-leases: ${MEMBERS} members (processes) on one MariaDB, leaseSeconds ${LEASE_S} (a round every ${TICK_MS} ms), sizes ${SIZES.join(', ')}`,
    );
    for (const n of SIZES) {
      const f = await runSize(db, n);
      out.push(f);
      const q = f.queriesPerS.map((x) => x.toFixed(2)).join('/');
      console.log(
        `${n} units: per member ${f.perMember.join('/')} (max ${f.deviationPct.toFixed(1)}% off a third; settled in ${(f.settleMs / 1000).toFixed(1)} s); ` +
          `statements/s per member ${q}; round p50 ${f.roundP50.toFixed(1)} ms p99 ${f.roundP99.toFixed(1)} ms; plan() ${f.planMs.toFixed(2)} ms\n` +
          `  SIGKILL of a member holding ${f.killedUnits}: all held again ${f.takeoverWallMs.toFixed(0)} ms after the kill, ` +
          `${f.takeoverSinceRenewalMs} ms after its last renewal (goal ≤ ${2 * LEASE_MS}); ${f.takeoverQueries} statements by the two survivors meanwhile; then ${f.afterKill.join('/')}\n` +
          `  renewal of ${Math.round(n / MEMBERS)} units: one statement ${f.oneStatementMs.toFixed(2)} ms vs one row at a time ${f.perUnitMs.toFixed(1)} ms (previous design); bare one-unit UPDATE ${f.bareMs.toFixed(2)} ms; member RSS peak ${f.childRssMiB.toFixed(0)} MiB`,
      );
    }
  } finally {
    await db.destroy();
  }
  const sizes = out.map((f) => f.n);
  if (sizes.length < 2) {
    // One size (e.g. the default lease at 1,100 units): figures only, the plots stay.
    console.log(
      `bench ${((performance.now() - started) / 1000).toFixed(0)} s, bench process RSS peak ${rss.stop().toFixed(0)} MiB`,
    );
    return;
  }
  const pts = (g: (f: Figures) => number): [number, number][] => out.map((f) => [f.n, g(f)]);
  writePlot({
    file: 'cluster-units-per-member.svg',
    title: `cluster: units per member, 3 members (lease ${LEASE_S} s)`,
    xLabel: 'units (buffers + Instances)',
    yLabel: 'units held',
    series: [
      ...[0, 1, 2].map((m) => ({ name: `m${m + 1}`, points: pts((f) => f.perMember[m]) })),
      { name: 'units / 3', points: pts((f) => f.n / MEMBERS) },
      { name: 'after a kill', points: pts((f) => Math.max(...f.afterKill)) },
    ],
  });
  writePlot({
    file: 'cluster-spread.svg',
    title: 'cluster: largest deviation from an even share',
    xLabel: 'units (buffers + Instances)',
    yLabel: '% off units / 3',
    series: [{ name: 'max deviation', points: pts((f) => f.deviationPct) }],
    goal: { value: 10, label: '±10% goal' },
  });
  writePlot({
    file: 'cluster-takeover.svg',
    title: `cluster: a killed member's units taken over (lease ${LEASE_S} s)`,
    xLabel: 'units (buffers + Instances)',
    yLabel: 'ms',
    series: [
      { name: 'since last renewal', points: pts((f) => f.takeoverSinceRenewalMs) },
      { name: 'since the kill', points: pts((f) => f.takeoverWallMs) },
      { name: 'leaseSeconds', points: pts(() => LEASE_MS) },
    ],
    goal: { value: 2 * LEASE_MS, label: '2 × leaseSeconds' },
  });
  writePlot({
    file: 'cluster-queries.svg',
    title: `cluster: lease table statements per member (round every ${TICK_MS} ms)`,
    xLabel: 'units (buffers + Instances)',
    yLabel: 'statements / s',
    series: [
      {
        name: 'per member',
        points: pts((f) => f.queriesPerS.reduce((a, b) => a + b, 0) / f.queriesPerS.length),
      },
      {
        name: 'row-by-row renewal',
        points: pts((f) => (Math.round(f.n / MEMBERS) + 2) / (TICK_MS / 1000)),
      },
    ],
  });
  writePlot({
    file: 'cluster-renewal.svg',
    title: "cluster: renewing a member's share, and a round",
    xLabel: 'units (buffers + Instances)',
    yLabel: 'ms',
    series: [
      { name: 'renew: 1 statement', points: pts((f) => f.oneStatementMs) },
      { name: 'renew: row by row', points: pts((f) => f.perUnitMs) },
      { name: 'bare UPDATE', points: pts((f) => f.bareMs) },
      { name: 'round p50', points: pts((f) => f.roundP50) },
      { name: 'plan()', points: pts((f) => f.planMs) },
    ],
  });
  console.log(
    `sizes ${sizes.join(', ')}: bench ${((performance.now() - started) / 1000).toFixed(0)} s, bench process RSS peak ${rss.stop().toFixed(0)} MiB; plots in docs/plots/cluster-*.svg`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
