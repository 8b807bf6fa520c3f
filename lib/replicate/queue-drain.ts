/**
 * The consumer of the Command Center's tsync_queue, the way Pandora's Synchronizer replays it: per
 * target node, in id order, a failing statement blocking its node until it applies or is skipped
 * (queue-planner.ts decides what each item is; this file applies them).
 *
 * Exactly once across crashes: statements are applied in Instance transactions of up to `batch`
 * items, each transaction also recording the ids it applied (tsync_replica_applied); only then
 * are the items removed from the queue. A crash in between replays as "already applied, just
 * dequeue".
 */
import type { ResultSetHeader, RowDataPacket } from 'mysql2';
import type { Pool, PoolConnection } from '../db/pool';
import { inTransaction, type Fence } from '../db/transaction';
import { reasonOf } from '../util/errors';
import { countCascades, TableCounts } from './apply';
import { ReplicateError } from './errors';
import { isRefusal, namedOperationNote, operationPayload, type QueueItem } from './queue-items';
import { planPage, type Step } from './queue-planner';
import { dequeue, noteItem, pendingCount, readItems } from './queue-store';
import { CascadeEdge, cascadeEdges, cascadeTargets } from './schema-info';
import { safeSqlMode } from './statement';
import type { BlockingItem, NamedOperation } from './types';

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
  error?: BlockingItem;
  /** The newest item id the drain read (null: it found none queued). */
  readUpTo: string | null;
}

export interface DrainOptions {
  ccUid: string;
  /** Items read per page and at most applied in one Instance transaction. */
  batch: number;
  /** Called for each item after its Instance transaction commits, before it leaves the queue. */
  afterApply?: (item: QueueItem) => Promise<void> | void;
  /** Checked between pages: true stops the drain (the engine is closing). */
  stopping: () => boolean;
  /**
   * Cluster: checks this member's lease of the Instance inside the Command Center transaction
   * that dequeues (the Instance side is kept exactly-once by tsync_replica_applied).
   */
  fence?: Fence;
  /** The statements' max_statement_time, ms. */
  statementTimeLimitMs: number;
  /** The words written into a held item's `error` column. */
  wordNote: (err: ReplicateError) => string;
}

interface BatchOutcome {
  /** Steps committed (applied now or found applied before). */
  done: number;
  failure?: { index: number; err: unknown };
}

function addCounts(into: Record<string, TableCounts>, from: Record<string, TableCounts>): void {
  for (const [t, c] of Object.entries(from)) {
    const d = (into[t] ??= { inserted: 0, updated: 0, deleted: 0 });
    d.inserted += c.inserted;
    d.updated += c.updated;
    d.deleted += c.deleted;
  }
}

function isIdentityClash(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (
    e.code === 'ER_DUP_ENTRY' && /for key '(?:[^']*\.)?(PRIMARY|id_user)'/.test(e.message ?? '')
  );
}

/** The session settings of a queue transaction, and what the connection had before. */
interface Session {
  mode: string;
  limitS: number;
}

class Drain {
  readonly result: DrainResult = {
    applied: {},
    cascaded: {},
    dequeued: 0,
    pending: 0,
    operations: [],
    readUpTo: null,
  };
  /** The Instance's declared cascades, read at the first DELETE or REPLACE of the drain. */
  private edges: CascadeEdge[] | null = null;

  constructor(
    private readonly cc: Pool,
    private readonly inst: { id: number; pool: Pool },
    private readonly opts: DrainOptions,
  ) {}

  /** Marks a named operation once and reports it. */
  async passOver(item: QueueItem): Promise<void> {
    const note = this.opts.wordNote(namedOperationNote(item));
    if (item.error === note) return;
    await noteItem(this.cc, item.id, note);
    this.result.operations.push({
      id: item.id,
      operation: (item.operation ?? '').trim(),
      table: (item.table ?? '').trim(),
      carries: operationPayload(item),
    });
  }

  async fail(id: string, error: ReplicateError): Promise<void> {
    this.result.error = { id, error };
    await noteItem(this.cc, id, this.opts.wordNote(error)).catch(() => undefined);
  }

  /**
   * The transaction's session: sql_mode cleared of the flags that would make MariaDB read a
   * literal differently from the check in statement.ts, statements bounded in time. The
   * connection's own values come back before COMMIT (a failed transaction's connection is
   * destroyed), so the pool never hands out a queue session.
   */
  private async enter(conn: PoolConnection): Promise<Session> {
    const [rows] = await conn.query<({ mode: string; limitS: number } & RowDataPacket)[]>(
      'SELECT @@SESSION.sql_mode AS mode, @@SESSION.max_statement_time AS limitS',
    );
    const was = { mode: rows[0]?.mode ?? '', limitS: Number(rows[0]?.limitS ?? 0) };
    await conn.query('SET SESSION sql_mode = ?, max_statement_time = ?', [
      safeSqlMode(was.mode),
      this.opts.statementTimeLimitMs / 1000,
    ]);
    return was;
  }

  private async runOne(
    conn: PoolConnection,
    step: Step,
    counts: TableCounts,
    cascaded: Record<string, number>,
  ): Promise<void> {
    const { parsed } = step;
    const run = async (): Promise<void> => {
      try {
        const [res] = await conn.query<ResultSetHeader>(parsed.sql);
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
          throw new ReplicateError('ERR_REPLICATE_ITEM_MISSING_TABLE', {
            item: step.item.id,
            table: parsed.table,
          });
        }
        throw err;
      }
    };
    if (parsed.verb !== 'DELETE' && parsed.verb !== 'REPLACE') return run();
    this.edges ??= await cascadeEdges(conn);
    if (cascadeTargets(this.edges, parsed.table).length === 0) return run();
    await countCascades(conn, this.edges, parsed.table, cascaded, run);
  }

  /** Applies the steps in one Instance transaction; on a failure, commits nothing. */
  private async applyBatch(steps: Step[]): Promise<BatchOutcome> {
    const { ccUid } = this.opts;
    const ids = steps.map((s) => s.item.id);
    let index = 0;
    try {
      const out = await inTransaction(this.inst.pool, async (conn) => {
        const applied: Record<string, TableCounts> = {};
        const cascaded: Record<string, number> = {};
        const was = await this.enter(conn);
        const [seenRows] = await conn.query<({ queue_id: string | number } & RowDataPacket)[]>(
          'SELECT queue_id FROM tsync_replica_applied WHERE cc_uid = ? AND queue_id IN (?)',
          [ccUid, ids],
        );
        const seen = new Set(seenRows.map((r) => String(r.queue_id)));
        const fresh: string[] = [];
        for (index = 0; index < steps.length; index++) {
          const step = steps[index];
          if (seen.has(step.item.id)) continue;
          const counts = (applied[step.parsed.table] ??= { inserted: 0, updated: 0, deleted: 0 });
          await this.runOne(conn, step, counts, cascaded);
          fresh.push(step.item.id);
        }
        if (fresh.length > 0) {
          await conn.query(
            'INSERT INTO tsync_replica_applied (cc_uid, queue_id, applied_at) VALUES ?',
            [fresh.map((id) => [ccUid, id, Math.floor(Date.now() / 1000)])],
          );
        }
        // Items are applied in id order and dequeued before the next batch: anything older
        // recorded for this CC has left the queue.
        await conn.query('DELETE FROM tsync_replica_applied WHERE cc_uid = ? AND queue_id < ?', [
          ccUid,
          ids[0],
        ]);
        await conn.query('SET SESSION sql_mode = ?, max_statement_time = ?', [
          was.mode,
          was.limitS,
        ]);
        return { applied, cascaded };
      });
      addCounts(this.result.applied, out.applied);
      for (const [t, n] of Object.entries(out.cascaded))
        this.result.cascaded[t] = (this.result.cascaded[t] ?? 0) + n;
      return { done: steps.length };
    } catch (err) {
      return { done: 0, failure: { index, err } };
    }
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
    for (const s of committed) await this.opts.afterApply?.(s.item);
    if (committed.length > 0) {
      await dequeue(
        this.cc,
        committed.map((s) => s.item.id),
        this.opts.fence,
      );
      this.result.dequeued += committed.length;
    }
    return failure;
  }

  /** A statement's failure as the item's error. */
  failed(itemId: string, err: unknown): ReplicateError {
    if (isRefusal(err)) return err;
    return new ReplicateError(
      'ERR_REPLICATE_ITEM_FAILED',
      { item: itemId, instance: this.inst.id, message: reasonOf(err) },
      { cause: err },
    );
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
  const drain = new Drain(cc, inst, opts);
  const batch = Math.max(1, opts.batch);
  let after: string | null = null;
  /** Named operations read: they stay queued. */
  let named = 0;
  /** The node's items were read to the end with none failing. */
  let exhausted = false;
  pages: while (!opts.stopping()) {
    const items = await readItems(cc, inst.id, after, batch);
    if (items.length === 0) {
      exhausted = true;
      break;
    }
    after = items[items.length - 1].id;
    drain.result.readUpTo = after;
    for (const segment of planPage(items)) {
      if (segment.kind === 'apply') {
        const failure = await drain.commit(segment.steps);
        if (failure) {
          await drain.fail(failure.id, drain.failed(failure.id, failure.err));
          break pages;
        }
      } else if (segment.kind === 'operation') {
        named += 1;
        await drain.passOver(segment.item);
      } else {
        await drain.fail(segment.item.id, segment.error);
        break pages;
      }
    }
    if (items.length < batch) {
      exhausted = true;
      break;
    }
  }
  // Read to the end: what is left is the named operations (items queued since then come with
  // the next round); no second scan of the queue to count them.
  drain.result.pending = exhausted ? named : await pendingCount(cc, inst.id);
  return drain.result;
}
