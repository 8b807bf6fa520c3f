/**
 * event-pull throughput and lag, beside the same server's INSERT ... SELECT as the upper bound.
 * Beside each time it prints the CPU spent per 1,000 events by this process and by mariadbd
 * (Linux /proc): on a shared machine the times follow the load, the CPU much less.
 * Usage: node dist/bench/event-pull.js [eventsPerInstance=100000] [lagRate=1000] [lagSeconds=20]
 */
import { readFileSync } from 'node:fs';
import type { Connection } from 'mysql2/promise';
import { createPool } from '../lib/db/pool';
import { applySchema } from '../test/helpers/schema';
import { EventPuller } from '../lib/events';
import { startMariaDb, PrivateMariaDb } from '../test/helpers/mariadb';
import { createCommandCenter, createInstance, insertEvents } from '../test/events/fixtures/pandora';
import { sleep } from '../test/helpers/wait';

const perInstance = Number(process.argv[2] ?? 100_000);
const lagRate = Number(process.argv[3] ?? 1000);
const lagSeconds = Number(process.argv[4] ?? 20);

/** CPU ms used so far by this process and by the database server (null where /proc is not). */
function cpuNow(db: PrivateMariaDb): { node: number; server: number | null } {
  const u = process.cpuUsage();
  let server: number | null = null;
  try {
    // Fields 14 and 15 of /proc/PID/stat (after the command name): utime, stime in clock ticks.
    const f = readFileSync(`/proc/${db.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    server = (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    // not Linux, or no such process: times only
  }
  return { node: (u.user + u.system) / 1000, server };
}

/** "node 9.8 + mariadbd 13.2 ms CPU per 1,000 events" since `from`. */
function cpuPer1000(db: PrivateMariaDb, from: ReturnType<typeof cpuNow>, events: number): string {
  const now = cpuNow(db);
  const per = (ms: number) => ((ms / events) * 1000).toFixed(1);
  const server = now.server === null || from.server === null ? '?' : per(now.server - from.server);
  return `CPU per 1,000 events: node ${per(now.node - from.node)} ms, mariadbd ${server} ms`;
}

async function count(c: Connection, sql: string): Promise<number> {
  const [rows] = (await c.query(sql)) as unknown as [{ n: string | number }[]];
  return Number(rows[0].n);
}

const COLS =
  'id_agente, id_usuario, id_grupo, estado, timestamp, evento, utimestamp, event_type, id_agentmodule, id_alert_am, criticity, tags, source, id_extra, critical_instructions, warning_instructions, unknown_instructions, owner_user, ack_utimestamp, custom_data, data, module_status, event_custom_id';

/** The upper bound: one server-side INSERT ... SELECT per instance, with the same name joins. */
async function baseline(
  db: PrivateMariaDb,
  instances: string[],
): Promise<{ s: number; cpu: string }> {
  await db.freshDatabase('cc_base');
  const c = await db.connect('cc_base');
  await applySchema(c, 'event-copy');
  const cpu0 = cpuNow(db);
  const t0 = performance.now();
  let id = 0;
  for (const n of instances) {
    id++;
    const e = COLS.split(', ')
      .map((x) => `e.\`${x}\``)
      .join(', ');
    await c.query(
      `INSERT INTO tmetaconsole_event (id_source_event, server_id, ${COLS}, agent_name, group_name, module_name, alert_template_name, user_comment) ` +
        `SELECT e.id_evento, ${id}, ${e}, COALESCE(a.nombre, ''), CASE WHEN e.id_grupo = 0 THEN 'All' ELSE COALESCE(g.nombre, '') END, COALESCE(m.nombre, ''), COALESCE(tt.name, ''), '' ` +
        `FROM \`${n}\`.tevento e LEFT JOIN \`${n}\`.tagente a ON a.id_agente = e.id_agente LEFT JOIN \`${n}\`.tgrupo g ON g.id_grupo = e.id_grupo ` +
        `LEFT JOIN \`${n}\`.tagente_modulo m ON m.id_agente_modulo = e.id_agentmodule LEFT JOIN \`${n}\`.talert_template_modules tm ON tm.id = e.id_alert_am ` +
        `LEFT JOIN \`${n}\`.talert_templates tt ON tt.id = tm.id_alert_template`,
    );
  }
  const s = (performance.now() - t0) / 1000;
  const cpu = cpuPer1000(db, cpu0, perInstance * instances.length);
  await c.end();
  return { s, cpu };
}

async function ours(
  db: PrivateMariaDb,
  ccName: string,
  instances: string[],
): Promise<{ s: number; cpu: string }> {
  await createCommandCenter(
    db,
    ccName,
    instances.map((n, i) => ({ id: i + 1, name: n, port: db.port, dbname: n })),
  );
  const cc = createPool({ ...db.facts, database: ccName }, { connectionLimit: 8 });
  const puller = new EventPuller({ cc, intervalMs: 0, batchSize: 1000, maxDrainMs: 3_600_000 });
  // The node always listens: the events it would send are built and handed over here too.
  puller.on('batch', () => {});
  const cpu0 = cpuNow(db);
  const t0 = performance.now();
  const r = await puller.requestRound();
  const s = (performance.now() - t0) / 1000;
  const cpu = cpuPer1000(db, cpu0, perInstance * instances.length);
  const copied = r.instances.reduce((a, i) => a + i.copied, 0);
  if (copied !== perInstance * instances.length) throw new Error(`copied ${copied}`);
  await puller.close();
  await cc.end();
  return { s, cpu };
}

async function lag(db: PrivateMariaDb): Promise<number[]> {
  await createInstance(db, 'lag_node');
  await createCommandCenter(db, 'lag_cc', [
    { id: 1, name: 'lag', port: db.port, dbname: 'lag_node' },
  ]);
  const cc = createPool({ ...db.facts, database: 'lag_cc' });
  const puller = new EventPuller({ cc, intervalMs: 100, batchSize: 1000 });
  puller.start();
  const node = await db.connect('lag_node');
  const check = await db.connect('lag_cc');
  await sleep(500);
  const ticks: { lastId: number; at: number }[] = [];
  const seen: number[] = [];
  const perTick = Math.max(1, Math.round(lagRate / 10));
  const end = Date.now() + lagSeconds * 1000;
  let stop = false;
  const poller = (async () => {
    let next = 0;
    while (!stop || next < ticks.length) {
      const max = await count(
        check,
        'SELECT COALESCE(MAX(id_source_event), 0) AS n FROM tmetaconsole_event',
      );
      const now = Date.now();
      while (next < ticks.length && ticks[next].lastId <= max) seen[next++] = now;
      if (stop && Date.now() > end + 30_000) break;
      await sleep(20);
    }
  })();
  let i = 0;
  while (Date.now() < end) {
    const t = Date.now();
    await insertEvents(node, perTick, i * perTick);
    ticks.push({ lastId: (i + 1) * perTick, at: t });
    i++;
    await sleep(Math.max(0, 100 - (Date.now() - t)));
  }
  stop = true;
  await poller;
  await puller.close();
  await Promise.all([node.end(), check.end(), cc.end()]);
  return ticks.map((t, k) => (seen[k] ?? Infinity) - t.at).sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const db = await startMariaDb();
  try {
    const names = ['b_node1', 'b_node2', 'b_node3', 'b_node4'];
    for (const n of names) {
      await createInstance(db, n);
      const c = await db.connect(n);
      await insertEvents(c, perInstance);
      await c.end();
    }
    console.log(`event-pull: ${perInstance} events per instance, batchSize 1000`);
    const b1 = await baseline(db, names.slice(0, 1));
    const o1 = await ours(db, 'cc_one', names.slice(0, 1));
    const b4 = await baseline(db, names);
    const o4 = await ours(db, 'cc_four', names);
    const rate = (n: number, s: number) => `${Math.round(n / s)} ev/s (${s.toFixed(2)} s)`;
    const line = (label: string, n: number, o: typeof o1, b: typeof b1) => {
      console.log(
        `${label}: event-pull ${rate(n, o.s)} | INSERT...SELECT ${rate(n, b.s)} | ratio ${(b.s / o.s).toFixed(2)}`,
      );
      console.log(`  event-pull      ${o.cpu}`);
      console.log(`  INSERT...SELECT ${b.cpu}`);
    };
    line('1 instance ', perInstance, o1, b1);
    line('4 instances', 4 * perInstance, o4, b4);
    const lags = await lag(db);
    const pick = (q: number) => lags[Math.min(lags.length - 1, Math.floor(q * lags.length))];
    console.log(
      `lag at ${lagRate} ev/s for ${lagSeconds} s (interval 0.1 s): p50 ${pick(0.5)} ms, p95 ${pick(0.95)} ms, max ${lags[lags.length - 1]} ms`,
    );
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
