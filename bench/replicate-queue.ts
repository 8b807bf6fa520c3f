/**
 * Draining the Command Center's tsync_queue: ITEMS statements (default 10,000) queued over 4
 * Instances, a mix of what Pandora's console queues (test/replicate/console.ts: groups, users,
 * profiles, module groups, OSes, calendars, components, plugins, policies), drained by one
 * replicator round. Baseline in the same run: the same statements executed directly, one by one
 * with autocommit, on 4 other Instance databases (one connection each, the 4 in parallel, as
 * the replicator works its Instances). Goal: at least half the direct rate.
 *
 *   node dist/bench/replicate-queue.js [items=10000] [instances=4]
 */
import { createPool, Pool } from '../lib/db/pool';
import { applySchema } from '../test/helpers/schema';
import { Replicator } from '../lib/replicate';
import { startMariaDb } from '../test/helpers/mariadb';
import { consoleRound, playOnCc, PLUGIN_REFRESH, seedConsoleBase } from '../test/replicate/console';

const ITEMS = Number(process.argv[2] ?? process.env.ITEMS ?? 10_000);
const N = Number(process.argv[3] ?? process.env.INSTANCES ?? 4);

async function main(): Promise<void> {
  const db = await startMariaDb();
  const pools: Pool[] = [];
  const open = async (name: string, schemas: string[]): Promise<Pool> => {
    await db.freshDatabase(name);
    const p = createPool({ ...db.facts, database: name }, { connectionLimit: 4 });
    pools.push(p);
    await applySchema(p, ...schemas);
    return p;
  };
  try {
    const cc = await open('cc', ['registry', 'objects', 'sync-queue']);
    await seedConsoleBase(cc);
    const direct: Pool[] = [];
    for (let i = 1; i <= N; i++) {
      const inst = await open(`q${i}`, ['objects']);
      await seedConsoleBase(inst);
      await cc.query(
        'INSERT INTO tmetaconsole_setup (id, server_name, dbhost, dbport, dbname, dbuser, dbpass, unified) VALUES (?, ?, ?, ?, ?, ?, ?, 1)',
        [i, `q${i}`, db.host, String(db.port), `q${i}`, db.user, db.password],
      );
      const d = await open(`d${i}`, ['objects']);
      await seedConsoleBase(d);
      direct.push(d);
    }
    // Scenes until ITEMS statements over N Instances (the named operations are left out).
    const perInstance = Math.ceil(ITEMS / N);
    const statements: string[] = [];
    const scenes = [];
    for (let r = 0; statements.length < perInstance; r++) {
      const scene = consoleRound(r).filter((s) => s.operation !== PLUGIN_REFRESH);
      scenes.push(scene);
      statements.push(...scene.map((s) => s.sql));
    }
    const targets = Array.from({ length: N }, (_, i) => i + 1);
    for (const scene of scenes) await playOnCc(cc, scene, targets);
    const queued = statements.length * N;
    console.log(
      `replicate-queue bench: ${queued} queued items (${statements.length} per instance, ${scenes.length} console scenes) over ${N} instances; one MariaDB, 2 cores shared`,
    );

    // Baseline: the statements run directly on each Instance, the Instances in parallel.
    let t = performance.now();
    await Promise.all(
      direct.map(async (p) => {
        const conn = await p.getConnection();
        try {
          for (const sql of statements) await conn.query(sql);
        } finally {
          conn.release();
        }
      }),
    );
    const directMs = performance.now() - t;
    const directRate = queued / (directMs / 1000);
    console.log(
      `baseline  direct execution: ${directMs.toFixed(0)} ms, ${directRate.toFixed(0)} statements/s`,
    );

    const rep = new Replicator({ cc, useTables: false });
    t = performance.now();
    const reports = await rep.requestRound('test');
    const queueMs = performance.now() - t;
    await rep.close('test');
    const dequeued = reports.reduce((n, r) => n + r.queue.dequeued, 0);
    const errors = reports.flatMap((r) => r.errors);
    if (dequeued !== queued || errors.length > 0) {
      throw new Error(`drained ${dequeued} of ${queued}: ${errors.join('; ')}`);
    }
    const queueRate = queued / (queueMs / 1000);
    console.log(
      `queue drain (one round): ${queueMs.toFixed(0)} ms, ${queueRate.toFixed(0)} items/s = ${(queueRate / directRate).toFixed(2)}x the direct rate (goal >= 0.5x)`,
    );
  } finally {
    for (const p of pools) await p.end().catch(() => undefined);
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
