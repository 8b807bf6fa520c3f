/**
 * instance-query fan-out: `agents` (every agent: limit 5,000) and `tactical` across N Instances of
 * A agents each (default 20 x 5,000), each Instance its own database on one MariaDB. Baselines in
 * the same run, with the very SELECT the engine sends:
 * - "single": each Instance's SELECT alone on its own open connection, one Instance after the
 *   other; the slowest of them is the goal's reference (goal: fan-out <= 1.5x of it);
 * - "raw parallel": the N SELECTs at once on N open connections, without the engine.
 * Figures are the median of R runs after one warm-up; peak RSS is sampled during the engine runs.
 *
 *   node dist/bench/instance-query.js [instances=20] [agents=5000] [runs=5]
 */
import mysql from 'mysql2/promise';
import { createPool } from '../lib/db/pool';
import { applySchema } from '../test/helpers/schema';
import { InstanceQuery } from '../lib/query';
import { planRead } from '../lib/query/reads';
import { startMariaDb, PrivateMariaDb } from '../test/helpers/mariadb';
import { createTables } from '../test/query/fixtures/pandora';

const N = Number(process.argv[2] ?? 20);
const AGENTS = Number(process.argv[3] ?? 5000);
const RUNS = Number(process.argv[4] ?? 5);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mib = (bytes: number) => bytes / 1_048_576;

async function seed(db: PrivateMariaDb): Promise<void> {
  await db.freshDatabase('bq1');
  const c = await db.connect('bq1');
  await createTables(c);
  await c.query(
    "INSERT INTO tgrupo (id_grupo, nombre) VALUES (2, 'Servers'), (3, 'Web&#x20;farm')",
  );
  await c.query("INSERT INTO tconfig_os (id_os, name) VALUES (1, 'Linux'), (9, 'Windows')");
  for (let done = 0; done < AGENTS;) {
    const rows: unknown[][] = [];
    for (let k = 0; k < 1000 && done < AGENTS; k++, done++) {
      const i = done + 1;
      const critical = i % 17 === 0 ? 1 : 0;
      const warning = i % 11 === 0 ? 2 : 0;
      const unknown = i % 13 === 0 ? 1 : 0;
      const notinit = i % 50 === 0 ? 10 : 0;
      const normal = i % 50 === 0 ? 0 : 8;
      rows.push([
        i,
        `host-${i}.example.net`,
        `host&#x20;${i}`,
        i % 2 === 0 ? 2 : 3,
        i % 3 === 0 ? 9 : 1,
        `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        '2026-12-01 08:00:00',
        i % 97 === 0 ? 1 : 0,
        normal,
        warning,
        critical,
        unknown,
        notinit,
        normal + warning + critical + unknown + notinit,
        critical,
      ]);
    }
    await c.query(
      'INSERT INTO tagente (id_agente, nombre, alias, id_grupo, id_os, direccion, ultimo_contacto, disabled, normal_count, warning_count, critical_count, unknown_count, notinit_count, total_count, fired_count) VALUES ?',
      [rows],
    );
  }
  // One module per agent and an alert on every fourth (fired on the critical ones): what the
  // tactical view's alert counts go through.
  await c.query(
    'INSERT INTO tagente_modulo (id_agente_modulo, id_agente, nombre, id_tipo_modulo, id_modulo) SELECT id_agente, id_agente, ?, 1, 1 FROM tagente',
    ['cpu'],
  );
  await c.query(
    'INSERT INTO talert_template_modules (id_agent_module, id_alert_template, times_fired) SELECT id_agente, 1, IF(critical_count > 0, 1, 0) FROM tagente WHERE id_agente % 4 = 0',
  );
  await c.end();
  const root = await db.connect();
  for (let n = 2; n <= N; n++) {
    await db.freshDatabase(`bq${n}`);
    for (const t of [
      'tgrupo',
      'tconfig_os',
      'tagente',
      'tagente_modulo',
      'talert_template_modules',
      'tagent_secondary_group',
    ]) {
      await root.query(`CREATE TABLE bq${n}.${t} LIKE bq1.${t}`);
      await root.query(`INSERT INTO bq${n}.${t} SELECT * FROM bq1.${t}`);
    }
  }
  await root.end();
  await db.freshDatabase('bqcc');
  const cc = await db.connect('bqcc');
  await applySchema(cc, 'registry');
  for (let n = 1; n <= N; n++) {
    await cc.query(
      'INSERT INTO tmetaconsole_setup (id, server_name, dbhost, dbport, dbname, dbuser, dbpass) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [n, `instance ${n}`, db.host, String(db.port), `bq${n}`, db.user, db.password],
    );
  }
  await cc.end();
}

interface Figures {
  single: number;
  parallel: number;
  engine: number;
  rows: number;
}

async function measure(
  db: PrivateMariaDb,
  q: InstanceQuery,
  kind: 'agents' | 'tactical',
  limit: number,
  peak: { rss: number },
): Promise<Figures> {
  const plan = planRead(kind, {}, limit);
  const conns = await Promise.all(
    Array.from({ length: N }, (_, i) =>
      mysql.createConnection({
        ...db.facts,
        database: `bq${i + 1}`,
        supportBigNumbers: true,
        bigNumberStrings: true,
        dateStrings: true,
        charset: 'utf8mb4',
      }),
    ),
  );
  const time = async (f: () => Promise<unknown>) => {
    const t = performance.now();
    await f();
    return performance.now() - t;
  };
  const run = (c: mysql.Connection) => c.query(plan.statement.sql, plan.statement.params);
  await Promise.all(conns.map(run));
  const singles: number[] = [];
  const parallels: number[] = [];
  const engines: number[] = [];
  let rows = 0;
  await q.run(kind, {});
  for (let r = 0; r < RUNS; r++) {
    const each: number[] = [];
    for (const c of conns) each.push(await time(() => run(c)));
    singles.push(Math.max(...each));
    parallels.push(await time(() => Promise.all(conns.map(run))));
    // Peak RSS of the engine's runs only (the baselines hold their own result sets).
    const sampler = setInterval(
      () => (peak.rss = Math.max(peak.rss, process.memoryUsage().rss)),
      5,
    );
    engines.push(
      await time(async () => {
        const a = await q.run(kind, {});
        rows = a.rows.length;
        if (a.instances.some((i) => !i.ok)) throw new Error(JSON.stringify(a.instances));
      }),
    );
    clearInterval(sampler);
  }
  await Promise.all(conns.map((c) => c.end()));
  return { single: median(singles), parallel: median(parallels), engine: median(engines), rows };
}

async function main(): Promise<void> {
  const db = await startMariaDb();
  try {
    const t0 = performance.now();
    await seed(db);
    console.log(
      `instance-query: ${N} Instances x ${AGENTS} agents seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s; median of ${RUNS} runs`,
    );
    const cc = createPool({ ...db.facts, database: 'bqcc' });
    const all = new InstanceQuery({ cc, limit: AGENTS, timeoutMs: 60_000 });
    const usual = new InstanceQuery({ cc, timeoutMs: 60_000 });
    for (const [label, q, kind, limit] of [
      [`agents (limit ${AGENTS})`, all, 'agents', AGENTS],
      ['agents (limit 1000)', usual, 'agents', 1000],
      ['tactical', usual, 'tactical', 1000],
    ] as const) {
      global.gc?.();
      const before = process.memoryUsage().rss;
      const peak = { rss: before };
      const f = await measure(db, q, kind, limit, peak);
      console.log(
        `${label}: engine ${f.engine.toFixed(1)} ms (${f.rows} rows) | slowest single-Instance SELECT ${f.single.toFixed(1)} ms -> x${(f.engine / f.single).toFixed(2)} (goal <= 1.5) | raw parallel SELECTs ${f.parallel.toFixed(1)} ms -> x${(f.engine / f.parallel).toFixed(2)} | peak RSS ${mib(peak.rss).toFixed(0)} MiB (${mib(before).toFixed(0)} before)`,
      );
    }
    await all.close();
    await usual.close();
    await cc.end();
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
