/**
 * Consumer of the Command Center's tsync_queue, the way Pandora's Synchronizer replays it: per
 * target node, in id order, the head item blocking its node until it applies. An applied item is
 * recorded on the Instance in the same transaction as the statement (tsync_replica_applied), then
 * removed from the queue; a crash in between replays as "already applied, just dequeue".
 */
import type { Pool, PoolConnection } from '../db/pool';
import type { RowDataPacket } from 'mysql2';
import { countCascades, TableCounts } from './apply';
import { queueSql } from './sqltext';
import { parseStatement, safeSqlMode } from './statement';
import { TableDef } from './tables';

export interface QueueItem {
  id: string;
  sql: string | null;
  table: string | null;
  error: string | null;
}

export interface QueueHooks {
  /** Called after the Instance transaction commits and before the item leaves the queue. */
  afterApply?: (item: QueueItem) => Promise<void> | void;
}

export interface DrainResult {
  applied: Record<string, TableCounts>;
  cascaded: Record<string, number>;
  /** Items removed from the queue this time (applied now or found applied before). */
  dequeued: number;
  /** Items still queued for this node after the drain. */
  pending: number;
  /** The head item's failure, also written to its `error` column. */
  error?: { id: string; message: string };
}

export interface DrainOptions {
  ccUid: string;
  /** The synchronized tables this node is allowed to write. */
  tables: TableDef[];
  batch?: number;
  hooks?: QueueHooks;
}

class ItemRefused extends Error {}

async function pendingCount(cc: Pool, target: number): Promise<number> {
  const [rows] = (await cc.query('SELECT COUNT(*) AS n FROM tsync_queue WHERE target = ?', [
    target,
  ])) as unknown as [{ n: string | number }[]];
  return Number(rows[0].n);
}

/** Applies this node's items in order until the queue is empty, the batch is done or one fails. */
export async function drainQueue(
  cc: Pool,
  inst: { id: number; pool: Pool },
  opts: DrainOptions,
): Promise<DrainResult> {
  const result: DrainResult = { applied: {}, cascaded: {}, dequeued: 0, pending: 0 };
  const [items] = (await cc.query(
    'SELECT id, `sql`, `table`, error FROM tsync_queue WHERE target = ? ORDER BY id LIMIT ?',
    [inst.id, opts.batch ?? 500],
  )) as unknown as [QueueItem[]];

  let conn: PoolConnection | null = null;
  try {
    for (const item of items) {
      const id = String(item.id);
      try {
        conn ??= await queueConnection(inst.pool);
        await applyItem(cc, conn, item, opts, result);
      } catch (err) {
        const message =
          err instanceof ItemRefused
            ? err.message
            : `instance ${inst.id}: ${(err as Error).message ?? String(err)}`;
        result.error = { id, message };
        await cc
          .query('UPDATE tsync_queue SET error = ? WHERE id = ?', [message, id])
          .catch(() => undefined);
        break;
      }
    }
  } finally {
    conn?.release();
  }
  result.pending = await pendingCount(cc, inst.id);
  return result;
}

/**
 * One Instance connection for a whole drain, its sql_mode cleared of the flags that would make
 * MariaDB read a literal differently from the check in statement.ts.
 */
async function queueConnection(pool: Pool): Promise<PoolConnection> {
  const conn = await pool.getConnection();
  try {
    const [rows] = await conn.query<({ mode: string } & RowDataPacket)[]>(
      'SELECT @@SESSION.sql_mode AS mode',
    );
    const mode = rows[0]?.mode ?? '';
    const safe = safeSqlMode(mode);
    if (safe !== mode) await conn.query('SET SESSION sql_mode = ?', [safe]);
    return conn;
  } catch (err) {
    conn.release();
    throw err;
  }
}

async function applyItem(
  cc: Pool,
  conn: PoolConnection,
  item: QueueItem,
  opts: DrainOptions,
  result: DrainResult,
): Promise<void> {
  const id = String(item.id);
  const parsed = parseStatement(queueSql(item.sql ?? ''));
  if ('error' in parsed) throw new ItemRefused(`tsync_queue item ${id} refused: ${parsed.error}`);
  const def = opts.tables.find((t) => t.table === parsed.table);
  if (!def) {
    throw new ItemRefused(
      `tsync_queue item ${id} refused: table ${parsed.table} is not one of the synchronized objects this node replicates`,
    );
  }
  const declared = (item.table ?? '').trim().toLowerCase();
  if (declared && declared !== parsed.table) {
    throw new ItemRefused(
      `tsync_queue item ${id} refused: its table column says ${declared} but the statement writes ${parsed.table}`,
    );
  }

  let done = false;
  try {
    await conn.beginTransaction();
    const [seen] = (await conn.query(
      'SELECT 1 AS x FROM tsync_replica_applied WHERE cc_uid = ? AND queue_id = ?',
      [opts.ccUid, id],
    )) as unknown as [unknown[]];
    if (seen.length === 0) {
      const counts = (result.applied[parsed.table] ??= { inserted: 0, updated: 0, deleted: 0 });
      const run = async (): Promise<void> => {
        try {
          const [res] = (await conn.query(parsed.sql)) as unknown as [{ affectedRows?: number }];
          const n = res.affectedRows ?? 0;
          if (parsed.verb === 'DELETE') counts.deleted += n;
          else if (parsed.verb === 'UPDATE') counts.updated += n;
          else counts.inserted += n;
        } catch (err) {
          // An INSERT that carries its primary key and finds the row already there was applied
          // before (by a crash replay, or the table comparison got there first).
          if ((err as { code?: string }).code === 'ER_DUP_ENTRY' && parsed.verb === 'INSERT')
            return;
          throw err;
        }
      };
      if (parsed.verb === 'DELETE' || parsed.verb === 'REPLACE') {
        await countCascades(conn, def, result.cascaded, run);
      } else await run();
      await conn.query(
        'INSERT INTO tsync_replica_applied (cc_uid, queue_id, applied_at) VALUES (?, ?, UNIX_TIMESTAMP())',
        [opts.ccUid, id],
      );
      // Items are applied in id order, so anything older for this CC has left the queue.
      await conn.query('DELETE FROM tsync_replica_applied WHERE cc_uid = ? AND queue_id < ?', [
        opts.ccUid,
        id,
      ]);
    }
    await conn.commit();
    done = true;
  } finally {
    if (!done) await conn.rollback().catch(() => undefined);
  }
  await opts.hooks?.afterApply?.(item);
  await cc.query('DELETE FROM tsync_queue WHERE id = ?', [id]);
  result.dequeued += 1;
}
