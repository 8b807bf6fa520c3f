/**
 * Consumer of the Command Center's tsync_queue, the way Pandora's Synchronizer replays it: per
 * target node, in id order, a failing statement blocking its node until it applies or is
 * skipped. Every single-statement INSERT / UPDATE / DELETE / REPLACE that writes one table
 * present on the Instance is applied (statement.ts decides what a statement writes); a named
 * operation (an item whose `operation` is not SQL) is reported, marked in its `error` column and
 * passed over.
 *
 * Exactly once across crashes: statements are applied in Instance transactions of up to `batch`
 * items, each transaction also recording the ids it applied (tsync_replica_applied); only then
 * are the items removed from the queue. A crash in between replays as "already applied, just
 * dequeue".
 */
import type { ResultSetHeader, RowDataPacket } from 'mysql2';
import type { Pool, PoolConnection } from '../db/pool';
import { countCascades, TableCounts } from './apply';
import { CascadeEdge, cascadeEdges, cascadeTargets } from './schema-info';
import { queueSql } from './sqltext';
import { ParsedStatement, parseStatement, Refusal, safeSqlMode } from './statement';
import { MANAGED } from './tables';

export interface QueueItem {
  id: string;
  sql: string | null;
  table: string | null;
  operation: string | null;
  error: string | null;
}

export interface QueueHooks {
  /** Called for each item after its Instance transaction commits, before it leaves the queue. */
  afterApply?: (item: QueueItem) => Promise<void> | void;
}

/** A queue item that is not SQL (Pandora's named operations, such as a plugin refresh). */
export interface NamedOperation {
  id: string;
  operation: string;
  table: string;
  /**
   * What the item carries in its `sql` column (a plugin refresh: the plugin's file URL or id),
   * decoded and cut to CARRIES_MAX characters, so the operator can carry it out by hand.
   */
  carries: string;
}

const CARRIES_MAX = 500;

/**
 * The queue session's statement time limit, in seconds (MariaDB's max_statement_time). Pandora's
 * queued statements each write a few rows by key and take milliseconds; the heaviest, a DELETE
 * of a policy whose cascades reach tens of thousands of rows, takes seconds. A minute leaves room
 * for that on a slow Instance and bounds what a heavy or hostile statement holds the node: it is
 * stopped, rolled back and its error written to the item like any failure.
 */
export const STATEMENT_TIME_LIMIT_S = 60;

export interface DrainResult {
  applied: Record<string, TableCounts>;
  cascaded: Record<string, number>;
  /** Items removed from the queue this time (applied now or found applied before). */
  dequeued: number;
  /** Items still queued for this node after the drain (named operations included). */
  pending: number;
  /** Named operations marked this time (each is reported once, when first met). */
  operations: NamedOperation[];
  /** The item that stopped the drain: its failure, also written to its `error` column. */
  error?: { id: string; message: string };
}

export interface DrainOptions {
  ccUid: string;
  /** Items read per page and at most applied in one Instance transaction. */
  batch?: number;
  hooks?: QueueHooks;
  /** Checked between batches: true stops the drain (the node is closing). */
  stopping?: () => boolean;
  /**
   * Cluster: checks this member's lease of the Instance inside the Command Center transaction
   * that dequeues (the Instance side is kept exactly-once by tsync_replica_applied).
   */
  fence?: (conn: PoolConnection) => Promise<void>;
  /** The queue session's max_statement_time in seconds (default STATEMENT_TIME_LIMIT_S). */
  statementTimeLimitS?: number;
}

/** Why an item cannot be applied as it is; it stays queued, blocking its node. */
class ItemRefused extends Error {}

const SQL_OPERATION = /^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i;

/** True when the item is one of Pandora's named operations rather than a statement. */
export function isNamedOperation(operation: string | null): boolean {
  const op = (operation ?? '').trim();
  return op !== '' && !SQL_OPERATION.test(op);
}

export function namedOperationNote(op: string, carries = ''): string {
  const what = carries ? ` (it carries ${JSON.stringify(carries)})` : '';
  return `named operation "${op}"${what} is not SQL and metaconsole-replicate cannot carry it out; left in the queue (skip it once done by hand)`;
}

/** What a named operation's item carries, as an operator can read it. */
export function operationPayload(item: Pick<QueueItem, 'sql'>): string {
  const text = queueSql(item.sql ?? '').trim();
  return text.length > CARRIES_MAX ? `${text.slice(0, CARRIES_MAX)}…` : text;
}

/**
 * The same statement text is queued once per node: remember recent readings so each text is
 * parsed once, not once per Instance.
 */
const parsedCache = new Map<string, ParsedStatement | Refusal>();
const PARSED_CACHE_MAX = 2000;

export function readStatement(text: string): ParsedStatement | Refusal {
  let r = parsedCache.get(text);
  if (!r) {
    r = parseStatement(text);
    if (parsedCache.size >= PARSED_CACHE_MAX) parsedCache.clear();
    parsedCache.set(text, r);
  }
  return r;
}

/** Checks an item against the rules; the statement to run, or why not. */
export function checkItem(item: QueueItem, present: Set<string> | null): ParsedStatement {
  const id = String(item.id);
  const declared = (item.table ?? '').replace(/`/g, '').trim().toLowerCase();
  if (!declared) {
    throw new ItemRefused(
      `tsync_queue item ${id} refused: its table column is empty (Pandora's consoles always name the table they queue for)`,
    );
  }
  const parsed = readStatement(queueSql(item.sql ?? ''));
  if ('error' in parsed) throw new ItemRefused(`tsync_queue item ${id} refused: ${parsed.error}`);
  if (!MANAGED.has(parsed.table)) {
    throw new ItemRefused(
      `tsync_queue item ${id} refused: ${parsed.table} is not a centrally managed table (only the replicated kinds' tables and their child tables are written from the queue)`,
    );
  }
  if (declared !== parsed.table) {
    throw new ItemRefused(
      `tsync_queue item ${id} refused: its table column says ${declared} but the statement writes ${parsed.table}`,
    );
  }
  if (present && !present.has(parsed.table)) {
    throw new ItemRefused(
      `tsync_queue item ${id}: table ${parsed.table} does not exist on this instance`,
    );
  }
  return parsed;
}

export async function pendingCount(cc: Pool, target: number): Promise<number> {
  const [rows] = await cc.query<({ n: string | number } & RowDataPacket)[]>(
    'SELECT COUNT(*) AS n FROM tsync_queue WHERE target = ?',
    [target],
  );
  return Number(rows[0].n);
}

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

/**
 * One Instance connection for a whole drain, its sql_mode cleared of the flags that would make
 * MariaDB read a literal differently from the check in statement.ts, and its statements bounded
 * in time (max_statement_time, see STATEMENT_TIME_LIMIT_S).
 */
async function queueConnection(pool: Pool, limitS: number): Promise<PoolConnection> {
  const conn = await pool.getConnection();
  try {
    const [rows] = await conn.query<({ mode: string } & RowDataPacket)[]>(
      'SELECT @@SESSION.sql_mode AS mode',
    );
    const mode = rows[0]?.mode ?? '';
    const safe = safeSqlMode(mode);
    if (safe !== mode) await conn.query('SET SESSION sql_mode = ?', [safe]);
    await conn.query('SET SESSION max_statement_time = ?', [limitS]);
    return conn;
  } catch (err) {
    conn.release();
    throw err;
  }
}

interface Step {
  item: QueueItem;
  parsed: ParsedStatement;
}

interface BatchOutcome {
  /** Steps committed (applied now or found applied before). */
  done: number;
  failure?: { index: number; err: unknown };
}

class Drain {
  readonly result: DrainResult = {
    applied: {},
    cascaded: {},
    dequeued: 0,
    pending: 0,
    operations: [],
  };
  /** The Instance's declared cascades, read at the first DELETE or REPLACE of the drain. */
  private edges: CascadeEdge[] | null = null;

  constructor(
    private readonly cc: Pool,
    private readonly conn: PoolConnection,
    private readonly opts: DrainOptions,
  ) {}

  /** Marks a named operation once and reports it. */
  async passOver(item: QueueItem): Promise<void> {
    const op = (item.operation ?? '').trim();
    const carries = operationPayload(item);
    const note = namedOperationNote(op, carries);
    if (item.error === note) return;
    await this.cc.query('UPDATE tsync_queue SET error = ? WHERE id = ?', [note, item.id]);
    this.result.operations.push({
      id: item.id,
      operation: op,
      table: (item.table ?? '').trim(),
      carries,
    });
  }

  private async runOne(step: Step, counts: TableCounts): Promise<void> {
    const { parsed } = step;
    const run = async (): Promise<void> => {
      try {
        const [res] = await this.conn.query<ResultSetHeader>(parsed.sql);
        const n = res.affectedRows ?? 0;
        if (parsed.verb === 'DELETE') counts.deleted += n;
        else if (parsed.verb === 'UPDATE') counts.updated += n;
        else counts.inserted += n;
      } catch (err) {
        // An INSERT that carries its primary key (tusuario: its UNIQUE id_user) and finds that
        // row already there was applied before: the table comparison got there first. A clash on
        // another unique key (a name) is a real failure.
        if (parsed.verb === 'INSERT' && isIdentityClash(err)) return;
        if ((err as { code?: string }).code === 'ER_NO_SUCH_TABLE') {
          throw new ItemRefused(
            `tsync_queue item ${step.item.id}: table ${parsed.table} does not exist on this instance`,
          );
        }
        throw err;
      }
    };
    if (parsed.verb !== 'DELETE' && parsed.verb !== 'REPLACE') return run();
    this.edges ??= await cascadeEdges(this.conn);
    if (cascadeTargets(this.edges, parsed.table).length === 0) return run();
    await countCascades(this.conn, this.edges, parsed.table, this.result.cascaded, run);
  }

  /** Applies the steps in one Instance transaction; on a failure, commits nothing. */
  private async applyBatch(steps: Step[]): Promise<BatchOutcome> {
    const { conn } = this;
    const ids = steps.map((s) => s.item.id);
    const applied: Record<string, TableCounts> = {};
    const cascadedBefore = { ...this.result.cascaded };
    let done = false;
    let index = 0;
    try {
      await conn.beginTransaction();
      const [seenRows] = await conn.query<({ queue_id: string | number } & RowDataPacket)[]>(
        'SELECT queue_id FROM tsync_replica_applied WHERE cc_uid = ? AND queue_id IN (?)',
        [this.opts.ccUid, ids],
      );
      const seen = new Set(seenRows.map((r) => String(r.queue_id)));
      const fresh: string[] = [];
      for (index = 0; index < steps.length; index++) {
        const step = steps[index];
        if (seen.has(step.item.id)) continue;
        const counts = (applied[step.parsed.table] ??= { inserted: 0, updated: 0, deleted: 0 });
        await this.runOne(step, counts);
        fresh.push(step.item.id);
      }
      if (fresh.length > 0) {
        await conn.query(
          'INSERT INTO tsync_replica_applied (cc_uid, queue_id, applied_at) VALUES ?',
          [fresh.map((id) => [this.opts.ccUid, id, Math.floor(Date.now() / 1000)])],
        );
      }
      // Items are applied in id order and dequeued before the next batch: anything older
      // recorded for this CC has left the queue.
      await conn.query('DELETE FROM tsync_replica_applied WHERE cc_uid = ? AND queue_id < ?', [
        this.opts.ccUid,
        ids[0],
      ]);
      await conn.commit();
      done = true;
    } catch (err) {
      this.result.cascaded = cascadedBefore;
      return { done: 0, failure: { index, err } };
    } finally {
      if (!done) await conn.rollback().catch(() => undefined);
    }
    for (const [t, c] of Object.entries(applied)) {
      const d = (this.result.applied[t] ??= { inserted: 0, updated: 0, deleted: 0 });
      d.inserted += c.inserted;
      d.updated += c.updated;
      d.deleted += c.deleted;
    }
    return { done: steps.length };
  }

  /** Commits the steps, then removes them from the queue. Returns the failure, if any. */
  async commit(steps: Step[]): Promise<{ id: string; err: unknown } | null> {
    if (steps.length === 0) return null;
    let outcome = await this.applyBatch(steps);
    let failure: { id: string; err: unknown } | null = null;
    if (outcome.failure) {
      const { index, err } = outcome.failure;
      failure = { id: steps[Math.min(index, steps.length - 1)].item.id, err };
      // The statements before the failing one applied cleanly: apply them again on their own.
      outcome = index > 0 ? await this.applyBatch(steps.slice(0, index)) : { done: 0 };
      if (outcome.failure) {
        failure = { id: steps[outcome.failure.index].item.id, err: outcome.failure.err };
        outcome = { done: 0 };
      }
    }
    const committed = steps.slice(0, outcome.done);
    for (const s of committed) await this.opts.hooks?.afterApply?.(s.item);
    if (committed.length > 0) {
      await this.dequeue(committed.map((s) => s.item.id));
      this.result.dequeued += committed.length;
    }
    return failure;
  }

  private async dequeue(ids: string[]): Promise<void> {
    const { fence } = this.opts;
    if (!fence) {
      await this.cc.query('DELETE FROM tsync_queue WHERE id IN (?)', [ids]);
      return;
    }
    const conn = await this.cc.getConnection();
    try {
      await conn.beginTransaction();
      await conn.query('DELETE FROM tsync_queue WHERE id IN (?)', [ids]);
      await fence(conn);
      await conn.commit();
    } catch (err) {
      await conn.rollback().catch(() => undefined);
      throw err;
    } finally {
      conn.release();
    }
  }

  async fail(id: string, message: string): Promise<void> {
    this.result.error = { id, message };
    await this.cc
      .query('UPDATE tsync_queue SET error = ? WHERE id = ?', [message, id])
      .catch(() => undefined);
  }

  check(item: QueueItem): ParsedStatement {
    return checkItem(item, null);
  }
}

/**
 * Applies this node's items in id order until the queue is empty, one fails or `stopping` says
 * so: promptly and completely, because the node's Pandora server applies no policy while items
 * of the policy tables are queued for it.
 */
export async function drainQueue(
  cc: Pool,
  inst: { id: number; pool: Pool },
  opts: DrainOptions,
): Promise<DrainResult> {
  const batch = Math.max(1, opts.batch ?? 200);
  let conn: PoolConnection | null = null;
  let drain: Drain | null = null;
  try {
    let after: string | null = null;
    for (;;) {
      if (opts.stopping?.()) break;
      const items = await readItems(cc, inst.id, after, batch);
      if (items.length === 0) break;
      after = items[items.length - 1].id;
      if (!drain) {
        conn = await queueConnection(inst.pool, opts.statementTimeLimitS ?? STATEMENT_TIME_LIMIT_S);
        drain = new Drain(cc, conn, opts);
      }
      let steps: Step[] = [];
      let stopped = false;
      for (const item of items) {
        if (isNamedOperation(item.operation)) {
          // Passed over without holding back what follows: commit what came before it first,
          // so the applied statements stay in id order with the queue.
          const failure = await drain.commit(steps);
          steps = [];
          if (failure) {
            await drain.fail(failure.id, describe(inst.id, failure.id, failure.err));
            stopped = true;
            break;
          }
          await drain.passOver(item);
          continue;
        }
        let parsed: ParsedStatement;
        try {
          parsed = drain.check(item);
        } catch (err) {
          const failure = await drain.commit(steps);
          steps = [];
          if (failure) await drain.fail(failure.id, describe(inst.id, failure.id, failure.err));
          else await drain.fail(item.id, describe(inst.id, item.id, err));
          stopped = true;
          break;
        }
        steps.push({ item, parsed });
      }
      if (stopped) break;
      const failure = await drain.commit(steps);
      if (failure) {
        await drain.fail(failure.id, describe(inst.id, failure.id, failure.err));
        break;
      }
    }
  } finally {
    if (conn) {
      // The pooled connection goes back with the server's own limit (the table comparison reads
      // whole tables on it).
      await conn
        .query('SET SESSION max_statement_time = @@GLOBAL.max_statement_time')
        .catch(() => undefined);
      conn.release();
    }
  }
  const result = drain?.result ?? {
    applied: {},
    cascaded: {},
    dequeued: 0,
    pending: 0,
    operations: [],
  };
  result.pending = await pendingCount(cc, inst.id);
  return result;
}

function isIdentityClash(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (
    e.code === 'ER_DUP_ENTRY' && /for key '(?:[^']*\.)?(PRIMARY|id_user)'/.test(e.message ?? '')
  );
}

function describe(instanceId: number, itemId: string, err: unknown): string {
  if (err instanceof ItemRefused) return err.message;
  return `tsync_queue item ${itemId} failed on instance ${instanceId}: ${(err as Error).message ?? String(err)}`;
}
