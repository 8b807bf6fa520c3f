/**
 * One Instance's round: first the Command Center's tsync_queue for that node (a failing head
 * retried with backoff, blocking only its node), then the comparison of the synchronized tables;
 * or, for a plan, what both would do, writing nothing. Failures go into the report, coded.
 */
import type { Instance } from '../db/registry';
import type { Pool } from '../db/pool';
import { units } from '../cluster/gate';
import { BackoffMap } from '../util/backoff';
import { instanceError, type ReplicateError } from './errors';
import type { ResolvedReplicatorOptions } from './options';
import { ensureInstanceTables } from './progress';
import { drainQueue } from './queue-drain';
import type { QueueItem } from './queue-items';
import { planDryRun, roundState } from './queue-planner';
import { pendingCount, readItems } from './queue-store';
import { presentTables } from './schema-info';
import { syncTables } from './table-sync';
import type { TableCounts } from './apply';
import { schemaColumns, type CcSnapshot } from './table-check';
import type { TableDef } from './tables';
import type { BlockingItem, QueueReport, ReplicaRoundReport } from './types';

/** Test seams: never part of the public options. */
export interface ReplicatorSeams {
  /** Called for each queue item after its Instance transaction commits, before it is dequeued. */
  afterApply?: (item: QueueItem) => Promise<void> | void;
  /** The clock of the queue's backoff. */
  now?: () => number;
}

/** What a round needs of its engine. */
export interface RoundHost {
  readonly opts: ResolvedReplicatorOptions;
  readonly tables: TableDef[];
  readonly seams: ReplicatorSeams;
  ccUid(): Promise<string>;
  itemsMax(): Promise<number>;
  /** True once the engine is closing: a drain stops between pages. */
  closing(): boolean;
}

function addTables(into: Record<string, TableCounts>, from: Record<string, TableCounts>): void {
  for (const [t, c] of Object.entries(from)) {
    if (c.inserted + c.updated + c.deleted === 0) continue;
    const d = (into[t] ??= { inserted: 0, updated: 0, deleted: 0 });
    d.inserted += c.inserted;
    d.updated += c.updated;
    d.deleted += c.deleted;
  }
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [t, n] of Object.entries(from)) into[t] = (into[t] ?? 0) + n;
}

export class InstanceRounds {
  /** Per Instance: the retry backoff of its failing queue item. */
  private readonly backoff: BackoffMap<number>;
  /** Per Instance: the queue item that failed last, while it blocks. */
  private readonly blocking = new Map<number, BlockingItem>();
  /** Pools whose Instance has our bookkeeping tables (created once per pool). */
  private readonly prepared = new WeakSet<Pool>();
  /** Per Instance pool: its schema as last read, and when. */
  private readonly schemas = new WeakMap<Pool, { at: number; columns: Map<string, string[]> }>();
  /** Per Instance: the newest queue item id its last drain read. */
  private readonly readUpTo = new Map<number, bigint>();
  /** Instances whose last round could not reach them: only the timer's rounds retry them. */
  private readonly unreachable = new Set<number>();
  /**
   * Per Instance: the failures and kept rows of its last table comparison, still reported by the
   * queue rounds in between (they say nothing new about the tables).
   */
  private readonly lastTables = new Map<
    number,
    { errors: ReplicateError[]; kept: Record<string, number> }
  >();

  constructor(private readonly host: RoundHost) {
    const { backoffBaseMs, backoffMaxMs } = host.opts;
    this.backoff = new BackoffMap({ baseMs: backoffBaseMs, maxMs: backoffMaxMs }, () =>
      (host.seams.now ?? Date.now)(),
    );
  }

  /** Our bookkeeping tables on the Instance, created at its first round (per pool). */
  async prepare(inst: Pick<Instance, 'pool'>): Promise<void> {
    if (this.prepared.has(inst.pool)) return;
    await ensureInstanceTables(inst.pool);
    this.prepared.add(inst.pool);
  }

  /**
   * Whether a queue round is due for this Instance, its newest queued id being `last`: items
   * queued since its last drain. Never while it is down or blocked by a failing item: the timer's
   * rounds retry those.
   */
  queueDue(id: number, last: string): boolean {
    if (this.unreachable.has(id) || this.blocking.has(id)) return false;
    return BigInt(last) > (this.readUpTo.get(id) ?? 0n);
  }

  /** The Instance's columns per table, read again once schemaTtlMs has passed. */
  private async schemaOf(pool: Pool): Promise<Map<string, string[]>> {
    const now = Date.now();
    const known = this.schemas.get(pool);
    if (known && now - known.at < this.host.opts.schemaTtlMs) return known.columns;
    const columns = await schemaColumns(pool);
    this.schemas.set(pool, { at: now, columns });
    return columns;
  }

  /** A skipped head: the node's next round drains at once. */
  forgetHead(id: number): void {
    this.backoff.delete(id);
    this.blocking.delete(id);
  }

  /**
   * One round: the queue, then the table comparison against the Command Center as `tables` holds
   * it (null: a queue round between the timer's, no comparison). A plan writes nothing.
   */
  async run(
    inst: Instance,
    topic: 'sync' | 'plan',
    reason: string,
    tables: CcSnapshot | null,
  ): Promise<ReplicaRoundReport> {
    const { opts } = this.host;
    const report: ReplicaRoundReport = {
      instance: { id: inst.id, name: inst.name },
      topic,
      reason,
      applied: {},
      cascaded: {},
      kept: {},
      queue: { dequeued: 0, pending: 0, limit: await this.host.itemsMax(), operations: [] },
      conflicts: [],
      errors: [],
      state: 'in sync',
    };
    const ccUid = await this.host.ccUid();
    const failed = (err: unknown) => report.errors.push(instanceError(inst, err));
    try {
      await this.prepare(inst);
    } catch (err) {
      failed(err);
      this.unreachable.add(inst.id);
      report.state = 'failing';
      await this.countBacklog(inst.id, report.queue);
      return report;
    }

    if (opts.useQueue) {
      try {
        if (topic === 'sync') await this.drain(inst, ccUid, report);
        else await this.planQueue(inst, report.queue);
        this.unreachable.delete(inst.id);
      } catch (err) {
        failed(err);
        if (topic === 'sync') {
          this.unreachable.add(inst.id);
          await this.countBacklog(inst.id, report.queue);
        }
      }
    }

    if (opts.useTables && tables) {
      const before = report.errors.length;
      try {
        const res = await syncTables(this.host.tables, opts.cc, inst.pool, {
          ccUid,
          unified: inst.unified,
          chunk: opts.chunkSize,
          dryRun: topic === 'plan',
          snapshot: tables,
          instSchema: await this.schemaOf(inst.pool),
        });
        addTables(report.applied, res.applied);
        addCounts(report.cascaded, res.cascaded);
        report.kept = res.kept;
        report.conflicts.push(...res.conflicts);
      } catch (err) {
        failed(err);
        // The schema may have changed under it (an upgrade): read it again next time.
        this.schemas.delete(inst.pool);
      }
      if (topic === 'sync') {
        this.lastTables.set(inst.id, { errors: report.errors.slice(before), kept: report.kept });
      }
    } else if (opts.useTables) {
      const last = this.lastTables.get(inst.id);
      report.errors.push(...(last?.errors ?? []));
      report.kept = last?.kept ?? {};
    }
    report.state = roundState(report.errors.length > 0, report.queue.pending, report.queue.limit);
    return report;
  }

  /** The queue source: drain the node's items unless its failing head waits for its retry. */
  private async drain(inst: Instance, ccUid: string, report: ReplicaRoundReport): Promise<void> {
    const { opts } = this.host;
    const b = this.backoff.of(inst.id);
    const head = this.blocking.get(inst.id);
    if (head && b.waiting) {
      // Waiting to retry the item that failed: its failure is still the node's state.
      report.queue.pending = await pendingCount(opts.cc, inst.id);
      report.queue.error = head;
      report.errors.push(head.error);
      return;
    }
    const { gate } = opts;
    const q = await drainQueue(opts.cc, inst, {
      ccUid,
      batch: opts.queueBatch,
      afterApply: this.host.seams.afterApply,
      stopping: () => this.host.closing(),
      fence: gate?.fence(units.replicate(inst.id)),
      statementTimeLimitMs: opts.queueStatementTimeLimitMs,
      wordNote: opts.wordNote,
    });
    addTables(report.applied, q.applied);
    addCounts(report.cascaded, q.cascaded);
    report.queue.dequeued = q.dequeued;
    report.queue.pending = q.pending;
    report.queue.operations = q.operations;
    report.queue.error = q.error;
    if (q.readUpTo !== null) this.readUpTo.set(inst.id, BigInt(q.readUpTo));
    if (q.error) {
      report.errors.push(q.error.error);
      // Another item failing starts the waits again from the first one.
      if (head?.id !== q.error.id) b.succeed();
      b.fail(q.error.error.code);
      this.blocking.set(inst.id, q.error);
    } else {
      b.succeed();
      this.blocking.delete(inst.id);
    }
  }

  /** The backlog of an Instance that could not be worked (the Command Center may be down too). */
  private async countBacklog(id: number, out: QueueReport): Promise<void> {
    out.pending = await pendingCount(this.host.opts.cc, id).catch(() => out.pending);
  }

  /** What a round would do with the items queued for this Instance now. Writes nothing. */
  private async planQueue(inst: Instance, out: QueueReport): Promise<void> {
    const { cc, planItems } = this.host.opts;
    out.pending = await pendingCount(cc, inst.id);
    const present = await presentTables(inst.pool);
    out.items = planDryRun(await readItems(cc, inst.id, null, planItems), present);
    out.more = Math.max(0, out.pending - out.items.length);
  }
}
