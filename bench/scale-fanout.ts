/**
 * Replication fan-out: time from a change on the Command Center to its presence on every one of
 * N Instances, then 2N (default 25 and 50), through the tsync_queue source and through the
 * table source (one group added). Each Instance is its own database on one MariaDB. Baseline in
 * the same run: one trivial query (SELECT COUNT(*)) on every Instance through the same registry
 * pools, i.e. the cost of only reaching them all.
 *
 *   node dist/bench/scale-fanout.js [instances=25]
 */
import { createPool } from '../lib/db/pool';
import { applySchema } from '../test/helpers/schema';
import { Replicator } from '../lib/replicate';
import { startMariaDb, PrivateMariaDb } from '../test/helpers/mariadb';

const N = Number(process.argv[2] ?? 25);

interface Figures {
  base: number;
  table: number;
  queue: number;
}

async function site(db: PrivateMariaDb, n: number): Promise<Figures> {
  const ccName = `cc${n}`;
  await db.freshDatabase(ccName);
  const cc = createPool({ ...db.facts, database: ccName }, { connectionLimit: 8 });
  await applySchema(cc, 'registry', 'objects', 'sync-queue');
  for (let i = 1; i <= n; i++) {
    const name = `f${n}_n${i}`;
    await db.freshDatabase(name);
    const p = createPool({ ...db.facts, database: name });
    await applySchema(p, 'objects');
    await p.end();
    await cc.query(
      'INSERT INTO tmetaconsole_setup (id, server_name, dbhost, dbport, dbname, dbuser, dbpass, unified) VALUES (?, ?, ?, ?, ?, ?, ?, 1)',
      [i, name, db.host, String(db.port), name, db.user, db.password],
    );
  }
  const tables = new Replicator({ cc, useQueue: false, objects: ['groups'] });
  const queue = new Replicator({ cc, useTables: false, objects: ['groups'] });
  await tables.requestRound('test');
  await queue.requestRound('test');
  const instances = await tables.registry.refresh();
  let t = performance.now();
  await Promise.all(instances.map((i) => i.pool.query('SELECT COUNT(*) FROM tgrupo')));
  const base = performance.now() - t;

  await cc.query("INSERT INTO tgrupo (id_grupo, nombre) VALUES (1, 'fanout')");
  t = performance.now();
  await tables.requestRound('test');
  const table = performance.now() - t;

  for (let i = 1; i <= n; i++) {
    await cc.query(
      "INSERT INTO tsync_queue (`sql`, target, utimestamp, operation, `table`, error, result) VALUES (\"UPDATE tgrupo SET nombre = 'fanout2' WHERE id_grupo = 1\", ?, 0, 'UPDATE', 'tgrupo', '', '')",
      [i],
    );
  }
  t = performance.now();
  await queue.requestRound('test');
  const q = performance.now() - t;
  for (const i of instances) {
    const [[g]] = (await i.pool.query(
      'SELECT nombre FROM tgrupo WHERE id_grupo = 1',
    )) as unknown as [[{ nombre: string }]];
    if (g?.nombre !== 'fanout2') throw new Error(`instance ${i.id} did not get the change`);
  }
  await tables.close('test');
  await queue.close('test');
  await cc.end();
  return { base, table, queue: q };
}

async function main(): Promise<void> {
  const db = await startMariaDb();
  try {
    console.log(`scale-fanout: a CC change to N=${N} and 2N instances (one MariaDB)`);
    const out: Figures[] = [];
    for (const n of [N, 2 * N]) {
      const f = await site(db, n);
      out.push(f);
      console.log(`baseline SELECT COUNT(*) on ${n} instances: ${f.base.toFixed(1)} ms`);
      console.log(
        `table source, change -> on all ${n}: ${f.table.toFixed(1)} ms; queue source: ${f.queue.toFixed(1)} ms`,
      );
    }
    const g = (k: keyof Figures) => (out[1][k] / out[0][k]).toFixed(2);
    console.log(
      `growth N->2N instances: table x${g('table')}, queue x${g('queue')}, baseline x${g('base')}`,
    );
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
