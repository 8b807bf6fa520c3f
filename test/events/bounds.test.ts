/**
 * A hostile (or merely huge) Instance cannot make event-pull hold more than its budget: batches are
 * cut by the bytes of their values, an event's comments by count and bytes (newest kept, a mark
 * for the rest), and still every event lands once and later comments reach the copy.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPool, Pool } from '../../lib/db/pool';
import { EventBatch, EventPuller } from '../../lib/events';
import { runChild } from '../helpers/child';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { until } from '../helpers/wait';
import { createCommandCenter, createInstance } from './fixtures/pandora';

interface Entry {
  comment: string;
  action: string;
  id_user: string;
  utimestamp: number;
}

const KIB64 = 65535;

async function one(c: { query: Pool['query'] }, sql: string, values: unknown[] = []) {
  const [rows] = (await c.query(sql, values)) as unknown as [Record<string, unknown>[]];
  return rows[0];
}

/** Events whose four biggest text columns are full (64 KiB each), from the seq engine. */
async function bigEvents(c: { query: Pool['query'] }, count: number): Promise<void> {
  await c.query(
    `INSERT INTO tevento (id_agente, id_grupo, estado, evento, utimestamp, event_type, custom_data, critical_instructions, warning_instructions, unknown_instructions)
     SELECT 7, 2, 0, CONCAT(LPAD(seq, 10, '0'), REPEAT('e', ${KIB64 - 10})), UNIX_TIMESTAMP(), 'system',
            REPEAT('c', ${KIB64}), REPEAT('k', ${KIB64}), REPEAT('w', ${KIB64}), REPEAT('u', ${KIB64})
     FROM seq_1_to_${count}`,
  );
}

/** `count` comments on one event, numbered 1.. in their text and utimestamp. */
async function comments(
  c: { query: Pool['query'] },
  event: number,
  count: number,
  pad = 40,
): Promise<void> {
  await c.query(
    `INSERT INTO tevent_comment (id_event, utimestamp, comment, id_user, action)
     SELECT ?, seq, CONCAT('comment ', seq, ' ', REPEAT('.', ${pad})), 'admin', 'Added comment' FROM seq_1_to_${count}`,
    [event],
  );
}

/** Peak resident memory of a live process, in MiB (Linux VmHWM). */
function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmHWM for ${pid}`);
  return Number(m[1]) / 1024;
}

describe('event-pull bounds what one round holds (real MariaDB)', () => {
  let db: PrivateMariaDb;
  const pools: Pool[] = [];

  before(async () => {
    db = await startMariaDb();
  });
  after(async () => {
    for (const p of pools) await p.end().catch(() => {});
    await db?.destroy();
  });

  it('cuts batches by bytes and comments by count and bytes, marks what it left out, and still copies every event once and later comments', async () => {
    await createInstance(db, 'b_node');
    await createCommandCenter(db, 'b_cc', [
      { id: 1, name: 'big', port: db.port, dbname: 'b_node' },
    ]);
    const n = await db.connect('b_node');
    const c = await db.connect('b_cc');
    await bigEvents(n, 40);
    await comments(n, 1, 50); // over the count limit
    await comments(n, 2, 3, 20_000); // over the byte limit: 3 × 20 KB > 32 KB
    await comments(n, 3, 2); // within both
    const cc = createPool({ ...db.facts, database: 'b_cc' });
    pools.push(cc);
    const puller = new EventPuller({
      cc,
      intervalMs: 0,
      batchSize: 1000,
      maxBatchBytes: 1024 * 1024,
      maxCommentsPerEvent: 10,
      maxCommentBytes: 32 * 1024,
    });
    const batches: EventBatch[] = [];
    puller.on('batch', (b: EventBatch) => batches.push(b));
    try {
      const r = await puller.requestRound();
      assert.equal(r.instances[0].error, undefined);
      assert.equal(r.instances[0].copied, 40);
      // 40 events of ~260 KB each in batches of at most 1 MiB: 3 a batch, at least 14 batches.
      const sizes = batches.filter((b) => b.kind === 'new').map((b) => b.events.length);
      assert.ok(sizes.length >= 14, `batches ${sizes.join(',')}`);
      assert.ok(
        sizes.every((s) => s <= 4),
        `batches ${sizes.join(',')}`,
      );
      const copied = await one(
        c,
        'SELECT COUNT(*) AS n, COUNT(DISTINCT id_source_event) AS d, MIN(LENGTH(custom_data)) AS l FROM tmetaconsole_event',
      );
      assert.deepEqual([Number(copied.n), Number(copied.d), Number(copied.l)], [40, 40, KIB64]);

      const commentsOf = async (id: number): Promise<Entry[]> =>
        JSON.parse(
          String(
            (
              await one(
                c,
                'SELECT user_comment FROM tmetaconsole_event WHERE server_id = 1 AND id_source_event = ?',
                [id],
              )
            ).user_comment,
          ),
        ) as Entry[];
      // Event 1: the newest 10 of 50, after a mark that counts the 40 left out.
      let list = await commentsOf(1);
      assert.equal(list.length, 11);
      assert.match(list[0].comment, /^\[event-pull\] 40 older comment\(s\) not copied/);
      assert.equal(list[0].action, 'comments truncated');
      assert.deepEqual(
        list.slice(1).map((e) => e.utimestamp),
        [41, 42, 43, 44, 45, 46, 47, 48, 49, 50],
      );
      // Event 2: only the newest fits 32 KB.
      list = await commentsOf(2);
      assert.equal(list.length, 2);
      assert.match(list[0].comment, /^\[event-pull\] 2 older comment\(s\) not copied/);
      assert.equal(list[1].utimestamp, 3);
      // Event 3: whole, no mark.
      assert.deepEqual(
        (await commentsOf(3)).map((e) => e.utimestamp),
        [1, 2],
      );

      // A later comment reaches the copy: the window moves and the mark counts one more.
      await n.query(
        "INSERT INTO tevent_comment (id_event, utimestamp, comment, id_user, action) VALUES (1, 51, 'the latest', 'admin', 'Added comment')",
      );
      const r2 = await puller.requestRound();
      assert.equal(r2.instances[0].error, undefined);
      assert.equal(r2.instances[0].updated, 1);
      list = await commentsOf(1);
      assert.equal(list.length, 11);
      assert.match(list[0].comment, /^\[event-pull\] 41 older comment\(s\) not copied/);
      assert.equal(list[10].comment, 'the latest');
      // Nothing changed since: the comparison (by digest) finds nothing to update.
      const r3 = await puller.requestRound();
      assert.equal(r3.instances[0].updated, 0);
    } finally {
      await puller.close();
      await Promise.all([n.end(), c.end()]);
    }
  });

  it('a million comments on one event and events with 64 KiB texts: the peak memory follows the budget, not the Instance', async () => {
    const script = join(__dirname, 'fixtures', 'bounded-pull-child.js');
    /** Runs a puller child (maxBatchBytes `mib`, default when absent) until `done`; its peak RSS. */
    const run = async (cc: string, done: () => Promise<boolean>, mib?: number) => {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        PULL_CC: JSON.stringify({ ...db.facts, database: cc }),
      };
      if (mib) env.PULL_BATCH_BYTES = String(mib * 1024 * 1024);
      const child = await runChild(script, { env });
      try {
        assert.ok(await until(done, 600_000, 250), `the copy of ${cc} completed`);
        return peakRssMiB(child.process.pid!);
      } finally {
        await child.kill();
      }
    };
    const copies = (c: { query: Pool['query'] }, n: number) => async () =>
      Number((await one(c, 'SELECT COUNT(*) AS n FROM tmetaconsole_event')).n) === n;

    // The baseline: the same child copying a few small events.
    await createInstance(db, 'm0_node');
    await createCommandCenter(db, 'm0_cc', [
      { id: 1, name: 'small', port: db.port, dbname: 'm0_node' },
    ]);
    const n0 = await db.connect('m0_node');
    await n0.query(
      "INSERT INTO tevento (id_agente, evento, utimestamp) SELECT 7, CONCAT('small ', seq), UNIX_TIMESTAMP() FROM seq_1_to_10",
    );
    await comments(n0, 1, 3);
    const c0 = await db.connect('m0_cc');
    const baseline = await run('m0_cc', copies(c0, 10));

    await createInstance(db, 'm_node');
    const n = await db.connect('m_node');
    await bigEvents(n, 600); // 600 × 5 × 64 KiB = 190 MiB of text
    await comments(n, 1, 1_000_000, 100); // ~140 MiB of comments on one event
    const grown: Record<number, number> = {};
    for (const mib of [16, 4]) {
      const cc = `m${mib}_cc`;
      await createCommandCenter(db, cc, [{ id: 1, name: 'huge', port: db.port, dbname: 'm_node' }]);
      const c = await db.connect(cc);
      const peak = await run(cc, copies(c, 600), mib === 16 ? undefined : mib);
      grown[mib] = peak - baseline;
      process.stdout.write(
        `# maxBatchBytes ${mib} MiB: peak RSS ${peak.toFixed(0)} MiB, baseline ${baseline.toFixed(0)} MiB, grown ${grown[mib].toFixed(0)} MiB\n`,
      );
      const list = JSON.parse(
        String(
          (await one(c, 'SELECT user_comment FROM tmetaconsole_event WHERE id_source_event = 1'))
            .user_comment,
        ),
      ) as Entry[];
      assert.equal(list.length, 1001);
      assert.match(list[0].comment, /^\[event-pull\] 999000 older comment\(s\) not copied/);
      assert.equal(list[1000].utimestamp, 1_000_000);
      const sizes = await one(
        c,
        'SELECT COUNT(DISTINCT id_source_event) AS d, MIN(LENGTH(evento)) AS l FROM tmetaconsole_event',
      );
      assert.deepEqual([Number(sizes.d), Number(sizes.l)], [600, KIB64]);
      await c.end();
    }
    // A few batches live at once (two writing, one read ahead), each as rows and as SQL text, and
    // what the collector has not taken back yet: a generous bound of 24 budgets, far below the
    // 330 MiB the Instance holds; and a smaller budget holds less.
    assert.ok(grown[16] < 24 * 16, `peak RSS grew by ${grown[16].toFixed(0)} MiB`);
    assert.ok(
      grown[4] < grown[16],
      `4 MiB: ${grown[4].toFixed(0)} MiB, 16 MiB: ${grown[16].toFixed(0)} MiB`,
    );
    await Promise.all([n0.end(), c0.end(), n.end()]);
  });
});
