/**
 * The Command Center's tsync_queue as this engine reads and writes it: a node's items in id
 * order, its backlog, the notes written into a failing item's `error` column, the removal of
 * applied items (fenced by the node's lease with `cluster` on) and of a skipped one.
 */
import type { ResultSetHeader, RowDataPacket } from 'mysql2';
import type { Pool } from '../db/pool';
import { inTransaction, type Fence } from '../db/transaction';
import type { QueueItem } from './queue-items';

export async function pendingCount(cc: Pool, target: number): Promise<number> {
  const [rows] = await cc.query<({ n: string | number } & RowDataPacket)[]>(
    'SELECT COUNT(*) AS n FROM tsync_queue WHERE target = ?',
    [target],
  );
  return Number(rows[0].n);
}

/** Per target: how many items are queued and the newest one's id. */
export interface QueueHead {
  n: number;
  last: string;
}

/**
 * Every target's backlog in one query (tsync_queue has no index on `target`: one scan for all
 * the Instances instead of one per Instance).
 */
export async function queueHeads(cc: Pool): Promise<Map<number, QueueHead>> {
  const [rows] = await cc.query<
    ({ target: string | number; n: string | number; last: string | number } & RowDataPacket)[]
  >('SELECT target, COUNT(*) AS n, MAX(id) AS last FROM tsync_queue GROUP BY target');
  return new Map(rows.map((r) => [Number(r.target), { n: Number(r.n), last: String(r.last) }]));
}

/** Up to `limit` of the node's items after `afterId`, in id order. */
export async function readItems(
  cc: Pool,
  target: number,
  afterId: string | null,
  limit: number,
): Promise<QueueItem[]> {
  const [rows] = await cc.query<(QueueItem & RowDataPacket)[]>(
    'SELECT id, `sql`, `table`, operation, error FROM tsync_queue WHERE target = ? AND id > ? ORDER BY id LIMIT ?',
    [target, afterId ?? '0', limit],
  );
  return rows.map((r) => ({ ...r, id: String(r.id) }));
}

/** Writes why an item is held (its failure, or a named operation's note). */
export async function noteItem(cc: Pool, id: string, note: string): Promise<void> {
  await cc.query('UPDATE tsync_queue SET error = ? WHERE id = ?', [note, id]);
}

/** Removes applied items; with a fence, in a transaction the node's lease is checked in. */
export async function dequeue(cc: Pool, ids: string[], fence?: Fence): Promise<void> {
  if (!fence) {
    await cc.query('DELETE FROM tsync_queue WHERE id IN (?)', [ids]);
    return;
  }
  await inTransaction(cc, (conn) => conn.query('DELETE FROM tsync_queue WHERE id IN (?)', [ids]), {
    fence,
  });
}

export interface QueuedRow extends QueueItem {
  target: number;
}

function queuedRow(r: QueueItem & { target: string | number }): QueuedRow {
  return {
    id: String(r.id),
    target: Number(r.target),
    sql: r.sql,
    table: r.table,
    operation: r.operation,
    error: r.error,
  };
}

/** Removes one item (skip) and returns it as it was; null when it is not queued. */
export async function takeItem(cc: Pool, id: string): Promise<QueuedRow | null> {
  return inTransaction(cc, async (conn) => {
    const [rows] = await conn.query<(QueueItem & { target: string | number } & RowDataPacket)[]>(
      'SELECT id, target, `sql`, `table`, operation, error FROM tsync_queue WHERE id = ? FOR UPDATE',
      [id],
    );
    if (rows.length === 0) return null;
    await conn.query<ResultSetHeader>('DELETE FROM tsync_queue WHERE id = ?', [id]);
    return queuedRow(rows[0]);
  });
}

/** One item as it is queued, or null. */
export async function readItem(cc: Pool, id: string): Promise<QueuedRow | null> {
  const [rows] = await cc.query<(QueueItem & { target: string | number } & RowDataPacket)[]>(
    'SELECT id, target, `sql`, `table`, operation, error FROM tsync_queue WHERE id = ?',
    [id],
  );
  return rows.length > 0 ? queuedRow(rows[0]) : null;
}
