/**
 * agent-cache: the first fill beside a server-side INSERT ... SELECT of the same rows (the upper
 * bound), then a round with 1% of the agents changed and one with none, each beside reading the
 * changed rows alone. Goals: first fill at least 0.5x the INSERT ... SELECT's speed; an unchanged
 * round under 10% of a full copy.
 * Usage: node dist/bench/agent-cache.js [instances=20] [agentsPerInstance=5000]
 */
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { AgentCache, planColumns } from '../lib/agentcache';
import { createPool } from '../lib/db/pool';
import {
  assertCacheEquals,
  createCacheCc,
  createInstanceDb,
  insertAgents,
} from '../test/agentcache/fixtures';
import { startMariaDb, type PrivateMariaDb } from '../test/helpers/mariadb';

const instances = Number(process.argv[2] ?? 20);
const perInstance = Number(process.argv[3] ?? 5000);
const total = instances * perInstance;

const names = Array.from({ length: instances }, (_, i) => `bench_ac_${i + 1}`);
const entries = (db: PrivateMariaDb) =>
  names.map((dbname, i) => ({ id: i + 1, name: dbname, port: db.port, dbname }));

async function columns(c: Connection, database: string, table: string): Promise<string[]> {
  const [rows] = await c.query<RowDataPacket[]>(
    'SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    [database, table],
  );
  return rows.map((r) => String(r.c));
}

const seconds = (t0: number) => (performance.now() - t0) / 1000;
const fmt = (s: number) => `${s.toFixed(2)} s`;

/** The upper bound: per Instance one INSERT ... SELECT of the agents and one of their groups. */
async function baseline(db: PrivateMariaDb): Promise<number> {
  await createCacheCc(db, 'bench_ac_base', entries(db));
  const c = await db.connect('bench_ac_base');
  const shared = planColumns(
    await columns(c, names[0], 'tagente'),
    await columns(c, 'bench_ac_base', 'tmetaconsole_agent'),
  ).shared.map((x) => `\`${x}\``);
  const t0 = performance.now();
  for (let i = 0; i < names.length; i++) {
    const n = names[i];
    await c.query(
      `INSERT INTO tmetaconsole_agent (id_tagente, id_tmetaconsole_setup, ${shared.join(', ')}) SELECT id_agente, ${i + 1}, ${shared.join(', ')} FROM \`${n}\`.tagente`,
    );
    await c.query(
      `INSERT INTO tmetaconsole_agent_secondary_group (id_agent, id_tagente, id_tmetaconsole_setup, id_group)
       SELECT a.id_agente, s.id_agent, ${i + 1}, s.id_group FROM \`${n}\`.tagent_secondary_group s
       JOIN tmetaconsole_agent a ON a.id_tmetaconsole_setup = ${i + 1} AND a.id_tagente = s.id_agent`,
    );
  }
  const s = seconds(t0);
  await c.end();
  return s;
}

/** Reading the named rows alone from each Instance (what a round that knew them would read). */
async function readAlone(db: PrivateMariaDb, changed: Map<string, number[]>): Promise<number> {
  const c = await db.connect();
  const t0 = performance.now();
  for (const [n, ids] of changed) {
    if (ids.length > 0)
      await c.query(`SELECT * FROM \`${n}\`.tagente WHERE id_agente IN (?)`, [ids]);
    else await c.query('SELECT 1');
  }
  const s = seconds(t0);
  await c.end();
  return s;
}

async function main(): Promise<void> {
  const db = await startMariaDb();
  try {
    console.log(`agent-cache: ${instances} Instances x ${perInstance} agents (${total} agents)`);
    let t0 = performance.now();
    for (const n of names) {
      await createInstanceDb(db, n);
      const c = await db.connect(n);
      await insertAgents(c, 1, perInstance);
      await c.end();
    }
    console.log(`  seeding: ${fmt(seconds(t0))}`);

    const base = await baseline(db);
    console.log(
      `  INSERT ... SELECT of the same rows (baseline): ${fmt(base)}, ${Math.round(total / base)} agents/s`,
    );

    await createCacheCc(db, 'bench_ac_cc', entries(db));
    const pool = createPool({ ...db.facts, database: 'bench_ac_cc' });
    const cache = new AgentCache({ cc: pool, intervalMs: 0 });
    t0 = performance.now();
    const fill = await cache.requestRound('first fill');
    const fillS = seconds(t0);
    const failed = fill.instances.filter((i) => i.outcome !== 'done');
    if (failed.length > 0) throw new Error(`first fill: ${JSON.stringify(failed)}`);
    console.log(
      `  first fill: ${fmt(fillS)}, ${Math.round(total / fillS)} agents/s = ${(base / fillS).toFixed(2)}x the INSERT ... SELECT (goal >= 0.5x)`,
    );

    const none = new Map(names.map((n) => [n, [] as number[]]));
    // The round after the fill compares, on both sides, every range the fill wrote (the cache
    // side in full, as every round after a restart and every full check does).
    t0 = performance.now();
    await cache.requestRound('after the fill');
    const fullS = seconds(t0);
    console.log(
      `  unchanged round comparing both sides in full: ${fmt(fullS)} = ${((fullS / base) * 100).toFixed(1)}% of the INSERT ... SELECT, ${((fullS / fillS) * 100).toFixed(1)}% of our full copy`,
    );
    t0 = performance.now();
    const idle = await cache.requestRound('unchanged');
    const idleS = seconds(t0);
    const wrote = idle.instances.reduce((n, i) => n + (i.outcome === 'done' ? i.written : 0), 0);
    const floor = await readAlone(db, none);
    console.log(
      `  unchanged round between full checks: ${fmt(idleS)} (${wrote} rows written) = ${((idleS / base) * 100).toFixed(1)}% of the INSERT ... SELECT, ${((idleS / fillS) * 100).toFixed(1)}% of our full copy (goal < 10%); one empty query per Instance: ${fmt(floor)}`,
    );

    // 1%: changed counters, spread over every range.
    const changed = new Map<string, number[]>();
    for (const n of names) {
      const ids = Array.from({ length: Math.round(perInstance / 100) }, (_, k) => 1 + k * 100);
      changed.set(n, ids);
      const c = await db.connect(n);
      await c.query(
        'UPDATE tagente SET critical_count = critical_count + 1 WHERE id_agente IN (?)',
        [ids],
      );
      await c.end();
    }
    t0 = performance.now();
    const some = await cache.requestRound('1% changed');
    const someS = seconds(t0);
    const someWrote = some.instances.reduce(
      (n, i) => n + (i.outcome === 'done' ? i.written : 0),
      0,
    );
    const alone = await readAlone(db, changed);
    console.log(
      `  1% changed round: ${fmt(someS)} (${someWrote} rows written) = ${((someS / fillS) * 100).toFixed(1)}% of our full copy; reading the changed rows alone: ${fmt(alone)}`,
    );

    const cc = await db.connect('bench_ac_cc');
    for (const i of [0, instances - 1]) {
      const c = await db.connect(names[i]);
      await assertCacheEquals(c, cc, i + 1);
      await c.end();
    }
    await cc.end();
    console.log('  checked: the cache equals the first and the last Instance');
    await cache.close('bench over');
    await pool.end();
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
