/**
 * One Instance's worker: its rounds (never two at once, at most one more queued), its timer and
 * retry backoff, its health (one problem per outage), and the cluster lease check. The copy
 * itself is instance-copy.ts's.
 */
import { LeaseLost, units } from '../cluster/gate';
import { explainConnectError, type Instance } from '../db/registry';
import { Backoff } from '../util/backoff';
import { causeOf } from '../util/errors';
import { RoundScheduler } from '../util/round-scheduler';
import type { BeforeCommit, CommandCenterSide } from './command-center';
import { coded, EventPullError } from './errors';
import { InstanceCopy } from './instance-copy';
import type { ResolvedOptions } from './options';
import type { EventPullerEvents, InstancePullReport, InstanceRef, InstanceStatus } from './types';

/** What one round serves: the reasons given to requestRound(), and whether anyone asked for it. */
interface Ask<T> {
  requests: T[];
  /** Asked for through requestRound(), rather than started by the worker's own timer. */
  manual: boolean;
}

/**
 * Shortest time between two looks for changes to copied events (and two readings of the names)
 * in automatic rounds; a round asked for through requestRound() always looks.
 */
const CHANGES_EVERY_MS = 1000;

/** What a worker needs from the puller that owns it. */
export interface WorkerHost<T> {
  readonly opts: ResolvedOptions;
  readonly cc: CommandCenterSide;
  readonly closed: boolean;
  readonly beforeCommit?: BeforeCommit;
  /** Resolves once the Command Center tables are usable. */
  ready(): Promise<void>;
  /** Emits without letting a listener's exception break a round. */
  emitSafe<K extends keyof EventPullerEvents<T>>(event: K, ...args: EventPullerEvents<T>[K]): void;
}

/** True for failures of the instance connection (as opposed to SQL or Command Center errors). */
function isConnectError(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  return /^(ECONN|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|ER_ACCESS_DENIED|ER_BAD_DB|PROTOCOL_)/.test(
    code,
  );
}

export class InstanceWorker<T> {
  instance: Instance;
  private readonly copy: InstanceCopy;
  private down = false;
  /** Cluster: the last round found another member holding this instance's lease. */
  private elsewhere = false;
  private error?: EventPullError;
  private stopped = false;
  private readonly backoff: Backoff;
  private readonly rounds: RoundScheduler<Ask<T>, InstancePullReport>;
  private timer: NodeJS.Timeout | null = null;
  /** The requests the round in progress serves (carried by what it emits). */
  private requests: T[] = [];
  /** When the last round looked for changes to events already copied. */
  private lastChangesAt = 0;

  constructor(
    instance: Instance,
    private readonly host: WorkerHost<T>,
  ) {
    this.instance = instance;
    this.copy = new InstanceCopy(instance, host, (kind, events) =>
      host.emitSafe('batch', { instance: this.ref, kind, events, requests: this.requests }),
    );
    // A failing instance is retried after the interval (at least 1 s), then twice that, and so on.
    this.backoff = new Backoff({
      baseMs: Math.max(host.opts.intervalMs, 1000),
      maxMs: host.opts.maxBackoffMs,
    });
    this.rounds = new RoundScheduler<Ask<T>, InstancePullReport>({
      run: (ask) => this.execute(ask),
      merge: (queued, next) => ({
        requests: [...queued.requests, ...next.requests],
        manual: queued.manual || next.manual,
      }),
    });
  }

  get ref(): InstanceRef {
    return { id: this.instance.id, name: this.instance.name };
  }

  /** The worker's state for a status line. */
  get status(): InstanceStatus {
    return {
      ...this.ref,
      lag: this.copy.lag,
      down: this.down,
      error: this.error,
      ...(this.elsewhere ? { elsewhere: true } : {}),
    };
  }

  /** A report for a round still running when the caller stopped waiting. */
  pendingReport(): InstancePullReport {
    return { ...this.report(), pending: true };
  }

  /**
   * Resolves with the report of a round that starts no earlier than this call; `request` (when
   * given) travels with what that round emits.
   */
  request(request?: T): Promise<InstancePullReport> {
    return this.rounds.request({ requests: request === undefined ? [] : [request], manual: true })!;
  }

  /** Waits for the round in progress and the one queued, if any. */
  idle(): Promise<void> {
    return this.rounds.idle();
  }

  /** No more timer rounds (the puller dropped this worker, or closed). */
  stop(): void {
    this.stopped = true;
    this.clearTimer();
  }

  private report(): InstancePullReport {
    return { ...this.ref, copied: 0, updated: 0, writtenBack: 0, lag: this.copy.lag };
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delayMs: number): void {
    if (this.stopped || this.host.closed || this.host.opts.intervalMs <= 0) return;
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.rounds.request({ requests: [], manual: false });
    }, delayMs);
    this.timer.unref?.();
  }

  private async execute({ requests, manual }: Ask<T>): Promise<InstancePullReport> {
    // A round asked for by hand replaces the automatic one that was waiting.
    this.clearTimer();
    this.requests = requests;
    // Names are read afresh (automatic rounds: at most every CHANGES_EVERY_MS), so a rename
    // shows in the copies made after it.
    this.copy.side.forgetNames(manual ? 0 : CHANGES_EVERY_MS);
    const startedAt = Date.now();
    const report = this.report();
    const gate = this.host.opts.gate;
    if (gate && !gate.holds(units.events(this.instance.id))) return this.leasedElsewhere(report);
    this.elsewhere = false;
    try {
      await this.host.ready();
      // Automatic rounds faster than CHANGES_EVERY_MS look for changes only that often: the
      // re-poll reads the recent window and every validation since the cursor, on both sides.
      const changes = manual || startedAt - this.lastChangesAt >= CHANGES_EVERY_MS;
      if (changes) this.lastChangesAt = startedAt;
      await this.copy.round(changes, report);
      report.lag = this.copy.lag;
      this.backoff.succeed();
      if (this.down) {
        this.down = false;
        this.error = undefined;
        this.host.emitSafe('recovered', { key: String(this.instance.id), instance: this.ref });
      }
      // Rounds start an interval apart (not an interval after the last one ended): a long
      // round does not add its own length to the wait of the events that arrived meanwhile.
      this.schedule(Math.max(0, this.host.opts.intervalMs - (Date.now() - startedAt)));
    } catch (err) {
      // Cluster: the lease moved, or moved away and back between two rounds here (another
      // member wrote the checkpoint meanwhile): read it again next round, nothing to report.
      const moved = causeOf(err, EventPullError)?.code === 'ERR_EVENT_PULL_CHECKPOINT_MOVED';
      if (causeOf(err, LeaseLost) || (gate && moved)) return this.leasedElsewhere(report);
      // Something failed: re-read the instance's shape and our checkpoint before trying again.
      this.copy.failed();
      const error = this.explain(err);
      report.error = error;
      report.lag = this.copy.lag;
      this.error = error;
      if (!this.down && !this.stopped) {
        this.down = true;
        this.host.emitSafe('problem', {
          key: String(this.instance.id),
          instance: this.ref,
          error,
          requests,
        });
      }
      this.schedule(this.backoff.fail(error.code));
    }
    this.host.emitSafe('status');
    return report;
  }

  /**
   * Cluster: another member works this instance. Its checkpoint moves there, so it is read
   * again when the lease comes back.
   */
  private leasedElsewhere(report: InstancePullReport): InstancePullReport {
    this.copy.forgetCheckpoint();
    this.elsewhere = true;
    report.elsewhere = true;
    this.schedule(this.host.opts.intervalMs);
    this.host.emitSafe('status');
    return report;
  }

  /** The failure of a round as reported: coded, naming the instance. */
  private explain(err: unknown): EventPullError {
    const { id, name } = this.instance;
    if (err instanceof EventPullError) {
      return err.facts.id === undefined
        ? new EventPullError(err.code, { id, name, ...err.facts }, { cause: err.cause })
        : err;
    }
    if (isConnectError(err)) {
      return new EventPullError(
        'ERR_EVENT_PULL_CONNECT',
        { id, name, message: explainConnectError(this.instance, err) },
        { cause: err },
      );
    }
    return coded(err, 'ERR_EVENT_PULL_INSTANCE', { id, name });
  }
}
