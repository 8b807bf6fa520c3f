/**
 * One Instance's worker: its rounds (never two at once, at most one more queued), its timer and
 * retry backoff, and the copy itself: new events past the checkpoint, then changes to events
 * already copied, then (optionally) validations made on the copies back to the Instance. Each
 * batch is written in one Command Center transaction with the checkpoint that covers it.
 */
import { createHash } from 'node:crypto';
import { LeaseLost, units } from '../cluster/gate';
import { explainConnectError, Instance } from '../db/registry';
import { Backoff } from '../util/backoff';
import { RoundScheduler } from '../util/round-scheduler';
import {
  Checkpoint,
  CheckpointMoved,
  CommandCenterSide,
  COPY_ONLY_COLUMNS,
  type CommitHooks,
} from './command-center';
import { budgetOf, fittingPrefix, packed, type Budget } from './budget';
import { EventState, InstanceSide, Row, sameState } from './instance-side';
import type { ResolvedOptions } from './options';
import type { EventPullerEvents, InstanceRef, InstanceReport, InstanceStatus } from './types';

/** A batch ready to write: the copy's columns, each row's values in that order, the events sent. */
interface Copies {
  columns: string[];
  values: unknown[][];
  events: Row[];
}

/** What one round serves: the requests given to round(), and whether anyone asked for it. */
interface Ask<T> {
  requests: T[];
  /** Asked for through round(), rather than started by the worker's own timer. */
  manual: boolean;
}

/**
 * Shortest time between two looks for changes to copied events (and two readings of the names)
 * in automatic rounds; a round asked for through round() always looks.
 */
const CHANGES_EVERY_MS = 1000;

/**
 * Batch transactions of one instance open at once (copyNew): each batch's rows are written while
 * the batches before it commit.
 */
const WRITES_IN_FLIGHT = 2;

/** What a worker needs from the puller that owns it. */
export interface WorkerHost<T> {
  readonly opts: ResolvedOptions;
  readonly cc: CommandCenterSide;
  readonly closed: boolean;
  /** Resolves once the Command Center tables are usable. */
  ready(): Promise<void>;
  /** Emits without letting a listener's exception break a round. */
  emitSafe<K extends keyof EventPullerEvents<T>>(event: K, ...args: EventPullerEvents<T>[K]): void;
}

export function errorOf(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
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
  readonly side: InstanceSide;
  private columns: string[] | null = null;
  /** The copy's columns (copyColumns()), fixed with `columns`. */
  private copyCols: string[] = [];
  private checkpoint: Checkpoint | null = null;
  private down = false;
  /** Cluster: the last round found another member working this instance. */
  private away = false;
  private message?: string;
  private lag: number | null = null;
  private lastCaughtUp = 0;
  private removed = false;
  private readonly backoff: Backoff;
  private readonly rounds: RoundScheduler<Ask<T>, InstanceReport>;
  private timer: NodeJS.Timeout | null = null;
  /** The requests the round in progress serves (carried by what it emits). */
  private requests: T[] = [];
  /** When the last round looked for changes to events already copied. */
  private lastChangesAt = 0;
  /** Whether the round in progress was asked for through round(). */
  private manual = false;

  constructor(
    instance: Instance,
    private readonly host: WorkerHost<T>,
  ) {
    this.instance = instance;
    this.side = new InstanceSide(instance.pool, host.opts.queryTimeoutMs, this.budget);
    // A failing instance is retried after the interval (at least 1 s), then twice that, and so on.
    this.backoff = new Backoff({
      baseMs: Math.max(host.opts.intervalMs, 1000),
      maxMs: host.opts.maxBackoffMs,
    });
    this.rounds = new RoundScheduler<Ask<T>, InstanceReport>({
      run: (ask) => this.execute(ask),
      merge: (queued, next) => ({
        requests: [...queued.requests, ...next.requests],
        manual: queued.manual || next.manual,
      }),
    });
  }

  /** What one batch may hold (options maxBatchBytes, maxCommentsPerEvent, maxCommentBytes). */
  get budget(): Budget {
    return budgetOf(this.host.opts);
  }

  get ref(): InstanceRef {
    return { id: this.instance.id, name: this.instance.name };
  }

  /** The worker's state for a status line. */
  get status(): InstanceStatus {
    return {
      ...this.ref,
      lag: this.lag,
      down: this.down,
      message: this.message,
      ...(this.away ? { elsewhere: true } : {}),
    };
  }

  /** A report for a round still running when the caller stopped waiting. */
  pendingReport(): InstanceReport {
    return { ...this.ref, copied: 0, updated: 0, writtenBack: 0, lag: this.lag, pending: true };
  }

  /**
   * Resolves with the report of a round that starts no earlier than this call; `request` (when
   * given) travels with what that round emits.
   */
  trigger(request?: T): Promise<InstanceReport> {
    return this.rounds.request({ requests: request === undefined ? [] : [request], manual: true })!;
  }

  /** Waits for the round in progress and the one queued, if any. */
  idle(): Promise<void> {
    return this.rounds.idle();
  }

  stop(): void {
    this.removed = true;
    this.clearTimer();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delayMs: number): void {
    if (this.removed || this.host.closed || this.host.opts.intervalMs <= 0) return;
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.rounds.request({ requests: [], manual: false });
    }, delayMs);
    this.timer.unref?.();
  }

  private async execute({ requests, manual }: Ask<T>): Promise<InstanceReport> {
    // A round asked for by hand replaces the automatic one that was waiting.
    this.clearTimer();
    this.requests = requests;
    // Names are read afresh (automatic rounds: at most every CHANGES_EVERY_MS), so a rename
    // shows in the copies made after it.
    this.side.forgetNames(manual ? 0 : CHANGES_EVERY_MS);
    this.manual = manual;
    const startedAt = Date.now();
    const report: InstanceReport = {
      ...this.ref,
      copied: 0,
      updated: 0,
      writtenBack: 0,
      lag: this.lag,
    };
    const gate = this.host.opts.gate;
    if (gate && !gate.holds(units.events(this.instance.id))) return this.elsewhere(report);
    this.away = false;
    try {
      await this.host.ready();
      await this.pull(report);
      this.backoff.succeed();
      if (this.down) {
        this.down = false;
        this.message = undefined;
        this.host.emitSafe('recovered', { key: String(this.instance.id), instance: this.ref });
      }
      // Rounds start an interval apart (not an interval after the last one ended): a long
      // round does not add its own length to the wait of the events that arrived meanwhile.
      this.schedule(Math.max(0, this.host.opts.intervalMs - (Date.now() - startedAt)));
    } catch (err) {
      // Cluster: the lease moved, or moved away and back between two rounds here (another
      // member wrote the checkpoint meanwhile): read it again next round, nothing to report.
      if (err instanceof LeaseLost || (gate && err instanceof CheckpointMoved)) {
        return this.elsewhere(report);
      }
      // Something failed: re-read the instance's shape and our checkpoint before trying again.
      this.columns = null;
      this.checkpoint = null;
      const message = this.explain(err);
      report.error = message;
      if (this.lastCaughtUp > 0) this.lag = (Date.now() - this.lastCaughtUp) / 1000;
      report.lag = this.lag;
      this.message = message;
      if (!this.down && !this.removed) {
        this.down = true;
        this.host.emitSafe('problem', {
          key: String(this.instance.id),
          instance: this.ref,
          message,
          error: errorOf(err),
          requests,
        });
      }
      this.schedule(this.backoff.fail(message));
    }
    this.host.emitSafe('status');
    return report;
  }

  /**
   * Cluster: another member works this instance. Its checkpoint moves there, so it is read
   * again when the lease comes back.
   */
  private elsewhere(report: InstanceReport): InstanceReport {
    this.checkpoint = null;
    this.away = true;
    report.elsewhere = true;
    this.schedule(this.host.opts.intervalMs);
    this.host.emitSafe('status');
    return report;
  }

  private explain(err: unknown): string {
    if (err instanceof CheckpointMoved) return err.message;
    const e = err as { message?: string; sqlMessage?: string; cc?: boolean };
    if (!e.cc && isConnectError(err)) return explainConnectError(this.instance, err);
    const text = e.sqlMessage ?? e.message ?? String(err);
    return e.cc
      ? `instance ${this.instance.id} (${this.instance.name}): Command Center write failed: ${text}`
      : `instance ${this.instance.id} (${this.instance.name}): ${text}`;
  }

  /** Runs a Command Center step, marking its failures as the Command Center's. */
  private async onCc<T>(step: Promise<T>): Promise<T> {
    try {
      return await step;
    } catch (err) {
      if (err instanceof CheckpointMoved) throw err;
      const e = errorOf(err) as Error & { cc?: boolean };
      e.cc = true;
      throw e;
    }
  }

  private async pull(report: InstanceReport): Promise<void> {
    const cc = this.host.cc;
    if (!this.columns) {
      const tables = await this.side.describe();
      this.columns = [...tables.tevento].filter(
        (c) => c !== 'id_evento' && cc.columns.has(c) && !COPY_ONLY_COLUMNS.includes(c),
      );
      this.copyCols = this.copyColumns();
      this.side.prepare(this.copyCols, this.instance.id);
    }
    if (!this.checkpoint) this.checkpoint = await this.onCc(cc.loadCheckpoint(this.instance.id));
    if (this.host.opts.writeBack) report.writtenBack = await this.writeBack();
    report.copied = await this.copyNew();
    // Automatic rounds faster than CHANGES_EVERY_MS look for changes only that often: the
    // re-poll reads the recent window and every validation since the cursor, on both sides.
    if (this.manual || Date.now() - this.lastChangesAt >= CHANGES_EVERY_MS) {
      this.lastChangesAt = Date.now();
      report.updated = await this.copyChanges();
    }
    report.lag = this.lag;
  }

  /** The copy's columns, in the order of every batch's rows and values. */
  private copyColumns(): string[] {
    const cc = this.host.cc;
    const extra = ['agent_name', 'group_name', 'module_name', 'alert_template_name'].filter((c) =>
      cc.columns.has(c),
    );
    const comment =
      this.side.tables?.tevent_comment && cc.columns.has('user_comment') ? ['user_comment'] : [];
    return ['id_source_event', 'server_id', ...(this.columns ?? []), ...extra, ...comment];
  }

  /**
   * Builds the copies of `rows` (events in the copy's shape, see InstanceSide.prepare): their
   * comments filled in, and their values in the copy's column order. The rows are the events sent.
   */
  private async toCopies(rows: Row[]): Promise<Copies> {
    const columns = this.copyCols;
    if (columns.includes('user_comment') && rows.length > 0) {
      const comments = await this.side.commentsOf(
        rows.map((r) => BigInt(String(r.id_source_event))),
      );
      for (const r of rows) r.user_comment = comments.get(String(r.id_source_event)) ?? '';
    }
    const values = new Array<unknown[]>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      const vals = new Array<unknown>(columns.length);
      for (let k = 0; k < columns.length; k++) vals[k] = r[columns[k]];
      values[i] = vals;
    }
    return { columns, values, events: rows };
  }

  /** Writes copies and moves the checkpoint to `next`, in one Command Center transaction. */
  private async write(copies: Copies, next: Checkpoint): Promise<void> {
    await this.writeFrom(this.checkpoint!, copies, next);
    this.checkpoint = next;
  }

  /**
   * The transaction of write(), from an explicit `expected` checkpoint; `after` is the write of
   * the batch before, still running (see copyNew).
   */
  private writeFrom(
    expected: Checkpoint,
    copies: Copies,
    next: Checkpoint,
    after?: Promise<void>,
  ): Promise<void> {
    return this.onCc(
      this.host.cc.commit({
        serverId: this.instance.id,
        columns: copies.columns,
        rows: copies.values,
        expected,
        next,
        mode: this.host.opts.mode,
        hooks: this.commitHooks(),
        after,
      }),
    );
  }

  private commitHooks(): CommitHooks {
    const { hooks, gate } = this.host.opts;
    if (!gate) return hooks;
    return { ...hooks, fence: (conn, id) => gate.fence(units.events(id))(conn) };
  }

  /** The bytes of each event's comments in a copy (nothing when the copy has no user_comment). */
  private async commentBytes(ids: bigint[]): Promise<Map<bigint, number>> {
    return this.copyCols.includes('user_comment')
      ? this.side.commentBytes(ids)
      : new Map<bigint, number>();
  }

  /**
   * Splits `ids` (in order) into batches that fit the budget, weighing each event's comments
   * and, with `events`, its values.
   */
  private async cut(ids: bigint[], events: boolean): Promise<bigint[][]> {
    const sizes = events ? await this.side.sizesById(ids) : new Map<bigint, number>();
    const comments = await this.commentBytes(ids);
    return packed(ids, (id) => (sizes.get(id) ?? 0) + (comments.get(id) ?? 0), this.budget);
  }

  private async commit(rows: Row[], next: Checkpoint): Promise<Copies> {
    const copies = await this.toCopies(rows);
    await this.write(copies, next);
    return copies;
  }

  /**
   * Copies events past the checkpoint, batch by batch, in a pipeline: while batch k commits,
   * batch k+1's rows are already being written in its own transaction (which checks the
   * checkpoint only once k has ended, and keeps nothing if k failed) and batch k+2 is read and
   * prepared.
   */
  private async copyNew(): Promise<number> {
    const { batchSize, mode, maxDrainMs } = this.host.opts;
    const deadline = Date.now() + maxDrainMs;
    // The next batch: as many events as fit the budget (their sizes read first, without the
    // values); `full` when more wait behind it.
    const read = async (
      afterId: bigint,
    ): Promise<{ rows: Row[]; copies: Copies; full: boolean }> => {
      const sizes = await this.side.sizesAfter(afterId, batchSize);
      const comments = await this.commentBytes(sizes.map((s) => s.id));
      const n = fittingPrefix(
        sizes.map((s) => s.bytes + (comments.get(s.id) ?? 0)),
        this.budget,
      );
      const rows = n > 0 ? await this.side.eventsAfter(afterId, n) : [];
      const selected =
        mode === 'only_validated' ? rows.filter((r) => Number(r.estado) === 1) : rows;
      return {
        rows,
        copies: await this.toCopies(selected),
        full: sizes.length >= batchSize || n < sizes.length,
      };
    };
    /** A batch whose transaction has started, and what to record once it has committed. */
    interface InFlight {
      done: Promise<void>;
      copies: Copies;
      next: Checkpoint;
      full: boolean;
      lastUtimestamp: number;
    }
    let copied = 0;
    let planned = this.checkpoint!;
    // Oldest first; each write checks the checkpoint only after the one before it has ended.
    const inFlight: InFlight[] = [];
    const settle = async (w: InFlight): Promise<void> => {
      await w.done;
      this.checkpoint = w.next;
      copied += w.copies.events.length;
      if (w.copies.events.length > 0) {
        this.host.emitSafe('batch', {
          instance: this.ref,
          kind: 'new',
          events: w.copies.events,
          requests: this.requests,
        });
      }
      if (!w.full) this.caughtUp();
      else this.lag = Math.max(0, Date.now() / 1000 - w.lastUtimestamp);
    };
    let pending: ReturnType<typeof read> | null = read(planned.lastId);
    try {
      while (pending) {
        const { rows, copies, full } = await pending;
        pending = null;
        if (rows.length === 0) {
          if (inFlight.length === 0) this.caughtUp();
          break;
        }
        const lastRow = rows[rows.length - 1];
        const lastId = BigInt(String(lastRow.id_source_event));
        if (full && Date.now() < deadline && !this.host.closed) {
          pending = read(lastId);
          pending.catch(() => {});
        }
        const next = { ...planned, lastId };
        const started: InFlight = {
          done: this.writeFrom(planned, copies, next, inFlight.at(-1)?.done),
          copies,
          next,
          full,
          lastUtimestamp: Number(lastRow.utimestamp ?? 0),
        };
        started.done.catch(() => {});
        planned = next;
        inFlight.push(started);
        while (inFlight.length >= WRITES_IN_FLIGHT) await settle(inFlight.shift()!);
      }
      while (inFlight.length > 0) await settle(inFlight.shift()!);
    } finally {
      // A read or a write started for a batch we will not record (error, close) must end before
      // the next round reads the checkpoint, and must not go unhandled.
      pending?.catch(() => {});
      await Promise.allSettled(inFlight.map((w) => w.done));
    }
    return copied;
  }

  private caughtUp(): void {
    this.lag = 0;
    this.lastCaughtUp = Date.now();
  }

  /**
   * Refreshes copies whose event changed on the instance: validations (ack_utimestamp past the
   * cursor), new comments, and anything different in a window of recent ids (owner changes, and
   * events committed late with an id below the checkpoint).
   */
  private async copyChanges(): Promise<number> {
    const opts = this.host.opts;
    const cp = this.checkpoint!;
    if (cp.lastId === 0n) return 0;
    const from =
      cp.lastId > BigInt(opts.recheckWindow) ? cp.lastId - BigInt(opts.recheckWindow) : 0n;
    const candidates = new Map<bigint, EventState>();
    for (const s of await this.side.statesInRange(from, cp.lastId)) candidates.set(s.id, s);
    const acked = await this.side.statesAckedSince(
      Math.max(0, cp.lastAck - opts.ackOverlapSeconds),
      cp.lastId,
      50_000,
    );
    let lastAck = cp.lastAck;
    for (const s of acked) {
      candidates.set(s.id, s);
      lastAck = Math.max(lastAck, Number(s.ack_utimestamp));
    }
    let lastCommentId = cp.lastCommentId;
    let commented: bigint[] = [];
    if (this.side.tables?.tevent_comment) {
      // Comments can commit out of id order too: look a little behind the cursor.
      const back = cp.lastCommentId > 200n ? cp.lastCommentId - 200n : 0n;
      const scan = await this.side.commentsAfter(back, cp.lastId, 10_000);
      commented = scan.eventIds;
      if (scan.lastId > lastCommentId) lastCommentId = scan.lastId;
    }
    const ids = new Set<bigint>([...candidates.keys(), ...commented]);
    const copies = await this.onCc(this.host.cc.copyStates(this.instance.id, [...ids]));
    const changed = new Set<bigint>();
    for (const [id, s] of candidates) {
      const copy = copies.get(id);
      const wanted = opts.mode === 'all' || s.estado === 1 || copy !== undefined;
      if (wanted && (!copy || !sameState(s, copy))) changed.add(id);
    }
    const commentCheck = commented.filter((id) => !changed.has(id) && copies.has(id));
    // Compared a budget's worth at a time, by digest: the copy's text is not read back.
    for (const part of await this.cut(commentCheck, false)) {
      const now = await this.side.commentsOf(part);
      for (const id of part) {
        const digest = createHash('sha1')
          .update(now.get(String(id)) ?? '', 'utf8')
          .digest('hex');
        if (digest !== copies.get(id)!.commentSha1) changed.add(id);
      }
    }
    const next: Checkpoint = { ...cp, lastAck, lastCommentId };
    if (changed.size === 0) {
      if (lastAck !== cp.lastAck || lastCommentId !== cp.lastCommentId) await this.commit([], next);
      return 0;
    }
    let updated = 0;
    const parts = await this.cut(
      [...changed].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
      true,
    );
    for (let i = 0; i < parts.length; i++) {
      const rows = await this.side.eventsById(parts[i]);
      const last = i === parts.length - 1;
      const { events } = await this.commit(rows, last ? next : this.checkpoint!);
      updated += events.length;
      if (events.length > 0) {
        this.host.emitSafe('batch', {
          instance: this.ref,
          kind: 'update',
          events,
          requests: this.requests,
        });
      }
    }
    return updated;
  }

  /** Sends validations made on the Command Center's copy back to the instance. */
  private async writeBack(): Promise<number> {
    const opts = this.host.opts;
    const cp = this.checkpoint!;
    const copies = await this.onCc(
      this.host.cc.copiesAckedSince(
        this.instance.id,
        Math.max(0, cp.lastCcAck - opts.ackOverlapSeconds),
        50_000,
      ),
    );
    if (copies.length === 0) return 0;
    const here = await this.side.statesById(copies.map((c) => c.id));
    let written = 0;
    let lastCcAck = cp.lastCcAck;
    for (const c of copies) {
      lastCcAck = Math.max(lastCcAck, Number(c.ack_utimestamp));
      const mine = here.get(c.id);
      if (!mine || sameState(mine, c)) continue;
      if (BigInt(c.ack_utimestamp) <= BigInt(mine.ack_utimestamp)) continue;
      if (await this.side.writeBack(c)) written++;
    }
    if (lastCcAck !== cp.lastCcAck) await this.commit([], { ...cp, lastCcAck });
    return written;
  }
}
