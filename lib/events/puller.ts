/**
 * EventPuller: Pandora's old event replication (replication_mode / replication_limit /
 * replication_interval), done from the Command Center and exactly once. One independent worker per
 * Instance (instance-worker.ts) copies tevento into tmetaconsole_event; a slow or unreachable
 * Instance only delays itself. The puller keeps the registry, the Command Center tables and the
 * workers in step, and reports what they do only as the typed events of types.ts.
 */
import { EventEmitter } from 'node:events';
import { units } from '../cluster/gate';
import { InstanceRegistry } from '../db/registry';
import { RoundScheduler } from '../util/round-scheduler';
import { CommandCenterSide, type BeforeCommit } from './command-center';
import { coded, EventPullError } from './errors';
import { InstanceWorker, type WorkerHost } from './instance-worker';
import { resolveOptions, type EventPullOptions, type ResolvedOptions } from './options';
import type {
  EventPullerEvents,
  InstancePullReport,
  InstanceRef,
  PullerStatus,
  RoundResult,
} from './types';

/** Test seams, kept out of the public options. */
export interface EventPullTesting {
  /** Runs inside every batch transaction after its writes, before COMMIT. */
  beforeCommit?: BeforeCommit;
}

/** How long close() waits for rounds in progress before closing the pools under them. */
const CLOSE_WAIT_MS = 5000;

/**
 * Copies every Instance event into the Command Center exactly once. Emits `batch` (EventBatch),
 * `problem` (PullProblem, once per outage), `recovered` (PullRecovered) and `status`. `T` is the
 * reason callers give requestRound(), found again on the batches and problems of that round.
 */
export class EventPuller<T = unknown>
  extends EventEmitter<EventPullerEvents<T>>
  implements WorkerHost<T>
{
  readonly opts: ResolvedOptions;
  readonly cc: CommandCenterSide;
  readonly beforeCommit?: BeforeCommit;
  private readonly registry: InstanceRegistry;
  private readonly workers = new Map<number, InstanceWorker<T>>();
  private readonly refreshes: RoundScheduler<void, EventPullError[]>;
  private schemaReady: Promise<void> | null = null;
  private ccError: EventPullError | null = null;
  private readonly problemKeys = new Set<string>();
  private closedWith: EventPullError | null = null;
  private timer: NodeJS.Timeout | null = null;
  private started = false;

  constructor(options: EventPullOptions, testing: EventPullTesting = {}) {
    super();
    this.opts = resolveOptions(options);
    this.beforeCommit = testing.beforeCommit;
    this.cc = new CommandCenterSide(options.cc);
    this.registry = new InstanceRegistry(options.cc, { ids: options.instances ?? [] });
    this.refreshes = new RoundScheduler({ run: () => this.refresh() });
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  /**
   * Starts the automatic rounds: each instance on its own timer (started when the registry
   * names it), the registry re-read every interval (none with interval 0).
   */
  start(): void {
    this.assertOpen();
    if (this.started) return;
    this.started = true;
    this.tick();
  }

  /**
   * One round now: registry re-read, then every instance at once, each bounded in time
   * (roundTimeoutMs). `reason` travels with the batches and problems of this round (see
   * EventBatch.requests).
   */
  async requestRound(reason?: T): Promise<RoundResult> {
    this.assertOpen();
    const problems = (await this.refreshes.request())!;
    this.assertOpen();
    const instances = await Promise.all(
      [...this.workers.values()].map((w) => this.bounded(w, reason)),
    );
    return { instances, problems };
  }

  /** The Command Center's and each instance's state, for a status line. */
  status(): PullerStatus {
    return {
      commandCenter: this.ccError,
      instances: [...this.workers.values()].map((w) => w.status),
    };
  }

  /**
   * Stops the timers, waits (briefly) for rounds in progress and closes the instance pools.
   * Every call after this fails with ERR_EVENT_PULL_CLOSED carrying `reason`.
   */
  async close(reason = 'closed'): Promise<void> {
    if (this.closedWith) return;
    this.closedWith = new EventPullError('ERR_EVENT_PULL_CLOSED', { reason });
    if (this.timer) clearTimeout(this.timer);
    const workers = [...this.workers.values()];
    for (const w of workers) w.stop();
    await Promise.race([
      Promise.all([this.refreshes.idle(), ...workers.map((w) => w.idle())]),
      new Promise((r) => setTimeout(r, CLOSE_WAIT_MS).unref?.()),
    ]);
    this.workers.clear();
    await this.registry.close();
  }

  /** Emits without letting a listener's exception break a round. */
  emitSafe<K extends keyof EventPullerEvents<T>>(event: K, ...args: EventPullerEvents<T>[K]): void {
    if (this.closedWith) return;
    try {
      // TypeScript cannot match a generic key's arguments to EventEmitter's conditional type.
      (this.emit as (e: K, ...a: EventPullerEvents<T>[K]) => boolean)(event, ...args);
    } catch {
      // A listener's failure is the listener's business.
    }
  }

  /** Creates the Command Center tables when missing (once; retried after a failure). */
  ready(): Promise<void> {
    if (!this.schemaReady) {
      this.schemaReady = this.cc.ensureSchema().catch((err: unknown) => {
        this.schemaReady = null;
        throw err;
      });
    }
    return this.schemaReady;
  }

  private assertOpen(): void {
    if (this.closedWith) throw this.closedWith;
  }

  private async bounded(w: InstanceWorker<T>, reason?: T): Promise<InstancePullReport> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<InstancePullReport>((resolve) => {
      timer = setTimeout(() => resolve(w.pendingReport()), this.opts.roundTimeoutMs);
    });
    try {
      return await Promise.race([w.request(reason), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Timer: the registry re-read (which starts a worker, and its own timer, per new instance). */
  private tick(): void {
    if (this.closedWith) return;
    void this.refreshes.request();
    if (this.opts.intervalMs <= 0) return;
    this.timer = setTimeout(() => this.tick(), Math.max(this.opts.intervalMs, 1000));
    this.timer.unref?.();
  }

  private problem(key: string, error: EventPullError, instance?: InstanceRef): void {
    if (this.problemKeys.has(key)) return;
    this.problemKeys.add(key);
    this.emitSafe('problem', { key, instance, error, requests: [] });
  }

  private cleared(key: string, instance?: InstanceRef): void {
    if (this.problemKeys.delete(key)) this.emitSafe('recovered', { key, instance });
  }

  /** Re-reads the registry and the Command Center tables; starts and stops workers to match. */
  private async refresh(): Promise<EventPullError[]> {
    const problems: EventPullError[] = [];
    try {
      await this.ready();
      const list = await this.registry.refresh();
      this.opts.gate?.offer(list.map((i) => units.events(i.id)));
      this.ccError = null;
      this.cleared('cc');
      const seen = new Set<number>();
      for (const inst of list) {
        seen.add(inst.id);
        const w = this.workers.get(inst.id);
        if (!w || w.instance.pool !== inst.pool) {
          w?.stop();
          const nw = new InstanceWorker<T>(inst, this);
          this.workers.set(inst.id, nw);
          if (this.started && !this.closedWith) void nw.request();
        } else w.instance = inst;
      }
      for (const [id, w] of this.workers) {
        if (!seen.has(id)) {
          w.stop();
          this.workers.delete(id);
        }
      }
      const current = new Set<string>();
      for (const p of this.registry.lastProblems()) {
        const key = `registry:${p.id}`;
        const error = new EventPullError('ERR_EVENT_PULL_REGISTRY', {
          id: p.id,
          name: p.name,
          message: p.message,
        });
        current.add(key);
        problems.push(error);
        this.problem(key, error, { id: p.id, name: p.name });
      }
      for (const key of [...this.problemKeys]) {
        if (key.startsWith('registry:') && !current.has(key)) this.cleared(key);
      }
    } catch (err) {
      const error = coded(err, 'ERR_EVENT_PULL_CC');
      this.ccError = error;
      problems.push(error);
      this.problem('cc', error);
    }
    this.emitSafe('status');
    return problems;
  }
}
