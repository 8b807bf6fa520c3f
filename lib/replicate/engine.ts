/**
 * Replicator: the Command Center's shared objects kept identical on its Instances. The engine
 * keeps the registry and one lane per Instance (instance-lane.ts); its timer asks every idle
 * Instance for a round each interval, so a slow or unreachable one never holds back the others
 * and catches up when it answers again. A round (instance-round.ts) drains the node's tsync_queue
 * and then compares the tables. Reports go out only as the typed events of types.ts.
 */
import { EventEmitter } from 'node:events';
import type { RowDataPacket } from 'mysql2';
import { units } from '../cluster/gate';
import { InstanceRegistry, type Instance } from '../db/registry';
import { RoundScheduler } from '../util/round-scheduler';
import { ccError, ReplicateError } from './errors';
import { InstanceLane } from './instance-lane';
import { RoundSlots } from './round-slots';
import { InstanceRounds, type ReplicatorSeams, type RoundHost } from './instance-round';
import type { MergeOptions } from './merge';
import { runMergingTool } from './merging-tool';
import { resolveOptions, type ReplicatorOptions, type ResolvedReplicatorOptions } from './options';
import { ccIdentity } from './progress';
import { pendingCount, queueHeads, readItem, takeItem } from './queue-store';
import { DEFAULT_QUEUE_ITEMS_MAX, queueItemsMax } from './settings';
import { CcSnapshot } from './table-check';
import { chosenTables, type TableDef } from './tables';
import type {
  InstanceState,
  MergeReport,
  ReplicaRoundReport,
  ReplicateEvents,
  SkipReport,
} from './types';

/** The reports of the Instances a round reached. */
function done(reports: (ReplicaRoundReport | null)[]): ReplicaRoundReport[] {
  return reports.filter((r): r is ReplicaRoundReport => r !== null);
}

export class Replicator extends EventEmitter<ReplicateEvents> implements RoundHost {
  readonly opts: ResolvedReplicatorOptions;
  readonly tables: TableDef[];
  readonly registry: InstanceRegistry;
  private readonly rounds: InstanceRounds;
  private readonly lanes = new Map<number, InstanceLane>();
  private readonly states = new Map<number, InstanceState>();
  private readonly slots: RoundSlots;
  /** Instances waiting for a round slot (not asked again meanwhile). */
  private readonly waiting = new Set<number>();
  /** Per Instance: its last reported failures (a key of their codes and facts). */
  private readonly problems = new Map<number, string>();
  /**
   * Instances the queue's look found due while they were busy, with the newest id it saw: a queue
   * round when they end, unless that round drained it already.
   */
  private readonly wanted = new Map<number, string>();
  private readonly refreshes: RoundScheduler<void, Instance[]>;
  /** The queue's look between rounds: never two at once. */
  private readonly polls: RoundScheduler<void, void>;
  private uid: Promise<string> | null = null;
  private limit: number | null = null;
  private closedWith: ReplicateError | null = null;
  private ccDown = false;
  private timer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private started = false;

  constructor(
    options: ReplicatorOptions,
    readonly seams: ReplicatorSeams = {},
  ) {
    super();
    this.opts = resolveOptions(options);
    this.tables = chosenTables(this.opts.objects);
    this.registry = new InstanceRegistry(this.opts.cc, {
      ids: this.opts.instances,
      tuning: {
        connectionLimit: this.opts.connectionLimit,
        connectTimeoutMs: this.opts.connectTimeoutMs,
      },
    });
    this.refreshes = new RoundScheduler({ run: () => this.registry.refresh() });
    this.rounds = new InstanceRounds(this);
    this.polls = new RoundScheduler({ run: () => this.poll(), whenBusy: 'skip' });
    this.slots = new RoundSlots(this.opts.roundConcurrency);
  }

  /** Starts the timer: a round on every Instance after startDelayMs, then every intervalMs. */
  start(): void {
    this.assertOpen();
    if (this.started) return;
    this.started = true;
    if (this.opts.intervalMs > 0) {
      this.schedule(this.opts.startDelayMs);
      if (this.opts.queuePollMs > 0) this.schedulePoll();
    }
  }

  /**
   * A sync round now on every Instance not busy with another task; resolves with their reports
   * (each also emitted as `report` as soon as it is ready).
   */
  async requestRound(reason: string): Promise<ReplicaRoundReport[]> {
    return done(await Promise.all(await this.begin('sync', reason)));
  }

  /** A dry run on every Instance not busy: what a round would do now. Writes nothing. */
  async requestPlan(reason: string): Promise<ReplicaRoundReport[]> {
    return done(await Promise.all(await this.begin('plan', reason)));
  }

  /**
   * Discards one queued item, as Pandora's Metasetup lets an administrator do with the item that
   * blocks a node. Waits for that node's round to end and holds its lane meanwhile, so the item
   * cannot be applied while it is being removed.
   */
  async skip(id: string): Promise<SkipReport> {
    this.assertOpen();
    if (!/^[0-9]{1,20}$/.test(id)) throw new ReplicateError('ERR_REPLICATE_SKIP_ID', { id });
    const { cc } = this.opts;
    const queued = await readItem(cc, id);
    if (!queued) throw new ReplicateError('ERR_REPLICATE_SKIP_NOT_QUEUED', { id });
    const inst = (await this.refresh()).find((i) => i.id === queued.target);
    if (!inst) {
      throw new ReplicateError('ERR_REPLICATE_SKIP_OTHER_NODE', { id, target: queued.target });
    }
    const ccUid = await this.ccUid();
    return this.lane(inst.id).run(async () => {
      let appliedBefore = false;
      try {
        const [seen] = await inst.pool.query<RowDataPacket[]>(
          'SELECT 1 FROM tsync_replica_applied WHERE cc_uid = ? AND queue_id = ?',
          [ccUid, id],
        );
        appliedBefore = seen.length > 0;
      } catch {
        // Unreachable Instance or no bookkeeping yet: the item cannot have been applied by us.
      }
      // The round waited for may have applied and dequeued it: then it is reported as it was.
      const { target, ...item } = (await takeItem(cc, id)) ?? queued;
      this.rounds.forgetHead(target);
      // The same failure again is news again.
      this.problems.delete(target);
      return {
        instance: { id: inst.id, name: inst.name },
        item,
        appliedBefore,
        pending: await pendingCount(cc, target),
      };
    });
  }

  /** The Merging tool over every Instance of this engine (merging-tool.ts). */
  async merge(options: MergeOptions): Promise<MergeReport> {
    this.assertOpen();
    const ccUid = await this.ccUid();
    await this.idle();
    const instances = await this.refresh();
    const { cc, chunkSize, ccFacts, ccDbAddress } = this.opts;
    const report = await runMergingTool(
      { cc, ccUid, tables: this.tables, chunk: chunkSize, ccFacts, ccDbAddress },
      instances,
      options,
    );
    for (const r of report.instances) {
      this.states.set(r.instance.id, r.errors.length ? 'failing' : 'in sync');
    }
    this.emitSafe('status', this.status());
    return report;
  }

  /** Per-state counts of the Instances as last seen. */
  status(): Record<InstanceState, number> {
    const out: Record<InstanceState, number> = { 'in sync': 0, behind: 0, degraded: 0, failing: 0 };
    for (const s of this.states.values()) out[s] += 1;
    return out;
  }

  /** Waits until no Instance is busy. */
  async idle(): Promise<void> {
    await Promise.all([...this.lanes.values()].map((l) => l.idle()));
  }

  /** Stops the timer, lets each drain stop between pages, closes the Instance pools. */
  async close(reason: string): Promise<void> {
    if (this.closedWith) return;
    this.closedWith = new ReplicateError('ERR_REPLICATE_CLOSED', { reason });
    if (this.timer) clearTimeout(this.timer);
    if (this.pollTimer) clearTimeout(this.pollTimer);
    await Promise.all([this.refreshes.idle(), this.polls.idle(), this.idle()]);
    await this.registry.close();
  }

  closing(): boolean {
    return this.closedWith !== null;
  }

  /** The Command Center's identity (created at the first call), read once. */
  ccUid(): Promise<string> {
    this.uid ??= ccIdentity(this.opts.cc).catch((err: unknown) => {
      this.uid = null;
      throw err;
    });
    return this.uid;
  }

  /** The backlog threshold: the option, else the Command Center's tconfig, else 200. */
  async itemsMax(): Promise<number> {
    this.limit ??=
      this.opts.queueItemsMax ??
      (await queueItemsMax(this.opts.cc).catch(() => DEFAULT_QUEUE_ITEMS_MAX));
    return this.limit;
  }

  private assertOpen(): void {
    if (this.closedWith) throw this.closedWith;
  }

  private lane(id: number): InstanceLane {
    let lane = this.lanes.get(id);
    if (!lane) this.lanes.set(id, (lane = new InstanceLane()));
    return lane;
  }

  private async refresh(): Promise<Instance[]> {
    return (await this.refreshes.request())!;
  }

  /** The registry re-read, then a round started on each idle Instance this member works. */
  private async begin(
    topic: 'sync' | 'plan',
    reason: string,
  ): Promise<Promise<ReplicaRoundReport | null>[]> {
    this.assertOpen();
    let instances: Instance[];
    try {
      await this.ccUid();
      instances = await this.refresh();
    } catch (err) {
      throw ccError(err);
    }
    this.assertOpen();
    for (const p of this.registry.lastProblems()) this.states.set(p.id, 'failing');
    const { gate } = this.opts;
    gate?.offer(instances.map((i) => units.replicate(i.id)));
    const started: Promise<ReplicaRoundReport | null>[] = [];
    // What the Command Center holds is read once for all the Instances of this round.
    const snapshot = new CcSnapshot(this.opts.cc);
    for (const inst of instances) {
      if (gate && !gate.holds(units.replicate(inst.id))) {
        // Another member works it: its state here would be stale.
        this.states.delete(inst.id);
        continue;
      }
      if (this.waiting.has(inst.id) || this.lane(inst.id).busy) continue;
      this.waiting.add(inst.id);
      started.push(
        this.slots.run(async () => {
          this.waiting.delete(inst.id);
          if (this.closedWith) return null;
          // Busy by now (a queue round, a skip): that Instance is left out of this round.
          const round = this.lane(inst.id).tryRun(() =>
            this.rounds.run(inst, topic, reason, snapshot),
          );
          if (!round) return null;
          return round.then(
            (r) => {
              this.reported(r);
              return r;
            },
            (err: unknown) => {
              throw ccError(err);
            },
          );
        }),
      );
    }
    return started;
  }

  /** An Instance's round ended: its state, the event, its failures once per change. */
  private reported(r: ReplicaRoundReport): void {
    // Items were queued while it was busy: drained now rather than at the next look.
    const last = this.wanted.get(r.instance.id);
    if (last !== undefined && !this.closedWith) {
      this.wanted.delete(r.instance.id);
      const inst = this.registry.instances().find((i) => i.id === r.instance.id);
      if (inst && this.rounds.queueDue(inst.id, last)) {
        queueMicrotask(() => this.queueRound(inst, last));
      }
    }
    this.states.set(r.instance.id, r.state);
    this.emitSafe('report', r);
    if (r.topic === 'sync') {
      const id = r.instance.id;
      const key = r.errors.map((e) => e.message).join('\n');
      if (key === '') {
        if (this.problems.delete(id)) this.emitSafe('recovered', r.instance);
      } else if (this.problems.get(id) !== key) {
        this.problems.set(id, key);
        this.emitSafe('problem', { instance: r.instance, report: r });
      }
    }
    this.emitSafe('status', this.status());
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => this.tick(), ms);
    this.timer.unref?.();
  }

  /**
   * Timer: rounds started on the idle Instances, the next tick an interval later whatever they
   * take; a Command Center that cannot be read is reported once per outage.
   */
  private tick(): void {
    if (this.closedWith) return;
    this.begin('sync', 'timer').then(
      (started) => {
        this.ccDown = false;
        for (const round of started) round.catch(() => undefined);
      },
      (err: unknown) => {
        if (this.closedWith || this.ccDown) return;
        this.ccDown = true;
        this.emitSafe('failure', ccError(err));
      },
    );
    if (!this.closedWith) this.schedule(this.opts.intervalMs);
  }

  private schedulePoll(): void {
    this.pollTimer = setTimeout(() => {
      if (this.closedWith) return;
      void this.polls.request()?.catch(() => undefined);
      this.schedulePoll();
    }, this.opts.queuePollMs);
    this.pollTimer.unref?.();
  }

  /**
   * Between the timer's rounds: one grouped query says which Instances have items queued since
   * their last drain; each of those that is idle gets a queue round now. A Command Center that
   * cannot be read is left to the timer's rounds to report.
   */
  private async poll(): Promise<void> {
    const heads = await queueHeads(this.opts.cc);
    const { gate } = this.opts;
    for (const inst of this.registry.instances()) {
      const head = heads.get(inst.id);
      if (!head || !this.rounds.queueDue(inst.id, head.last)) continue;
      if (gate && !gate.holds(units.replicate(inst.id))) continue;
      this.queueRound(inst, head.last);
    }
  }

  /** A queue round on `inst` now, or as soon as its lane is free (`last`: the newest id seen). */
  private queueRound(inst: Instance, last: string): void {
    const round = this.lane(inst.id).tryRun(() => this.rounds.run(inst, 'sync', 'queue', null));
    if (!round) {
      this.wanted.set(inst.id, last);
      return;
    }
    this.wanted.delete(inst.id);
    round.then(
      (r) => this.reported(r),
      () => undefined,
    );
  }

  /** A listener's exception must not break a round. */
  private emitSafe<K extends keyof ReplicateEvents>(event: K, ...args: ReplicateEvents[K]): void {
    if (this.closedWith && event !== 'report') return;
    try {
      (this.emit as (e: K, ...a: ReplicateEvents[K]) => boolean)(event, ...args);
    } catch {
      // The listener's business.
    }
  }
}
