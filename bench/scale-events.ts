/**
 * event-pull lag under a steady load: 4 instances receive R events/s in total (a tick every
 * 100 ms), one EventPuller (interval 100 ms) copies them into the Command Center; the lag of a
 * tick is the time from its INSERT to its last event being visible in tmetaconsole_event.
 * Runs at R and 2R (default 2,000 and 4,000 events/s). Baseline in the same run and shape: a
 * bare loop of INSERT ... SELECT id > last per instance every 100 ms (no names resolved, no
 * checkpoint table, no transactions of our own), the floor for a polling copier on this server.
 *
 *   node dist/bench/scale-events.js [rate=2000] [seconds=15]
 */
import type { Connection } from 'mysql2/promise';
import { createPool } from '../lib/db/pool';
import { EventPuller } from '../lib/events';
import { startMariaDb, PrivateMariaDb } from '../test/helpers/mariadb';
import { createCommandCenter, createInstance, insertEvents } from '../test/events/fixtures/pandora';
import { sleep } from '../test/helpers/wait';

const rate = Number(process.argv[2] ?? 2000);
const seconds = Number(process.argv[3] ?? 15);
const INSTANCES = 4;

async function maxPer(c: Connection, sql: string): Promise<Map<number, number>> {
  const [rows] = (await c.query(sql)) as unknown as [{ s: number; n: string | number }[]];
  return new Map(rows.map((r) => [Number(r.s), Number(r.n)]));
}

/** Drives the load for `seconds` and returns each tick's lag in ms, sorted. */
async function drive(
  db: PrivateMariaDb,
  names: string[],
  cc: Connection,
  visible: string,
  r: number,
): Promise<number[]> {
  const conns = await Promise.all(names.map((n) => db.connect(n)));
  const base = await Promise.all(
    conns.map(async (c) => {
      const [[row]] = (await c.query(
        'SELECT COALESCE(MAX(id_evento), 0) AS n FROM tevento',
      )) as unknown as [[{ n: string }]];
      return Number(row.n);
    }),
  );
  const perTick = Math.max(1, Math.round(r / 10 / names.length));
  const ticks: { inst: number; lastId: number; at: number }[] = [];
  const seen: number[] = [];
  let stop = false;
  const end = Date.now() + seconds * 1000;
  const poller = (async () => {
    while (!stop || seen.filter((x) => x !== undefined).length < ticks.length) {
      const max = await maxPer(cc, visible);
      const now = Date.now();
      ticks.forEach((t, k) => {
        if (seen[k] === undefined && (max.get(t.inst + 1) ?? 0) >= t.lastId) seen[k] = now;
      });
      if (stop && Date.now() > end + 30_000) break;
      await sleep(10);
    }
  })();
  const counts = names.map(() => 0);
  while (Date.now() < end) {
    const t = Date.now();
    await Promise.all(
      conns.map(async (c, i) => {
        await insertEvents(c, perTick, counts[i]);
        counts[i] += perTick;
        ticks.push({ inst: i, lastId: base[i] + counts[i], at: t });
      }),
    );
    await sleep(Math.max(0, 100 - (Date.now() - t)));
  }
  stop = true;
  await poller;
  await Promise.all(conns.map((c) => c.end()));
  return ticks.map((t, k) => (seen[k] ?? Infinity) - t.at).sort((a, b) => a - b);
}

async function ours(db: PrivateMariaDb, r: number): Promise<number[]> {
  const names = Array.from({ length: INSTANCES }, (_, i) => `o${r}_node${i + 1}`);
  for (const n of names) await createInstance(db, n);
  await createCommandCenter(
    db,
    `o${r}_cc`,
    names.map((n, i) => ({ id: i + 1, name: n, port: db.port, dbname: n })),
  );
  const pool = createPool({ ...db.facts, database: `o${r}_cc` }, { connectionLimit: 8 });
  const puller = new EventPuller({ cc: pool, intervalMs: 100, batchSize: 1000 });
  puller.start();
  await sleep(500);
  const cc = await db.connect(`o${r}_cc`);
  const lags = await drive(
    db,
    names,
    cc,
    'SELECT server_id AS s, MAX(id_source_event) AS n FROM tmetaconsole_event GROUP BY server_id',
    r,
  );
  await puller.close();
  await cc.end();
  await pool.end();
  return lags;
}

async function baseline(db: PrivateMariaDb, r: number): Promise<number[]> {
  const names = Array.from({ length: INSTANCES }, (_, i) => `b${r}_node${i + 1}`);
  for (const n of names) await createInstance(db, n);
  await db.freshDatabase(`b${r}_cc`);
  const cc = await db.connect(`b${r}_cc`);
  await cc.query(
    'CREATE TABLE copy (server_id INT NOT NULL, id_source_event BIGINT NOT NULL, evento TEXT, utimestamp BIGINT, PRIMARY KEY (server_id, id_source_event))',
  );
  let stop = false;
  const copiers = names.map(async (n, i) => {
    const c = await db.connect(`b${r}_cc`);
    let last = 0;
    while (!stop) {
      const t = Date.now();
      await c.query(
        `INSERT INTO copy SELECT ?, id_evento, evento, utimestamp FROM \`${n}\`.tevento WHERE id_evento > ? ORDER BY id_evento LIMIT 1000`,
        [i + 1, last],
      );
      const [[row]] = (await c.query(
        'SELECT COALESCE(MAX(id_source_event), 0) AS n FROM copy WHERE server_id = ?',
        [i + 1],
      )) as unknown as [[{ n: string }]];
      last = Number(row.n);
      await sleep(Math.max(0, 100 - (Date.now() - t)));
    }
    await c.end();
  });
  const lags = await drive(
    db,
    names,
    cc,
    'SELECT server_id AS s, MAX(id_source_event) AS n FROM copy GROUP BY server_id',
    r,
  );
  stop = true;
  await Promise.all(copiers);
  await cc.end();
  return lags;
}

function pct(l: number[]): string {
  const q = (x: number) => l[Math.min(l.length - 1, Math.floor(x * l.length))];
  return `p50 ${q(0.5)} ms, p95 ${q(0.95)} ms, p99 ${q(0.99)} ms, max ${l[l.length - 1]} ms (${l.length} ticks)`;
}

async function main(): Promise<void> {
  const db = await startMariaDb();
  try {
    console.log(
      `scale-events: ${INSTANCES} instances, steady ${rate} and ${2 * rate} events/s in total, ${seconds} s each, interval 100 ms`,
    );
    const p99: Record<string, number> = {};
    for (const r of [rate, 2 * rate]) {
      const b = await baseline(db, r);
      const o = await ours(db, r);
      console.log(`baseline INSERT...SELECT loop at ${r} ev/s: ${pct(b)}`);
      console.log(`event-pull at ${r} ev/s:                 ${pct(o)}`);
      p99[`b${r}`] = b[Math.floor(0.99 * b.length)];
      p99[`o${r}`] = o[Math.floor(0.99 * o.length)];
    }
    console.log(
      `growth ${rate} -> ${2 * rate} ev/s: event-pull p99 x${(p99[`o${2 * rate}`] / p99[`o${rate}`]).toFixed(2)} (baseline x${(p99[`b${2 * rate}`] / p99[`b${rate}`]).toFixed(2)})`,
    );
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
