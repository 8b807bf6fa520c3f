/**
 * The Sync server: pulls agent files from remote Tentacle buffers (`sync_address`) into the
 * incoming directory, and pushes files to them. The centre starts every connection. Each round
 * works every buffer (buffer-pull.ts): for each file, store it durably here, then let it go from
 * the buffer.
 *
 * `safe` (default): RECV, store durably, then MV and compare the MV bytes. Works against the stock
 * tentacle_server, whose MV deletes the file as soon as the bytes are in the socket. Costs a second
 * transfer of every file. Without `safe`: MV only, the file is made durable while the MV bytes
 * arrive; a stock buffer loses the file if this process dies in that window, our buffer does not
 * (it unlinks only when the next command line arrives).
 *
 * The engine owns its timer (`start()`), its rounds never overlap (RoundScheduler), and it reports
 * only through the typed events of types.ts.
 */
import { EventEmitter } from 'node:events';
import { units } from '../cluster/gate';
import type { BufferEndpoint } from '../conf/pandora-conf';
import { BackoffMap } from '../util/backoff';
import { RoundScheduler } from '../util/round-scheduler';
import { resolveBufferAddresses } from './addresses';
import { pullBuffer, type BufferPullHost } from './buffer-pull';
import { Connections } from './connections';
import { Semaphore, runInSlots } from './slots';
import { SyncError } from './errors';
import { bufferFailureText } from './failure-text';
import { FirstDownload } from './first-download';
import { IncomingDir, type StoreResult } from './incoming';
import { DeliveryJournal, JOURNAL_MOST } from './journal';
import { resolveOptions, type ResolvedSyncOptions, type SyncPullerOptions } from './options';
import type { DrainContext } from './share-drain';
import type {
  BufferSummary,
  PulledFile,
  PushResult,
  RoundInfo,
  RoundReason,
  SyncPullerEvents,
} from './types';

// The engine's report and option types, importable from the engine as before.
export type {
  BufferSummary,
  OversizedFile,
  PulledFile,
  PushResult,
  RoundInfo,
  RoundReason,
  SyncPullerEvents,
} from './types';
export type { DeliverMode, SyncPullerOptions } from './options';

/** What a round was asked for: merged when several requests wait for the same round. */
interface RoundRequest {
  only: Set<string> | 'all';
  reason: RoundReason;
  origins: unknown[];
}

export interface RoundOptions {
  /** Only these buffers (addresses, or a host naming every buffer on it: see addresses.ts). */
  only?: string[];
  /** What asked (e.g. the input message): carried through to the round's reports. */
  origin?: unknown;
}

export class SyncPuller extends EventEmitter<SyncPullerEvents> {
  readonly opts: ResolvedSyncOptions;
  private readonly connections: Connections;
  /** Buffers drained at the same time, across rounds (`concurrency`). */
  private readonly drainSlots: Semaphore;
  private readonly backoff: BackoffMap<string>;
  private readonly rounds: RoundScheduler<RoundRequest, BufferSummary[]>;
  /** Safe mode: RECV or ZRECV first, per buffer. */
  private readonly firstDownload = new FirstDownload();
  /** `address \0 name` -> size of the oversized files already reported. */
  private readonly reportedOversized = new Map<string, number>();
  private journal: DeliveryJournal | null = null;
  private incoming: IncomingDir | null = null;
  private ready: Promise<IncomingDir> | null = null;
  private closedWith: SyncError | null = null;
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  /** Buffers being pulled, by address (a buffer is never pulled twice at once). */
  private readonly inFlight = new Map<string, Promise<BufferSummary>>();

  constructor(options: SyncPullerOptions) {
    super();
    this.opts = resolveOptions(options);
    this.connections = new Connections(this.opts);
    this.drainSlots = new Semaphore(this.opts.concurrency);
    this.backoff = new BackoffMap({
      baseMs: this.opts.baseBackoffMs,
      maxMs: this.opts.maxBackoffMs,
    });
    this.rounds = new RoundScheduler<RoundRequest, BufferSummary[]>({
      run: (r) => this.runRound(r),
      merge: (q, next) => ({
        only: q.only === 'all' || next.only === 'all' ? 'all' : new Set([...q.only, ...next.only]),
        reason: q.reason === 'timer' ? next.reason : q.reason,
        origins: [...q.origins, ...next.origins],
      }),
    });
  }

  get buffers(): BufferEndpoint[] {
    return this.opts.buffers;
  }

  /** Starts the timer: a round every `intervalMs` after the last one ended (none with 0). */
  start(): void {
    this.assertOpen();
    if (this.started) return;
    this.started = true;
    this.schedule();
  }

  /**
   * Asks for a round: runs now, or, when one is running, queues one more (rounds never overlap;
   * requests made during a round are merged into the single queued one). Resolves with every
   * worked buffer's summary; never rejects for a buffer's failure (it is in the summary).
   */
  requestRound(
    reason: RoundReason = 'request',
    options: RoundOptions = {},
  ): Promise<BufferSummary[]> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const only = options.only?.length ? new Set(options.only) : 'all';
    const origins = options.origin === undefined ? [] : [options.origin];
    return this.rounds.request({ only, reason, origins }) as Promise<BufferSummary[]>;
  }

  /**
   * The addresses of the buffers `text` names (`host:port`, or a host naming every buffer on
   * it); throws ERR_SYNC_ADDRESS when it names none. Empty text: undefined (every buffer).
   */
  addresses(text: string): string[] | undefined {
    this.assertOpen();
    return resolveBufferAddresses(text, this.opts.buffers);
  }

  /**
   * Pushes one file (SEND) to the buffers, e.g. a remote `.conf`/`.md5` or collection for agents
   * of the isolated network. The buffer's filters decide its directory.
   */
  async push(filename: string, payload: Buffer, only?: string[]): Promise<PushResult[]> {
    this.assertOpen();
    const targets = this.opts.buffers.filter((b) => !only?.length || only.includes(b.address));
    const out: PushResult[] = [];
    const run = runInSlots(targets, this.opts.concurrency, async (b) => {
      const r: PushResult = {
        address: b.address,
        filename,
        size: payload.length,
        ok: false,
        error: null,
      };
      let c = null;
      try {
        c = await this.connections.open(b);
        await c.send(filename, payload, payload.length);
        r.ok = true;
        await this.connections.release(c, true);
      } catch (err) {
        r.error = bufferFailureText(b.address, err, this.opts.tls);
        await this.connections.release(c, false);
      }
      out.push(r);
    });
    await run.all;
    return out;
  }

  /**
   * Stops the timer, drops open connections (files not yet removed from a buffer stay there),
   * waits for the round in progress to end and closes the journal. Every later call fails with
   * ERR_SYNC_CLOSED carrying `reason`.
   */
  async close(reason = 'closed'): Promise<void> {
    if (this.closedWith) return;
    this.closedWith = new SyncError('ERR_SYNC_CLOSED', { reason });
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.connections.closeAll(this.closedWith);
    await this.rounds.idle();
    await Promise.all(this.inFlight.values());
    await this.ready?.catch(() => undefined);
    await this.journal?.close();
  }

  private assertOpen(): void {
    if (this.closedWith) throw this.closedWith;
  }

  private schedule(): void {
    if (this.closedWith || this.opts.intervalMs <= 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.requestRound('timer')
        .catch(() => undefined)
        .finally(() => this.schedule());
    }, this.opts.intervalMs);
  }

  /** Opens the journal and prepares the incoming directory (once; again after a failure). */
  private prepare(): Promise<IncomingDir> {
    this.ready ??= (async () => {
      const journal = await DeliveryJournal.open(this.opts.journalPath, {
        limit: this.opts.journalLimit,
      });
      const incoming = new IncomingDir({
        dir: this.opts.incomingDir,
        journal,
        write: this.opts.deliver !== 'msg',
        keep: this.opts.deliver !== 'dir',
        shared: this.opts.gate ? this.opts.shared : undefined,
      });
      try {
        await incoming.prepare();
      } catch (err) {
        await journal.close();
        throw err;
      }
      this.journal = journal;
      this.incoming = incoming;
      return incoming;
    })();
    // A failed preparation (directory not creatable) is retried by the next round.
    this.ready.catch(() => {
      this.ready = null;
    });
    return this.ready;
  }

  /** What a share of a round needs; its files carry the round's info. */
  private drainContext(incoming: IncomingDir, round: RoundInfo): DrainContext {
    return {
      connections: this.connections,
      incoming,
      firstDownload: this.firstDownload,
      safe: this.opts.safe,
      delivered: (b, name, r) => this.delivered(b, name, r, round),
      oversized: (b, name, size) => this.noteOversized(b, name, size),
      zrecv: (address) => this.emitSafe('zrecv', address),
    };
  }

  /** One pull round over the buffers. Never rejects: failures are in the summaries. */
  private async runRound({ only, reason, origins }: RoundRequest): Promise<BufferSummary[]> {
    const info: RoundInfo = { reason, origins };
    const { gate, shared } = this.opts;
    gate?.offer(this.opts.buffers.map((b) => units.pull(b.address)));
    let settled = true;
    if (gate && shared) {
      // Cluster: the temp files an earlier run of this member left (and any of this run the
      // database did not confirm) are settled from its records before anything is pulled.
      // Until that has been done once, this member pulls nothing.
      settled = await this.prepare()
        .then(() => (this.incoming as IncomingDir).settle())
        .then(
          () => true,
          () => this.incoming?.ready ?? false,
        );
    }
    const targets = this.opts.buffers.filter(
      (b) =>
        settled &&
        (reason !== 'timer' || !this.inFlight.has(b.address)) &&
        (only === 'all' || only.has(b.address)) &&
        (!gate || gate.holds(units.pull(b.address))),
    );
    const host: BufferPullHost = {
      prepare: async () => this.drainContext(await this.prepare(), info),
      backoff: this.backoff,
      pattern: this.opts.pattern,
      connections: this.opts.connections,
      drainSlots: this.drainSlots,
      tls: this.opts.tls,
      shared: gate ? shared : undefined,
    };
    const out: BufferSummary[] = [];
    const manual = reason !== 'timer';
    /** This round's buffers that were not listed in time: the timer's round does not wait. */
    const late = new Set<string>();
    const ended = new Map<string, Promise<void>>();
    const run = runInSlots(targets, this.opts.listConcurrency, (b, leave) => {
      const job = (async () => {
        // A message's round takes a buffer still worked by an earlier round once that ends.
        const earlier = this.inFlight.get(b.address);
        if (earlier) {
          leave();
          await earlier;
        }
        // Listed (its drain waits for a drain slot instead), or not listed in time
        // (unreachable, blackholed): either way its listing slot goes to the next buffer.
        const slow = setTimeout(() => {
          late.add(b.address);
          leave();
        }, this.opts.listWaitMs);
        const pull = pullBuffer(host, b, manual, () => {
          clearTimeout(slow);
          leave();
        });
        this.inFlight.set(b.address, pull);
        const s = await pull;
        clearTimeout(slow);
        if (this.inFlight.get(b.address) === pull) this.inFlight.delete(b.address);
        out.push(s);
        if (!this.closedWith) this.emitSafe('summary', s, info);
      })();
      ended.set(b.address, job);
      return job;
    });
    await run.slotted;
    // Every buffer has started by now. A message's round waits for all of them; the timer's
    // round for those that were listed in time: the others' summaries come when they end, and
    // the next timer round leaves them out until then.
    if (manual) await run.all;
    else {
      await Promise.all([...ended].filter(([address]) => !late.has(address)).map(([, j]) => j));
    }
    const summaries = [...out];
    // The journal remembers two rounds of deliveries at least (bounded: see journal.ts).
    const files = summaries.reduce((n, x) => n + x.files, 0);
    this.journal?.reserve(Math.min(2 * files, JOURNAL_MOST));
    if (!this.closedWith) this.emitSafe('round', summaries, info);
    return summaries;
  }

  private noteOversized(b: BufferEndpoint, filename: string, size: number): void {
    const key = `${b.address}\0${filename}`;
    if (this.reportedOversized.get(key) === size) return;
    this.reportedOversized.set(key, size);
    this.emitSafe('oversized', { address: b.address, filename, size, maxSize: this.opts.maxSize });
  }

  private delivered(b: BufferEndpoint, name: string, r: StoreResult, round: RoundInfo): PulledFile {
    const f: PulledFile = { address: b.address, filename: name, size: r.size, sha1: r.sha1 };
    if (r.path) f.path = r.path;
    if (r.payload) f.payload = r.payload;
    this.emitSafe('file', f, round);
    return f;
  }

  /**
   * A listener's exception must not break a round. Files are reported even during close(): with
   * deliver `msg` the event is their only delivery.
   */
  private emitSafe<K extends keyof SyncPullerEvents>(event: K, ...args: SyncPullerEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: SyncPullerEvents[K]) => boolean)(event, ...args);
    } catch {
      // The listener's business.
    }
  }
}
