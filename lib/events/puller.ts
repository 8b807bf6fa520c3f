/**
 * EventPuller: Pandora's old event replication (replication_mode / replication_limit /
 * replication_interval), done from the Command Center and exactly once. One independent worker per
 * Instance (instance-worker.ts) copies tevento into tmetaconsole_event; a slow or unreachable
 * Instance only delays itself. The puller keeps the registry, the Command Center tables and the
 * workers in step, and reports what they do as events.
 */
import { EventEmitter } from 'node:events';
import { units } from '../cluster/gate';
import { InstanceRegistry } from '../db/registry';
import { CommandCenterSide } from './command-center';
import { errorOf, InstanceWorker, type WorkerHost } from './instance-worker';
import { resolveOptions, type EventPullOptions, type ResolvedOptions } from './options';
import type {
  EventPullerEvents,
  InstanceRef,
  InstanceReport,
  PullerStatus,
  RoundResult,
} from './types';

/**
 * Copies every Instance event into the Command Center exactly once. Emits `batch` (EventBatch),
 * `problem` (PullProblem, once per outage), `recovered` (PullRecovered) and `status`. `T` is what
 * callers give round() to find it again on the batches and problems of that round.
 */
export class EventPuller<T = unknown>
  extends EventEmitter<EventPullerEvents<T>>
  implements WorkerHost<T>
{
  readonly opts: ResolvedOptions;
  readonly cc: CommandCenterSide;
  closed = false;
  private readonly registry: InstanceRegistry;
  private readonly workers = new Map<number, InstanceWorker<T>>();
  private schemaReady: Promise<void> | null = null;
  private ccProblem: string | undefined;
  private readonly problemKeys = new Set<string>();
  private registryTimer: NodeJS.Timeout | null = null;
  private started = false;

  constructor(options: EventPullOptions) {
    super();
    this.opts = resolveOptions(options);
    this.cc = new CommandCenterSide(options.cc);
    this.registry = new InstanceRegistry(options.cc, { ids: options.instances ?? [] });
  }

  /** Emits without letting a listener's exception break a round. */
  emitSafe<K extends keyof EventPullerEvents<T>>(event: K, ...args: EventPullerEvents<T>[K]): void {
    if (this.closed) return;
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

  private problem(key: string, message: string, err: unknown, instance?: InstanceRef): void {
    if (this.problemKeys.has(key)) return;
    this.problemKeys.add(key);
    this.emitSafe('problem', { key, instance, message, error: errorOf(err), requests: [] });
  }

  private cleared(key: string, instance?: InstanceRef): void {
    if (this.problemKeys.delete(key)) this.emitSafe('recovered', { key, instance });
  }

  /** Re-reads the registry and the Command Center tables; starts and stops workers to match. */
  async refresh(): Promise<string[]> {
    const problems: string[] = [];
    try {
      await this.ready();
      const list = await this.registry.refresh();
      this.opts.gate?.offer(list.map((i) => units.events(i.id)));
      this.ccProblem = undefined;
      this.cleared('cc');
      const seen = new Set<number>();
      for (const inst of list) {
        seen.add(inst.id);
        const w = this.workers.get(inst.id);
        if (!w || w.instance.pool !== inst.pool) {
          w?.stop();
          const nw = new InstanceWorker<T>(inst, this);
          this.workers.set(inst.id, nw);
          if (this.started) void nw.trigger();
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
        current.add(key);
        problems.push(p.message);
        this.problem(key, p.message, new Error(p.message), { id: p.id, name: p.name });
      }
      for (const key of [...this.problemKeys]) {
        if (key.startsWith('registry:') && !current.has(key)) this.cleared(key);
      }
    } catch (err) {
      const e = err as { sqlMessage?: string; message?: string };
      this.ccProblem = e.sqlMessage ?? e.message ?? String(err);
      problems.push(`Command Center: ${this.ccProblem}`);
      this.problem('cc', `Command Center: ${this.ccProblem}`, err);
    }
    this.emitSafe('status');
    return problems;
  }

  /**
   * One round now: registry re-read, then every instance at once, each bounded in time. `request`
   * travels with the batches and problems of this round (see EventBatch.requests).
   */
  async round(request?: T): Promise<RoundResult> {
    const problems = await this.refresh();
    const workers = [...this.workers.values()];
    const instances = await Promise.all(
      workers.map(async (w) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<InstanceReport>((resolve) => {
          timer = setTimeout(() => resolve(w.pendingReport()), this.opts.roundTimeoutMs);
        });
        try {
          return await Promise.race([w.trigger(request), timeout]);
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return { instances, problems };
  }

  /** Starts the automatic rounds: each instance on its own timer, the registry re-read each interval. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    // refresh() starts a worker (and its own timer) for every instance it finds.
    void this.refresh();
    if (this.opts.intervalMs > 0) {
      this.registryTimer = setInterval(
        () => void this.refresh(),
        Math.max(this.opts.intervalMs, 1000),
      );
      this.registryTimer.unref?.();
    }
  }

  /** The Command Center's and each instance's state, for a status line. */
  status(): PullerStatus {
    return {
      commandCenter: this.ccProblem ?? null,
      instances: [...this.workers.values()].map((w) => w.status),
    };
  }

  /** Stops the timers, waits (briefly) for rounds in progress and closes the instance pools. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.registryTimer) clearInterval(this.registryTimer);
    const workers = [...this.workers.values()];
    for (const w of workers) w.stop();
    await Promise.race([
      Promise.all(workers.map((w) => w.idle())),
      new Promise((r) => setTimeout(r, 5000).unref?.()),
    ]);
    this.workers.clear();
    await this.registry.close();
  }
}
