/**
 * EventPuller: Pandora's old event replication (replication_mode / replication_limit /
 * replication_interval), done from the Command Center and exactly once. One independent worker per
 * Instance copies tevento into tmetaconsole_event in batches, each batch in one Command Center
 * transaction with the checkpoint that covers it; a slow or unreachable Instance only delays itself.
 */
import { EventEmitter } from 'node:events';
import type { Pool } from '../db/pool';
import { explainConnectError, Instance, InstanceRegistry } from '../db/registry';
import {
  Checkpoint,
  CheckpointMoved,
  CommandCenterSide,
  CommitHooks,
  COPY_ONLY_COLUMNS,
} from './command-center';
import { chunks, EventState, InstanceSide, Row, sameState } from './instance-side';

export type PullMode = 'all' | 'only_validated';

export interface EventPullOptions {
  /** The Command Center database (the pandora-config node's pool; not closed by the puller). */
  cc: Pool;
  /** tmetaconsole_setup ids; empty = every enabled row. */
  instances?: number[];
  /** Milliseconds between rounds of each instance; 0 = only when round() is called. */
  intervalMs?: number;
  /** Events per transaction (Pandora's replication_limit). */
  batchSize?: number;
  /** Pandora's replication_mode: copy every event, or an event only once it is validated. */
  mode?: PullMode;
  /** Write validations made on the copy back to the instance's tevento. */
  writeBack?: boolean;
  /** How many ids below the checkpoint are re-checked every round (late commits, owner changes). */
  recheckWindow?: number;
  /** Seconds the validation and write-back re-polls look back past their cursor. */
  ackOverlapSeconds?: number;
  /** Limit for one query on an instance; a hung instance fails its round after this. */
  queryTimeoutMs?: number;
  /** How long round() waits for one instance before reporting it as still running. */
  roundTimeoutMs?: number;
  /** Longest wait between retries of a failing instance. */
  maxBackoffMs?: number;
  /** Longest time one instance round keeps draining full batches before yielding. */
  maxDrainMs?: number;
  hooks?: CommitHooks;
}

const DEFAULTS = {
  intervalMs: 10_000,
  batchSize: 1000,
  mode: 'all' as PullMode,
  writeBack: false,
  recheckWindow: 1000,
  ackOverlapSeconds: 30,
  queryTimeoutMs: 30_000,
  roundTimeoutMs: 60_000,
  maxBackoffMs: 300_000,
  maxDrainMs: 30_000,
};

export interface InstanceRef {
  id: number;
  name: string;
}

/** One message's worth: events newly copied (`new`) or copies refreshed after a change (`update`). */
export interface EventBatch {
  instance: InstanceRef;
  kind: 'new' | 'update';
  events: Row[];
}

/** A failure reported once per outage: `key` is the instance id, or `cc` for the Command Center. */
export interface PullProblem {
  key: string;
  instance?: InstanceRef;
  message: string;
  error: Error;
}

export interface InstanceReport {
  id: number;
  name: string;
  copied: number;
  updated: number;
  writtenBack: number;
  /** Seconds behind the instance; null before the first successful round. */
  lag: number | null;
  error?: string;
  /** round() stopped waiting for this instance (it keeps running on its own). */
  pending?: boolean;
}

export interface RoundResult {
  instances: InstanceReport[];
  /** Registry rows that could not be used, and Command Center failures. */
  problems: string[];
}

export interface InstanceStatus {
  id: number;
  name: string;
  lag: number | null;
  down: boolean;
  message?: string;
}

/** The one-line status a Node-RED node shows, e.g. "2 inst, lag 0/3 s". */
export function statusText(list: InstanceStatus[], ccProblem?: string): string {
  if (ccProblem) return `Command Center: ${ccProblem}`.slice(0, 120);
  if (list.length === 0) return 'no instances';
  const lags = list.map((s) => (s.down || s.lag === null ? '?' : String(Math.round(s.lag))));
  const down = list.filter((s) => s.down);
  let text = `${list.length} inst, lag ${lags.join('/')} s`;
  if (down.length > 0)
    text += `; down: ${down.map((d) => `${d.id} ${d.message ?? ''}`.trim()).join('; ')}`;
  return text.slice(0, 160);
}

function errorOf(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** True for failures of the instance connection (as opposed to SQL or Command Center errors). */
function isConnectError(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  return /^(ECONN|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|ER_ACCESS_DENIED|ER_BAD_DB|PROTOCOL_)/.test(
    code,
  );
}

class InstanceWorker {
  instance: Instance;
  readonly side: InstanceSide;
  columns: string[] | null = null;
  checkpoint: Checkpoint | null = null;
  down = false;
  message?: string;
  lag: number | null = null;
  lastCaughtUp = 0;
  failures = 0;
  removed = false;
  private running: Promise<InstanceReport> | null = null;
  private queued: Promise<InstanceReport> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    instance: Instance,
    private readonly puller: EventPuller,
  ) {
    this.instance = instance;
    this.side = new InstanceSide(instance.pool, puller.opts.queryTimeoutMs);
  }

  get ref(): InstanceRef {
    return { id: this.instance.id, name: this.instance.name };
  }

  /** Resolves with the report of a run that starts no earlier than this call. */
  trigger(): Promise<InstanceReport> {
    if (!this.running) return this.start();
    if (!this.queued) {
      this.queued = this.running.then(
        () => this.start(),
        () => this.start(),
      );
    }
    return this.queued;
  }

  private start(): Promise<InstanceReport> {
    this.queued = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const run = this.execute().finally(() => {
      if (this.running === run) this.running = null;
    });
    this.running = run;
    return run;
  }

  /** Waits for the run in progress, if any. */
  async idle(): Promise<void> {
    while (this.running || this.queued) await (this.queued ?? this.running)?.catch(() => {});
  }

  stop(): void {
    this.removed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delayMs: number): void {
    if (this.removed || this.puller.closed || this.puller.opts.intervalMs <= 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.trigger();
    }, delayMs);
    this.timer.unref?.();
  }

  private async execute(): Promise<InstanceReport> {
    const report: InstanceReport = {
      id: this.instance.id,
      name: this.instance.name,
      copied: 0,
      updated: 0,
      writtenBack: 0,
      lag: this.lag,
    };
    const opts = this.puller.opts;
    try {
      await this.puller.ready();
      await this.pull(report);
      this.failures = 0;
      if (this.down) {
        this.down = false;
        this.message = undefined;
        this.puller.emitSafe('recovered', { key: String(this.instance.id), instance: this.ref });
      }
      this.schedule(opts.intervalMs);
    } catch (err) {
      // Something failed: re-read the instance's shape and our checkpoint before trying again.
      this.columns = null;
      this.checkpoint = null;
      this.failures++;
      const message = this.explain(err);
      report.error = message;
      if (this.lastCaughtUp > 0) this.lag = (Date.now() - this.lastCaughtUp) / 1000;
      report.lag = this.lag;
      this.message = message;
      if (!this.down && !this.removed) {
        this.down = true;
        this.puller.emitSafe('problem', {
          key: String(this.instance.id),
          instance: this.ref,
          message,
          error: errorOf(err),
        } satisfies PullProblem);
      }
      const backoff = Math.min(
        opts.maxBackoffMs,
        Math.max(opts.intervalMs, 1000) * 2 ** Math.min(this.failures - 1, 10),
      );
      this.schedule(backoff);
    }
    this.puller.emitSafe('status');
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
    const cc = this.puller.cc;
    if (!this.columns) {
      const tables = await this.side.describe();
      this.columns = [...tables.tevento].filter(
        (c) => c !== 'id_evento' && cc.columns.has(c) && !COPY_ONLY_COLUMNS.includes(c),
      );
      this.side.prepare(this.columns);
    }
    if (!this.checkpoint) this.checkpoint = await this.onCc(cc.loadCheckpoint(this.instance.id));
    if (this.puller.opts.writeBack) report.writtenBack = await this.writeBack();
    report.copied = await this.copyNew();
    report.updated = await this.copyChanges();
    report.lag = this.lag;
  }

  /** The column list of the copy and one row's values in that order. */
  private copyColumns(): string[] {
    const cc = this.puller.cc;
    const extra = ['agent_name', 'group_name', 'module_name', 'alert_template_name'].filter((c) =>
      cc.columns.has(c),
    );
    const comment =
      this.side.tables?.tevent_comment && cc.columns.has('user_comment') ? ['user_comment'] : [];
    return ['id_source_event', 'server_id', ...(this.columns ?? []), ...extra, ...comment];
  }

  private async toCopies(
    rows: Row[],
  ): Promise<{ columns: string[]; values: unknown[][]; events: Row[] }> {
    const columns = this.copyColumns();
    const comments =
      columns.includes('user_comment') && rows.length > 0
        ? await this.side.commentsOf(rows.map((r) => BigInt(String(r.id_evento))))
        : new Map<string, string>();
    const events: Row[] = [];
    const values: unknown[][] = [];
    for (const r of rows) {
      const id = String(r.id_evento);
      const ev: Row = {
        ...r,
        id_source_event: id,
        server_id: this.instance.id,
        user_comment: comments.get(id) ?? '',
      };
      delete ev.id_evento;
      const vals = columns.map((c) => (c === 'id_source_event' ? BigInt(id) : ev[c]));
      values.push(vals);
      const out: Row = {};
      for (const c of columns) out[c] = ev[c];
      events.push(out);
    }
    return { columns, values, events };
  }

  private async commit(
    rows: Row[],
    next: Checkpoint,
  ): Promise<{ events: Row[]; columns: string[] }> {
    const expected = this.checkpoint!;
    const copies = await this.toCopies(rows);
    await this.onCc(
      this.puller.cc.commit(
        this.instance.id,
        copies.columns,
        copies.values,
        expected,
        next,
        this.puller.opts.mode,
        this.puller.opts.hooks,
      ),
    );
    this.checkpoint = next;
    return copies;
  }

  /** Copies events past the checkpoint, batch by batch, reading the next batch while writing. */
  private async copyNew(): Promise<number> {
    const { batchSize, mode, maxDrainMs } = this.puller.opts;
    const deadline = Date.now() + maxDrainMs;
    let copied = 0;
    let pending: Promise<Row[]> | null = this.side.eventsAfter(this.checkpoint!.lastId, batchSize);
    try {
      while (pending) {
        const rows: Row[] = await pending;
        pending = null;
        if (rows.length === 0) {
          this.caughtUp();
          break;
        }
        const lastRow = rows[rows.length - 1];
        const lastId = BigInt(String(lastRow.id_evento));
        const more = rows.length >= batchSize && Date.now() < deadline && !this.puller.closed;
        if (more) {
          pending = this.side.eventsAfter(lastId, batchSize);
          pending.catch(() => {});
        }
        const selected =
          mode === 'only_validated' ? rows.filter((r) => Number(r.estado) === 1) : rows;
        const { events } = await this.commit(selected, { ...this.checkpoint!, lastId });
        copied += events.length;
        if (events.length > 0) {
          this.puller.emitSafe('batch', {
            instance: this.ref,
            kind: 'new',
            events,
          } satisfies EventBatch);
        }
        if (rows.length < batchSize) this.caughtUp();
        else this.lag = Math.max(0, Date.now() / 1000 - Number(lastRow.utimestamp ?? 0));
      }
    } finally {
      // A read started for a batch we will not write (error, close) must not go unhandled.
      pending?.catch(() => {});
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
    const opts = this.puller.opts;
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
    const copies = await this.onCc(this.puller.cc.copyStates(this.instance.id, [...ids]));
    const changed = new Set<bigint>();
    for (const [id, s] of candidates) {
      const copy = copies.get(id);
      const wanted = opts.mode === 'all' || s.estado === 1 || copy !== undefined;
      if (wanted && (!copy || !sameState(s, copy))) changed.add(id);
    }
    const commentCheck = commented.filter((id) => !changed.has(id) && copies.has(id));
    if (commentCheck.length > 0) {
      const now = await this.side.commentsOf(commentCheck);
      for (const id of commentCheck) {
        if ((now.get(String(id)) ?? '') !== copies.get(id)!.user_comment) changed.add(id);
      }
    }
    const next: Checkpoint = { ...cp, lastAck, lastCommentId };
    if (changed.size === 0) {
      if (lastAck !== cp.lastAck || lastCommentId !== cp.lastCommentId) await this.commit([], next);
      return 0;
    }
    let updated = 0;
    const parts = chunks(
      [...changed].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
      opts.batchSize,
    );
    for (let i = 0; i < parts.length; i++) {
      const rows = await this.side.eventsById(parts[i]);
      const last = i === parts.length - 1;
      const { events } = await this.commit(rows, last ? next : this.checkpoint!);
      updated += events.length;
      if (events.length > 0) {
        this.puller.emitSafe('batch', {
          instance: this.ref,
          kind: 'update',
          events,
        } satisfies EventBatch);
      }
    }
    return updated;
  }

  /** Sends validations made on the Command Center's copy back to the instance. */
  private async writeBack(): Promise<number> {
    const opts = this.puller.opts;
    const cp = this.checkpoint!;
    const copies = await this.onCc(
      this.puller.cc.copiesAckedSince(
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

/**
 * Copies every Instance event into the Command Center exactly once. Emits `batch` (EventBatch),
 * `problem` (PullProblem, once per outage), `recovered` ({key, instance}) and `status`.
 */
export class EventPuller extends EventEmitter {
  readonly opts: Required<Omit<EventPullOptions, 'cc' | 'instances' | 'hooks'>> & {
    hooks: CommitHooks;
  };
  readonly cc: CommandCenterSide;
  closed = false;
  private readonly registry: InstanceRegistry;
  private readonly workers = new Map<number, InstanceWorker>();
  private schemaReady: Promise<void> | null = null;
  private ccProblem: string | undefined;
  private readonly problemKeys = new Set<string>();
  private registryTimer: NodeJS.Timeout | null = null;
  private started = false;

  constructor(options: EventPullOptions) {
    super();
    this.opts = {
      intervalMs: options.intervalMs ?? DEFAULTS.intervalMs,
      batchSize: options.batchSize ?? DEFAULTS.batchSize,
      mode: options.mode ?? DEFAULTS.mode,
      writeBack: options.writeBack ?? DEFAULTS.writeBack,
      recheckWindow: options.recheckWindow ?? DEFAULTS.recheckWindow,
      ackOverlapSeconds: options.ackOverlapSeconds ?? DEFAULTS.ackOverlapSeconds,
      queryTimeoutMs: options.queryTimeoutMs ?? DEFAULTS.queryTimeoutMs,
      roundTimeoutMs: options.roundTimeoutMs ?? DEFAULTS.roundTimeoutMs,
      maxBackoffMs: options.maxBackoffMs ?? DEFAULTS.maxBackoffMs,
      maxDrainMs: options.maxDrainMs ?? DEFAULTS.maxDrainMs,
      hooks: options.hooks ?? {},
    };
    if (this.opts.mode !== 'all' && this.opts.mode !== 'only_validated') {
      throw new RangeError(`mode must be "all" or "only_validated", got ${String(this.opts.mode)}`);
    }
    if (!(this.opts.batchSize >= 1)) throw new RangeError('batchSize must be at least 1');
    this.cc = new CommandCenterSide(options.cc);
    this.registry = new InstanceRegistry(options.cc, { ids: options.instances ?? [] });
  }

  /** Emits without letting a listener's exception break a round. */
  emitSafe(event: string, ...args: unknown[]): void {
    if (this.closed) return;
    try {
      this.emit(event, ...args);
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
    this.emitSafe('problem', { key, instance, message, error: errorOf(err) } satisfies PullProblem);
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
      this.ccProblem = undefined;
      this.cleared('cc');
      const seen = new Set<number>();
      for (const inst of list) {
        seen.add(inst.id);
        const w = this.workers.get(inst.id);
        if (!w || w.instance.pool !== inst.pool) {
          w?.stop();
          const nw = new InstanceWorker(inst, this);
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

  /** One round now: registry re-read, then every instance at once, each bounded in time. */
  async round(): Promise<RoundResult> {
    const problems = await this.refresh();
    const workers = [...this.workers.values()];
    const instances = await Promise.all(
      workers.map(async (w) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<InstanceReport>((resolve) => {
          timer = setTimeout(
            () =>
              resolve({
                id: w.instance.id,
                name: w.instance.name,
                copied: 0,
                updated: 0,
                writtenBack: 0,
                lag: w.lag,
                pending: true,
              }),
            this.opts.roundTimeoutMs,
          );
        });
        try {
          return await Promise.race([w.trigger(), timeout]);
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

  /** Per-instance state for a status line. */
  status(): InstanceStatus[] {
    return [...this.workers.values()].map((w) => ({
      id: w.instance.id,
      name: w.instance.name,
      lag: w.lag,
      down: w.down,
      message: w.message,
    }));
  }

  statusText(): string {
    return statusText(this.status(), this.ccProblem);
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
