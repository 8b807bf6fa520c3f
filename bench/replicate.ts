/**
 * Benchmark: time from a change in the Command Center to its presence on N Instances (queue
 * source and table source), and a full table comparison of U users with their profiles against
 * N Instances, with the per-Instance cost. Baseline: the same comparison against 1 Instance and a
 * plain `SELECT COUNT(*)` round trip to every Instance, measured in the same run.
 *
 *   node dist/bench/replicate.js [instances=20] [users=10000]
 */
import { createPool, Pool } from '../lib/db/pool';
import { applySchema } from '../test/helpers/schema';
import { Replicator } from '../lib/replicate';
import { startMariaDb } from '../test/helpers/mariadb';

const N = Number(process.argv[2] ?? process.env.INSTANCES ?? 20);
const USERS = Number(process.argv[3] ?? process.env.USERS ?? 10000);

async function fillUsers(db: Pool, n: number): Promise<void> {
  for (let i = 0; i < n; i += 1000) {
    const part = Array.from({ length: Math.min(1000, n - i) }, (_, j) => i + j);
    await db.query(
      'INSERT INTO tusuario (id_user, fullname, firstname, lastname, middlename, password, email) VALUES ?',
      [
        part.map((k) => [
          `user${k}`,
          `User&#x20;${k}`,
          'F',
          'L',
          '',
          '$2y$10$' + 'x'.repeat(53),
          `u${k}@example.com`,
        ]),
      ],
    );
    await db.query(
      'INSERT INTO tusuario_perfil (id_up, id_usuario, id_perfil, id_grupo, tags) VALUES ?',
      [part.map((k) => [k + 1, `user${k}`, 1, 0, ''])],
    );
  }
}

async function main(): Promise<void> {
  const db = await startMariaDb();
  const pools: Pool[] = [];
  try {
    await db.freshDatabase('cc');
    const cc = createPool({ ...db.facts, database: 'cc' }, { connectionLimit: 8 });
    pools.push(cc);
    await applySchema(cc, 'registry', 'objects', 'sync-queue');
    const nodes: Pool[] = [];
    for (let i = 1; i <= N; i++) {
      await db.freshDatabase(`n${i}`);
      const p = createPool({ ...db.facts, database: `n${i}` });
      pools.push(p);
      await applySchema(p, 'objects');
      nodes.push(p);
      await cc.query(
        'INSERT INTO tmetaconsole_setup (id, server_name, dbhost, dbport, dbname, dbuser, dbpass, unified) VALUES (?, ?, ?, ?, ?, ?, ?, 1)',
        [i, `n${i}`, db.host, String(db.port), `n${i}`, db.user, db.password],
      );
    }
    console.log(`replicate bench: ${N} instances, ${USERS} users (one MariaDB, 2 cores shared)`);

    // Baseline: one trivial round trip to every instance.
    let t = performance.now();
    await Promise.all(nodes.map((p) => p.query('SELECT COUNT(*) FROM tgrupo')));
    console.log(`baseline  COUNT(*) on ${N} instances: ${(performance.now() - t).toFixed(1)} ms`);

    const tables = new Replicator({ cc, useQueue: false, objects: ['groups'] });
    await tables.requestRound('test');
    await cc.query("INSERT INTO tgrupo (id_grupo, nombre) VALUES (1, 'bench')");
    t = performance.now();
    await tables.requestRound('test');
    console.log(
      `table source: change on CC -> on ${N} instances: ${(performance.now() - t).toFixed(1)} ms`,
    );

    const queue = new Replicator({ cc, useTables: false, objects: ['groups'] });
    await queue.requestRound('test');
    for (let i = 1; i <= N; i++) {
      await cc.query(
        "INSERT INTO tsync_queue (`sql`, target, utimestamp, operation, `table`, error, result) VALUES (\"UPDATE tgrupo SET nombre = 'b2' WHERE id_grupo = 1\", ?, 0, 'UPDATE', 'tgrupo', '', '')",
        [i],
      );
    }
    t = performance.now();
    await queue.requestRound('test');
    console.log(
      `queue source: change on CC -> on ${N} instances: ${(performance.now() - t).toFixed(1)} ms`,
    );
    await tables.close('test');
    await queue.close('test');

    await fillUsers(cc, USERS);
    for (const p of nodes) await fillUsers(p, USERS);
    const users = new Replicator({
      cc,
      useQueue: false,
      objects: ['users', 'userProfiles'],
      chunkSize: 1000,
    });
    const one = new Replicator({
      cc,
      useQueue: false,
      objects: ['users', 'userProfiles'],
      chunkSize: 1000,
      instances: [1],
    });
    t = performance.now();
    await one.requestPlan('test');
    const single = performance.now() - t;
    console.log(
      `baseline  compare ${USERS} users + profiles vs 1 instance: ${single.toFixed(0)} ms`,
    );
    t = performance.now();
    const reports = await users.requestPlan('test');
    const all = performance.now() - t;
    const diffs = reports.reduce((n, r) => n + Object.keys(r.applied).length, 0);
    console.log(
      `compare ${USERS} users + profiles vs ${N} instances: ${all.toFixed(0)} ms, ${(all / N).toFixed(0)} ms per instance (differences found: ${diffs})`,
    );
    await users.close('test');
    await one.close('test');
  } finally {
    for (const p of pools) await p.end().catch(() => undefined);
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
