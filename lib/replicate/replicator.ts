/**
 * One replication round per Instance: first the Command Center's tsync_queue for that node, then
 * the comparison of the synchronized tables. Each Instance runs on its own: a slow or unreachable
 * one never holds the others back, and it catches up when it answers again.
 */
import type { ResultSetHeader, RowDataPacket } from 'mysql2';
import { units, type UnitGate } from '../cluster/gate';
import type { Pool, PoolTuning } from '../db/pool';
import { explainConnectError, Instance, InstanceRegistry } from '../db/registry';
import { applyPlans, ApplyResult, Conflict, planCounts, planInstance, TableCounts } from './apply';
import { ccIdentity, ensureInstanceTables } from './progress';
import {
  checkItem,
  drainQueue,
  isNamedOperation,
  NamedOperation,
  operationPayload,
  pendingCount,
  QueueHooks,
  readItems,
} from './queue';
import { mergeTables, MergeOptions, writeCommandCenter } from './merge';
import { presentTables } from './schema-info';
import {
  COMMAND_CENTER_TOKENS,
  nodeTokens,
  queueItemsMax,
  SettingChange,
  writeTokens,
} from './settings';
import { chosenTables, ObjectKind, ALL_KINDS, TableDef } from './tables';
import {
  checkReplicationFacts,
  DbAddress,
  metaDbColumns,
  replicationFacts,
  replicationTokens,
  shownTokenValue,
} from './replication-tokens';
import type { DbFacts } from '../db/pool';
import { BackoffMap } from '../util/backoff';

/**
 * `degraded`: the node's backlog reached sync_queue_items_max, where Pandora's console warns
 * (NOTIF.SYNCQUEUE.LENGTH).
 */
export type InstanceState = 'in sync' | 'behind' | 'degraded' | 'failing';

/** What a dry run would do with one queued item. */
export interface PlannedItem {
  id: string;
  table: string;
  verb?: string;
  /** `blocked`: behind a refused or failing item of the same node. */
  action: 'apply' | 'named operation' | 'refused' | 'blocked';
  message?: string;
  /** A named operation: what it carries (its `sql` column, e.g. a plugin refresh's URL). */
  carries?: string;
}

export interface QueueReport {
  dequeued: number;
  pending: number;
  /** sync_queue_items_max (Pandora's default 200): a backlog of this many is `degraded`. */
  limit: number;
  /** The item blocking this node, with its failure (also in its `error` column). */
  error?: { id: string; message: string };
  /** Named operations met for the first time (reported once, left in the queue). */
  operations: NamedOperation[];
  /** `plan` only: the first queued items and what a round would do with each. */
  items?: PlannedItem[];
  /** `plan` only: queued items beyond `items`. */
  more?: number;
}

/** An item removed with msg.topic = 'skip'. */
export interface SkipReport {
  instance: { id: number; name: string };
  item: {
    id: string;
    sql: string | null;
    table: string | null;
    operation: string | null;
    error: string | null;
  };
  /** Found applied on the Instance already (a crash between apply and dequeue). */
  appliedBefore: boolean;
  pending: number;
}

export interface InstanceReport {
  instance: { id: number; name: string };
  topic: 'sync' | 'plan';
  applied: Record<string, TableCounts>;
  cascaded: Record<string, number>;
  /** Rows only the Instance has, kept because it is not centralised yet. */
  kept: Record<string, number>;
  queue: QueueReport;
  conflicts: Conflict[];
  errors: string[];
  state: InstanceState;
}

export interface ReplicatorOptions {
  /** The Command Center's pool (owned by the caller). */
  cc: Pool;
  /** Registry ids; empty = every enabled row of tmetaconsole_setup. */
  instances?: number[];
  objects?: ObjectKind[];
  chunkSize?: number;
  /** Items read per page and at most applied in one Instance transaction (default 200). */
  queueBatch?: number;
  /**
   * The Command Center database as this host reaches it (the pandora-config's facts): `merge`
   * writes it into each node's replication_db* tokens where neither the registry row's meta_db*
   * columns nor `ccDbAddress` name another.
   */
  ccFacts?: DbFacts;
  /** The Command Center database as the Instances reach it (the node's `ccDbAddress`). */
  ccDbAddress?: DbAddress | null;
  /** The queue session's max_statement_time in seconds (default 60, see queue.ts). */
  queueStatementTimeLimitS?: number;
  /** Overrides the Command Center's tconfig sync_queue_items_max (default 200). */
  queueItemsMax?: number;
  /** Queued items listed per Instance by `plan` (default 100). */
  planItems?: number;
  /** First retry delay of a failing queue head; doubles up to backoffMaxMs. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  useQueue?: boolean;
  useTables?: boolean;
  hooks?: QueueHooks;
  tuning?: PoolTuning;
  now?: () => number;
  /** Several Node-RED hosts (pandora-config `cluster`): only the Instances whose lease is held here. */
  gate?: UnitGate;
}

export interface MergeReport {
  commandCenter: { applied: Record<string, TableCounts> };
  /** Same id with different content, same name on different ids. */
  conflicts: Conflict[];
  instances: {
    instance: { id: number; name: string };
    applied: Record<string, TableCounts>;
    cascaded: Record<string, number>;
    /** Rows kept because deleting them would cascade into the Instance's data. */
    conflicts: Conflict[];
    errors: string[];
    unified: boolean;
    /** tconfig tokens written on the Instance when it became unified. */
    settings: SettingChange[];
  }[];
  /**
   * tconfig tokens written on the Command Center: only once every enabled node is unified, as
   * Pandora's console then queues every change of a shared object for every node.
   */
  settings: { commandCenter: SettingChange[]; note?: string };
}

function merge(into: Record<string, TableCounts>, from: Record<string, TableCounts>): void {
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

export class Replicator {
  readonly registry: InstanceRegistry;
  readonly tables: TableDef[];
  private uid: string | null = null;
  /** Per Instance, what holds its slot: a round, or a skip removing one of its items. */
  private readonly busy = new Map<number, Promise<InstanceReport | null>>();
  /** Per Instance: the retry backoff of its failing queue item (lib/util/backoff). */
  private readonly backoff: BackoffMap<number>;
  /** Per Instance: the queue item that failed last, while it blocks. */
  private readonly blocking = new Map<number, { id: string; message: string }>();
  private readonly states = new Map<number, InstanceState>();
  private readonly prepared = new Set<Pool>();
  private closing = false;
  private limit: number | null = null;

  constructor(private readonly opts: ReplicatorOptions) {
    this.registry = new InstanceRegistry(opts.cc, {
      ids: opts.instances ?? [],
      // Field by field: a caller's { connectionLimit: 4 } keeps the 3 s connect timeout.
      tuning: {
        connectionLimit: opts.tuning?.connectionLimit ?? 2,
        connectTimeoutMs: opts.tuning?.connectTimeoutMs ?? 3000,
      },
    });
    this.tables = chosenTables(opts.objects ?? [...ALL_KINDS]);
    this.backoff = new BackoffMap(
      { baseMs: opts.backoffBaseMs ?? 1000, maxMs: opts.backoffMaxMs ?? 60_000 },
      () => this.now(),
    );
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  async ccUid(): Promise<string> {
    this.uid ??= await ccIdentity(this.opts.cc);
    return this.uid;
  }

  /** The backlog threshold: the option, else the Command Center's tconfig, else 200. */
  async itemsMax(): Promise<number> {
    this.limit ??= this.opts.queueItemsMax ?? (await queueItemsMax(this.opts.cc).catch(() => 200));
    return this.limit;
  }

  /** Per-state counts of the Instances as last seen. */
  status(): Record<InstanceState, number> {
    const out: Record<InstanceState, number> = {
      'in sync': 0,
      behind: 0,
      degraded: 0,
      failing: 0,
    };
    for (const s of this.states.values()) out[s] += 1;
    return out;
  }

  /**
   * Starts a round on every Instance not already busy; `onReport` gets each Instance's report as
   * soon as it is ready. Resolves with all of them.
   */
  async round(
    topic: 'sync' | 'plan',
    onReport?: (r: InstanceReport) => void,
  ): Promise<InstanceReport[]> {
    await this.ccUid();
    const instances = await this.registry.refresh();
    for (const p of this.registry.lastProblems()) this.states.set(p.id, 'failing');
    const { gate } = this.opts;
    gate?.offer(instances.map((i) => units.replicate(i.id)));
    const started: Promise<InstanceReport>[] = [];
    for (const inst of instances) {
      if (this.busy.has(inst.id)) continue;
      if (gate && !gate.holds(units.replicate(inst.id))) {
        // Another member works it: its state here would be stale.
        this.states.delete(inst.id);
        continue;
      }
      const work = this.runInstance(inst, topic).then((r) => {
        this.states.set(inst.id, r.state);
        onReport?.(r);
        return r;
      });
      const tracked = work.finally(() => this.busy.delete(inst.id));
      this.busy.set(inst.id, tracked);
      started.push(tracked);
    }
    return Promise.all(started);
  }

  /** Waits for Instances still busy from earlier rounds. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.busy.values()]);
  }

  private async runInstance(inst: Instance, topic: 'sync' | 'plan'): Promise<InstanceReport> {
    const report: InstanceReport = {
      instance: { id: inst.id, name: inst.name },
      topic,
      applied: {},
      cascaded: {},
      kept: {},
      queue: { dequeued: 0, pending: 0, limit: await this.itemsMax(), operations: [] },
      conflicts: [],
      errors: [],
      state: 'in sync',
    };
    const ccUid = await this.ccUid();
    const { gate } = this.opts;
    try {
      if (!this.prepared.has(inst.pool)) {
        await ensureInstanceTables(inst.pool);
        this.prepared.add(inst.pool);
      }
    } catch (err) {
      report.errors.push(explainConnectError(inst, err));
      report.state = 'failing';
      await this.countBacklog(inst.id, report.queue);
      return report;
    }

    if (topic === 'sync' && this.opts.useQueue !== false) {
      const b = this.backoff.of(inst.id);
      const head = this.blocking.get(inst.id);
      try {
        if (head && b.waiting) {
          // Waiting to retry the item that failed: its failure is still the node's state.
          report.queue.pending = await pendingCount(this.opts.cc, inst.id);
          report.queue.error = head;
          report.errors.push(head.message);
        } else {
          const q = await drainQueue(this.opts.cc, inst, {
            ccUid,
            batch: this.opts.queueBatch,
            hooks: this.opts.hooks,
            stopping: () => this.closing,
            fence: gate?.fence(units.replicate(inst.id)),
            statementTimeLimitS: this.opts.queueStatementTimeLimitS,
          });
          merge(report.applied, q.applied);
          addCounts(report.cascaded, q.cascaded);
          report.queue.dequeued = q.dequeued;
          report.queue.pending = q.pending;
          report.queue.operations = q.operations;
          report.queue.error = q.error;
          if (q.error) {
            report.errors.push(q.error.message);
            // Another item failing starts the waits again from the first one.
            if (head?.id !== q.error.id) b.succeed();
            b.fail(q.error.message);
            this.blocking.set(inst.id, q.error);
          } else {
            b.succeed();
            this.blocking.delete(inst.id);
          }
        }
      } catch (err) {
        report.errors.push(explainConnectError(inst, err));
        await this.countBacklog(inst.id, report.queue);
      }
    } else if (topic === 'plan' && this.opts.useQueue !== false) {
      try {
        await this.planQueue(inst, report.queue);
      } catch (err) {
        report.errors.push(explainConnectError(inst, err));
      }
    }

    if (this.opts.useTables !== false) {
      try {
        const res = await this.syncTables(inst, ccUid, topic === 'plan');
        merge(report.applied, res.applied);
        addCounts(report.cascaded, res.cascaded);
        report.kept = res.kept;
        report.conflicts.push(...res.conflicts);
      } catch (err) {
        report.errors.push(explainConnectError(inst, err));
      }
    }
    report.state =
      report.errors.length > 0
        ? 'failing'
        : report.queue.pending >= report.queue.limit
          ? 'degraded'
          : report.queue.pending > 0
            ? 'behind'
            : 'in sync';
    return report;
  }

  /** The backlog of an Instance that could not be reached (the Command Center may be down too). */
  private async countBacklog(id: number, out: QueueReport): Promise<void> {
    out.pending = await pendingCount(this.opts.cc, id).catch(() => out.pending);
  }

  /** What a round would do with the items queued for this Instance now. Writes nothing. */
  private async planQueue(inst: Instance, out: QueueReport): Promise<void> {
    const max = this.opts.planItems ?? 100;
    out.pending = await pendingCount(this.opts.cc, inst.id);
    const present = await presentTables(inst.pool);
    const items: PlannedItem[] = [];
    let blocked = false;
    for (const item of await readItems(this.opts.cc, inst.id, null, max)) {
      const table = (item.table ?? '').trim();
      if (isNamedOperation(item.operation)) {
        items.push({
          id: item.id,
          table,
          action: 'named operation',
          message: item.operation ?? '',
          carries: operationPayload(item),
        });
        continue;
      }
      try {
        const parsed = checkItem(item, present);
        items.push({
          id: item.id,
          table: parsed.table,
          verb: parsed.verb,
          action: blocked ? 'blocked' : 'apply',
        });
      } catch (err) {
        items.push({
          id: item.id,
          table,
          action: blocked ? 'blocked' : 'refused',
          message: (err as Error).message,
        });
        blocked = true;
      }
    }
    out.items = items;
    out.more = Math.max(0, out.pending - items.length);
  }

  /**
   * Discards one queued item (msg.topic = 'skip'), as Pandora's Metasetup lets an administrator
   * do with the item that blocks a node. Waits for that node's round to end and holds its slot
   * meanwhile, so the item cannot be applied while it is being removed.
   */
  async skip(id: string): Promise<SkipReport> {
    if (!/^[0-9]{1,20}$/.test(id))
      throw new Error(`msg.payload.id must be a tsync_queue id, got "${id}"`);
    const [rows] = await this.opts.cc.query<
      ({
        id: string;
        target: string | number;
        sql: string | null;
        table: string | null;
        operation: string | null;
        error: string | null;
      } & RowDataPacket)[]
    >('SELECT id, target, `sql`, `table`, operation, error FROM tsync_queue WHERE id = ?', [id]);
    if (rows.length === 0) throw new Error(`tsync_queue item ${id} is not in the queue`);
    const row = rows[0];
    const target = Number(row.target);
    const inst = (await this.registry.refresh()).find((i) => i.id === target);
    if (!inst) {
      throw new Error(
        `tsync_queue item ${id} is for node ${target}, which this metaconsole-replicate does not replicate`,
      );
    }
    while (this.busy.has(target)) await this.busy.get(target)?.catch(() => undefined);
    let release: () => void = () => undefined;
    const slot = new Promise<null>((resolve) => {
      release = () => resolve(null);
    });
    this.busy.set(target, slot);
    try {
      let appliedBefore = false;
      try {
        const [seen] = await inst.pool.query<RowDataPacket[]>(
          'SELECT 1 FROM tsync_replica_applied WHERE cc_uid = ? AND queue_id = ?',
          [await this.ccUid(), id],
        );
        appliedBefore = seen.length > 0;
      } catch {
        // Unreachable Instance or no bookkeeping yet: the item cannot have been applied by us.
      }
      await this.opts.cc.query<ResultSetHeader>('DELETE FROM tsync_queue WHERE id = ?', [id]);
      this.backoff.delete(target);
      this.blocking.delete(target);
      return {
        instance: { id: inst.id, name: inst.name },
        item: {
          id: String(row.id),
          sql: row.sql,
          table: row.table,
          operation: row.operation,
          error: row.error,
        },
        appliedBefore,
        pending: await pendingCount(this.opts.cc, target),
      };
    } finally {
      this.busy.delete(target);
      release();
    }
  }

  /** The table source: compare, then (unless planning) apply in one Instance transaction. */
  async syncTables(
    inst: Pick<Instance, 'pool' | 'unified'>,
    ccUid: string,
    dryRun: boolean,
    extra: { protectCascades?: boolean; removeExtra?: boolean } = {},
  ): Promise<ApplyResult> {
    const { plans, conflicts } = await planInstance(this.tables, this.opts.cc, inst.pool, {
      ccUid,
      unified: inst.unified,
      chunk: this.opts.chunkSize,
      ...extra,
    });
    const counts = planCounts(plans);
    if (dryRun) return { applied: counts.applied, cascaded: {}, kept: counts.kept, conflicts };
    const conn = await inst.pool.getConnection();
    let done = false;
    try {
      await conn.beginTransaction();
      const res = await applyPlans(plans, this.opts.cc, conn, ccUid);
      await conn.commit();
      done = true;
      const applied: Record<string, TableCounts> = {};
      merge(applied, res.applied);
      return { applied, cascaded: res.cascaded, kept: counts.kept, conflicts };
    } finally {
      if (!done) await conn.rollback().catch(() => undefined);
      conn.release();
    }
  }

  /**
   * The Merging tool over every Instance of this node (see merge.ts). Sets `unified = 1` on each
   * Instance that ends equal to the Command Center with no conflict of its own.
   */
  async merge(opts: MergeOptions): Promise<MergeReport> {
    const ccUid = await this.ccUid();
    await this.idle();
    const instances = await this.registry.refresh();
    const report: MergeReport = {
      commandCenter: { applied: {} },
      conflicts: [],
      instances: [],
      settings: { commandCenter: [] },
    };
    const reachable: Instance[] = [];
    for (const inst of instances) {
      try {
        await ensureInstanceTables(inst.pool);
        reachable.push(inst);
      } catch (err) {
        report.instances.push({
          instance: { id: inst.id, name: inst.name },
          applied: {},
          cascaded: {},
          conflicts: [],
          errors: [explainConnectError(inst, err)],
          unified: inst.unified,
          settings: [],
        });
      }
    }
    const merged = await mergeTables(this.tables, this.opts.cc, reachable, opts);
    report.conflicts = merged.conflicts;
    report.commandCenter.applied = await writeCommandCenter(this.opts.cc, merged);
    for (const inst of reachable) {
      const r: MergeReport['instances'][number] = {
        instance: { id: inst.id, name: inst.name },
        applied: {},
        cascaded: {},
        conflicts: [],
        errors: [],
        unified: inst.unified,
        settings: [],
      };
      try {
        const res = await this.syncTables(inst, ccUid, false, {
          protectCascades: true,
          removeExtra: true,
        });
        r.applied = res.applied;
        r.cascaded = res.cascaded;
        r.conflicts = res.conflicts;
        const left = await this.syncTables({ pool: inst.pool, unified: true }, ccUid, true);
        if (r.conflicts.length === 0 && Object.keys(left.applied).length === 0) {
          // Where the node's console finds the Command Center, checked from here with the very
          // values written; then the node's own tokens: a node marked unified must also refuse
          // local edits, and its console connects to the Command Center from then on.
          const facts = replicationFacts(
            await metaDbColumns(this.opts.cc, inst.id),
            this.ccFacts(),
            this.opts.ccDbAddress ?? null,
          );
          await checkReplicationFacts(facts);
          r.settings = (
            await writeTokens(inst.pool, { ...replicationTokens(facts), ...nodeTokens(inst.id) })
          ).map((c) => ({
            ...c,
            from: shownTokenValue(c.token, c.from),
            to: shownTokenValue(c.token, c.to) ?? '',
          }));
          await this.opts.cc.query('UPDATE tmetaconsole_setup SET unified = 1 WHERE id = ?', [
            inst.id,
          ]);
          r.unified = true;
        }
      } catch (err) {
        r.errors.push(explainConnectError(inst, err));
      }
      this.states.set(inst.id, r.errors.length ? 'failing' : 'in sync');
      report.instances.push(r);
    }
    const [left] = await this.opts.cc.query<
      ({ id: number; server_name: string } & RowDataPacket)[]
    >(
      'SELECT id, server_name FROM tmetaconsole_setup WHERE disabled = 0 AND unified = 0 ORDER BY id',
    );
    if (left.length === 0) {
      report.settings.commandCenter = await writeTokens(this.opts.cc, COMMAND_CENTER_TOKENS);
    } else {
      report.settings.note = `centralized_management left as it is on the Command Center: not unified yet: ${left
        .map((n) => `${n.id} (${n.server_name})`)
        .join(', ')}`;
    }
    return report;
  }

  /** The pandora-config's database facts; merge cannot name the CC to the nodes without them. */
  private ccFacts(): DbFacts {
    if (!this.opts.ccFacts) {
      throw new Error(
        'merge needs the Command Center database facts (ccFacts) to write the node tokens',
      );
    }
    return this.opts.ccFacts;
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.idle();
    await this.registry.close();
  }
}
