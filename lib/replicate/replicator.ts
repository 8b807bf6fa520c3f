/**
 * One replication round per Instance: first the Command Center's tsync_queue for that node, then
 * the comparison of the synchronized tables. Each Instance runs on its own: a slow or unreachable
 * one never holds the others back, and it catches up when it answers again.
 */
import type { Pool, PoolTuning } from '../db/pool';
import { explainConnectError, Instance, InstanceRegistry } from '../db/registry';
import { applyPlans, ApplyResult, Conflict, planCounts, planInstance, TableCounts } from './apply';
import { ccIdentity, ensureInstanceTables } from './progress';
import { drainQueue, QueueHooks } from './queue';
import { mergeTables, MergeOptions, writeCommandCenter } from './merge';
import { chosenTables, ObjectKind, ALL_KINDS, TableDef } from './tables';

export type InstanceState = 'in sync' | 'behind' | 'failing';

export interface InstanceReport {
  instance: { id: number; name: string };
  topic: 'sync' | 'plan';
  applied: Record<string, TableCounts>;
  cascaded: Record<string, number>;
  /** Rows only the Instance has, kept because it is not centralised yet. */
  kept: Record<string, number>;
  queue: { dequeued: number; pending: number; error?: { id: string; message: string } };
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
  queueBatch?: number;
  /** First retry delay of a failing queue head; doubles up to backoffMaxMs. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  useQueue?: boolean;
  useTables?: boolean;
  hooks?: QueueHooks;
  tuning?: PoolTuning;
  now?: () => number;
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
  }[];
}

interface Backoff {
  failures: number;
  until: number;
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
  private readonly busy = new Map<number, Promise<InstanceReport>>();
  private readonly backoff = new Map<number, Backoff>();
  private readonly states = new Map<number, InstanceState>();
  private readonly prepared = new Set<Pool>();

  constructor(private readonly opts: ReplicatorOptions) {
    this.registry = new InstanceRegistry(opts.cc, {
      ids: opts.instances ?? [],
      tuning: opts.tuning ?? { connectionLimit: 2, connectTimeoutMs: 3000 },
    });
    this.tables = chosenTables(opts.objects ?? [...ALL_KINDS]);
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  async ccUid(): Promise<string> {
    this.uid ??= await ccIdentity(this.opts.cc);
    return this.uid;
  }

  /** Per-state counts of the Instances as last seen. */
  status(): Record<InstanceState, number> {
    const out: Record<InstanceState, number> = { 'in sync': 0, behind: 0, failing: 0 };
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
    const started: Promise<InstanceReport>[] = [];
    for (const inst of instances) {
      if (this.busy.has(inst.id)) continue;
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
      queue: { dequeued: 0, pending: 0 },
      conflicts: [],
      errors: [],
      state: 'in sync',
    };
    const ccUid = await this.ccUid();
    try {
      if (!this.prepared.has(inst.pool)) {
        await ensureInstanceTables(inst.pool);
        this.prepared.add(inst.pool);
      }
    } catch (err) {
      report.errors.push(explainConnectError(inst, err));
      report.state = 'failing';
      return report;
    }

    if (topic === 'sync' && this.opts.useQueue !== false) {
      const b = this.backoff.get(inst.id);
      if (b && b.until > this.now()) {
        report.queue.pending = -1;
        report.errors.push(`tsync_queue: waiting to retry the failing head item (backoff)`);
      } else {
        try {
          const q = await drainQueue(this.opts.cc, inst, {
            ccUid,
            tables: this.tables,
            batch: this.opts.queueBatch,
            hooks: this.opts.hooks,
          });
          merge(report.applied, q.applied);
          addCounts(report.cascaded, q.cascaded);
          report.queue = { dequeued: q.dequeued, pending: q.pending, error: q.error };
          if (q.error) {
            report.errors.push(q.error.message);
            const failures = (b?.failures ?? 0) + 1;
            const base = this.opts.backoffBaseMs ?? 1000;
            const delay = Math.min(this.opts.backoffMaxMs ?? 60_000, base * 2 ** (failures - 1));
            this.backoff.set(inst.id, { failures, until: this.now() + delay });
          } else this.backoff.delete(inst.id);
        } catch (err) {
          report.errors.push(explainConnectError(inst, err));
        }
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
      report.errors.length > 0 ? 'failing' : report.queue.pending > 0 ? 'behind' : 'in sync';
    return report;
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
    const report: MergeReport = { commandCenter: { applied: {} }, conflicts: [], instances: [] };
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
    return report;
  }

  async close(): Promise<void> {
    await this.idle();
    await this.registry.close();
  }
}
