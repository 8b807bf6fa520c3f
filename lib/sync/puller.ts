/**
 * The Sync server: pulls agent files from remote Tentacle buffers (`sync_address`) into the
 * incoming directory. The centre starts every connection. Per round and per buffer: connect,
 * `LS <>` once, split the takeable names among parallel connections (disjoint shares), and for
 * each file: store it durably here, then let it go from the buffer.
 *
 * `safe` (default): RECV, store durably, then MV and compare the MV bytes. Works against the stock
 * tentacle_server, whose MV deletes the file as soon as the bytes are in the socket. Costs a second
 * transfer of every file. Without `safe`: MV only, the file is made durable while the MV bytes
 * arrive; a stock buffer loses the file if this process dies in that window, our buffer does not
 * (it unlinks only when the next command line arrives).
 */
import { EventEmitter } from 'node:events';
import { LeaseLost, units, type SharedDeliveries, type UnitGate } from '../cluster/gate';
import { TentacleClient, TentacleError, type TentacleClientOptions } from '../tentacle/client';
import type { BufferEndpoint } from '../conf/pandora-conf';
import type { TlsMaterial } from '../tls/material';
import { BackoffMap } from '../util/backoff';
import { RoundScheduler } from '../util/round-scheduler';
import { FirstDownload, timedChunks, type PayloadTiming } from './first-download';
import { IncomingDir, LocalStoreError, type Received, type StoreResult } from './incoming';
import { DeliveryJournal } from './journal';
import { pausePoint } from './pause-point';
import { splitShares, takeableNames } from './names';

export type DeliverMode = 'dir' | 'msg' | 'both';

export interface SyncPullerOptions {
  buffers: BufferEndpoint[];
  incomingDir: string;
  deliver?: DeliverMode;
  pattern: RegExp;
  /** Buffers pulled at the same time. */
  concurrency?: number;
  /** Connections to one buffer at the same time. */
  connections?: number;
  safe?: boolean;
  tls?: TlsMaterial;
  /** The buffers' Tentacle password (`-x`). */
  password?: string;
  /** `sync_timeout` seconds per socket wait and `sync_retries` misses. */
  timeout?: number;
  retries?: number;
  /** Milliseconds to wait for a TCP/TLS connection (and TLS/PASS); defaults to `timeout`. */
  connectTimeoutMs?: number;
  /** Delivery journal path; default `DeliveryJournal.pathFor(incomingDir)`. */
  journalPath?: string;
  journalLimit?: number;
  /** Longest wait before a failed buffer is tried again, ms. */
  maxBackoffMs?: number;
  /** First wait after a failure, ms (doubles per failure). */
  baseBackoffMs?: number;
  /**
   * Bytes: a file a buffer offers larger than this is declined and left there, reported once
   * (`oversized`). Also bounds what a buffer can make this side write for one file.
   */
  maxSize?: number;
  /** Several Node-RED hosts (pandora-config `cluster`): only the buffers whose lease is held here. */
  gate?: UnitGate;
  /** With `gate`: the stored-not-yet-removed files, shared by the members. */
  shared?: SharedDeliveries;
}

/** A file left on its buffer because it is larger than `maxSize`. */
export interface OversizedFile {
  address: string;
  filename: string;
  size: number;
  maxSize: number;
}

/** One delivered file. */
export interface PulledFile {
  address: string;
  filename: string;
  size: number;
  sha1: string;
  /** Where it was written (deliver `dir`/`both`). */
  path?: string;
  /** The content (deliver `msg`/`both`). */
  payload?: Buffer;
}

/** What one round did with one buffer. */
export interface BufferSummary {
  address: string;
  files: number;
  bytes: number;
  ms: number;
  error: string | null;
  /** Names listed and taken by the pattern. */
  listed?: number;
  /** Files left on the buffer because of a local or connection problem. */
  left?: number;
  /** Files left on the buffer because they are larger than `maxSize`. */
  oversized?: number;
  /** Not tried this round: still waiting out the backoff after a failure. */
  skipped?: boolean;
  /** When the next automatic attempt may be made after a failure. */
  retryAt?: number;
}

export interface PushResult {
  address: string;
  filename: string;
  size: number;
  ok: boolean;
  error: string | null;
}

/** What a round was asked for: merged when several requests wait for the same round. */
interface RoundRequest {
  only: Set<string> | 'all';
  manual: boolean;
  causes: unknown[];
}

/** Runs async jobs with at most `limit` at a time; never rejects (jobs catch their own). */
async function pool<T>(items: T[], limit: number, job: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await job(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

function localCause(err: unknown): LocalStoreError | null {
  for (let e = err, depth = 0; e && depth < 5; depth++) {
    if (e instanceof LocalStoreError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

function leaseCause(err: unknown): LeaseLost | null {
  for (let e = err, depth = 0; e && depth < 5; depth++) {
    if (e instanceof LeaseLost) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

/** Files per connection between their first download and their MV (safe mode). */
const SAFE_WINDOW = 8;

/** A file of safe mode's window: downloaded, durable or on its way, not yet removed. */
interface InFlight {
  /** Its place in the share. */
  index: number;
  name: string;
  got: Received;
  /** `got.durable` has settled (either way). */
  settled: boolean;
  announced: boolean;
}

/** What one connection's share met that calls for another command or another connection. */
interface ShareQuirks {
  /** RECV'd with 0 bytes: the stock server closes after those; taken with MV. */
  emptyRecv: Set<string>;
  /** Their ZRECV inflated past maxSize: asked again with RECV, which declines them with the size. */
  plainRecv: Set<string>;
  /** The buffer failed a ZRECV: one more reconnection is allowed. */
  zipRefused: boolean;
}

const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * What asked for the round a file or summary belongs to: the `cause` of every request merged into
 * it (empty for rounds asked without one), so a caller can carry its message through.
 */
export type RoundCauses = readonly unknown[];

export interface SyncPullerEvents {
  file: [PulledFile, RoundCauses];
  summary: [BufferSummary, RoundCauses];
  /** Once per file and size, not every round. */
  oversized: [OversizedFile];
  /** The buffer pauses like the stock tentacle_server: its first downloads are now ZRECV. */
  zrecv: [address: string];
}

export class SyncPuller extends EventEmitter<SyncPullerEvents> {
  private readonly opts: Required<
    Omit<
      SyncPullerOptions,
      'tls' | 'password' | 'journalPath' | 'connectTimeoutMs' | 'gate' | 'shared'
    >
  > &
    Pick<SyncPullerOptions, 'tls' | 'password' | 'connectTimeoutMs' | 'gate' | 'shared'>;
  private readonly journalPath: string;
  private journal: DeliveryJournal | null = null;
  private incoming: IncomingDir | null = null;
  private ready: Promise<void> | null = null;
  private readonly backoff: BackoffMap<string>;
  private readonly live = new Set<TentacleClient>();
  private closed = false;
  /** `address \0 name` -> size of the oversized files already reported. */
  private readonly reportedOversized = new Map<string, number>();
  private readonly rounds: RoundScheduler<RoundRequest, BufferSummary[]>;
  /** Safe mode: RECV or ZRECV first, per buffer. */
  private readonly firstDownload = new FirstDownload();
  /** The causes of the running round (rounds never overlap). */
  private causes: RoundCauses = [];

  constructor(options: SyncPullerOptions) {
    super();
    // Field by field: an explicit `undefined` must not replace a default.
    this.opts = {
      buffers: options.buffers,
      incomingDir: options.incomingDir,
      pattern: options.pattern,
      tls: options.tls,
      password: options.password,
      connectTimeoutMs: options.connectTimeoutMs,
      gate: options.gate,
      shared: options.shared,
      deliver: options.deliver ?? 'dir',
      concurrency: options.concurrency ?? 4,
      connections: options.connections ?? 8,
      safe: options.safe ?? true,
      timeout: options.timeout ?? 10,
      retries: options.retries ?? 3,
      journalLimit: options.journalLimit ?? 10_000,
      maxBackoffMs: options.maxBackoffMs ?? 300_000,
      baseBackoffMs: options.baseBackoffMs ?? 5_000,
      maxSize: options.maxSize ?? 2_000_000,
    };
    this.journalPath = options.journalPath ?? DeliveryJournal.pathFor(options.incomingDir);
    this.backoff = new BackoffMap({
      baseMs: this.opts.baseBackoffMs,
      maxMs: this.opts.maxBackoffMs,
    });
    this.rounds = new RoundScheduler<RoundRequest, BufferSummary[]>({
      run: (r) => this.round(r),
      merge: (q, next) => ({
        only: q.only === 'all' || next.only === 'all' ? 'all' : new Set([...q.only, ...next.only]),
        manual: q.manual || next.manual,
        causes: [...q.causes, ...next.causes],
      }),
    });
  }

  get buffers(): BufferEndpoint[] {
    return this.opts.buffers;
  }

  /** Opens the journal and prepares the incoming directory (once). */
  private prepare(): Promise<void> {
    this.ready ??= (async () => {
      const journal = await DeliveryJournal.open(this.journalPath, {
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
    })();
    // A failed preparation (directory not creatable) is retried by the next round.
    this.ready.catch(() => {
      this.ready = null;
    });
    return this.ready;
  }

  private clientOptions(b: BufferEndpoint): TentacleClientOptions {
    const { tls, password, timeout, retries, connectTimeoutMs, maxSize } = this.opts;
    const o: TentacleClientOptions = {
      host: b.host,
      port: b.port,
      timeout,
      retries,
      maxSize,
      connectTimeout: (connectTimeoutMs ?? timeout * 1000) / 1000,
    };
    if (tls && (tls.cert || tls.ca)) {
      o.tls = {};
      if (tls.cert) o.tls.cert = tls.cert;
      if (tls.key) o.tls.key = tls.key;
      if (tls.ca) o.tls.ca = tls.ca;
    }
    if (password) o.password = password;
    return o;
  }

  private async connect(b: BufferEndpoint): Promise<TentacleClient> {
    if (this.closed) throw new Error('the puller is closed');
    let c: TentacleClient;
    try {
      c = await TentacleClient.connect(this.clientOptions(b));
    } catch (err) {
      // Name the settings to check: the client's reason speaks of the protocol, not the node.
      if (err instanceof TentacleError && err.code === 'ERR_AUTH') {
        const check = this.opts.tls?.cert ? 'syncPassword, and syncCert/syncKey' : 'syncPassword';
        throw new TentacleError('ERR_AUTH', { ...err.facts, check }, { cause: err });
      }
      if (err instanceof TentacleError && err.serverCertificate && !this.opts.tls?.ca) {
        const hint =
          "set sync_ca (syncCa) to the CA or self-signed certificate that signed the buffer's certificate";
        throw new TentacleError('ERR_TLS', { ...err.facts, hint }, { cause: err });
      }
      throw err;
    }
    if (this.closed) {
      c.destroy();
      throw new Error('the puller is closed');
    }
    this.live.add(c);
    return c;
  }

  private async release(c: TentacleClient | null, polite: boolean): Promise<void> {
    if (!c) return;
    this.live.delete(c);
    if (polite) {
      try {
        await c.quit();
        return;
      } catch {
        // fall through: make sure the socket is gone
      }
    }
    c.destroy();
  }

  /**
   * Asks for a round: runs now, or, when one is running, queues one more (rounds never overlap;
   * requests made during a round are merged into the single queued one). `only` limits it to
   * addresses; `manual` rounds ignore the backoff of failed buffers.
   */
  requestRound(only?: string[], manual = true, cause?: unknown): Promise<BufferSummary[]> {
    const want: Set<string> | 'all' = only && only.length ? new Set(only) : 'all';
    const causes = cause === undefined ? [] : [cause];
    return this.rounds.request({ only: want, manual, causes }) as Promise<BufferSummary[]>;
  }

  /** Whether a round is running now. */
  get busy(): boolean {
    return this.rounds.busy;
  }

  /** One pull round over the buffers. Never rejects: failures are in the summaries. */
  private async round({ only, manual, causes }: RoundRequest): Promise<BufferSummary[]> {
    this.causes = causes;
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
          () => (this.incoming as IncomingDir | null)?.ready ?? false,
        );
    }
    const targets = this.opts.buffers.filter(
      (b) =>
        settled &&
        (only === 'all' || only.has(b.address)) &&
        (!gate || gate.holds(units.pull(b.address))),
    );
    const out: BufferSummary[] = [];
    await pool(targets, this.opts.concurrency, async (b) => {
      const s = await this.pullBuffer(b, manual);
      out.push(s);
      if (!this.closed) this.emit('summary', s, this.causes);
    });
    return out;
  }

  private noteResult(b: BufferEndpoint, summary: BufferSummary): void {
    const st = this.backoff.of(b.address);
    if (summary.error && summary.files === 0) {
      st.fail(summary.error);
      summary.retryAt = st.retryAt;
    } else {
      st.succeed();
    }
  }

  /** Pulls one buffer; the summary carries any error. */
  async pullBuffer(b: BufferEndpoint, manual = true): Promise<BufferSummary> {
    const t0 = Date.now();
    const summary: BufferSummary = { address: b.address, files: 0, bytes: 0, ms: 0, error: null };
    const st = this.backoff.peek(b.address);
    if (!manual && st?.waiting) {
      summary.skipped = true;
      summary.retryAt = st.retryAt;
      summary.error = `waiting until ${new Date(st.retryAt).toISOString()} after: ${st.lastError}`;
      return summary;
    }
    const errors: string[] = [];
    let first: TentacleClient | null = null;
    try {
      await this.prepare();
      first = await this.connect(b);
      const names = takeableNames(await first.ls(''), this.opts.pattern);
      summary.listed = names.length;
      // Cluster: records of files no longer listed have done their work. Not earlier (after
      // the MV): our buffer removes a moved file only when the puller's next line arrives.
      if (this.opts.gate && this.opts.shared) await this.opts.shared.prune(b.address, names);
      const shares = splitShares(names, this.opts.connections);
      let left = 0;
      let oversized = 0;
      const firstConn = first;
      first = null;
      await Promise.all(
        shares.map(async (share, i) => {
          const r = await this.drainShare(b, share, i === 0 ? firstConn : null);
          summary.files += r.files;
          summary.bytes += r.bytes;
          left += r.left;
          oversized += r.oversized;
          if (r.error) errors.push(r.error);
        }),
      );
      if (shares.length === 0) await this.release(firstConn, true);
      summary.left = left;
      if (oversized) summary.oversized = oversized;
    } catch (err) {
      errors.push(this.explain(b, err));
      await this.release(first, false);
    }
    summary.ms = Date.now() - t0;
    summary.error = errors.length ? [...new Set(errors)].join('; ') : null;
    this.noteResult(b, summary);
    return summary;
  }

  private explain(b: BufferEndpoint, err: unknown): string {
    const local = localCause(err);
    if (local) return `${local.message} (files stay on ${b.address})`;
    const text = describe(err);
    return text.startsWith(b.address) ? text : `${b.address}: ${text}`;
  }

  /**
   * Takes one share of the listed names over one connection (reconnecting if the connection
   * drops). A local write failure stops the share: the rest stays on the buffer.
   *
   * Safe mode is pipelined: the next files are downloaded while earlier ones commit, and each is
   * removed (MV) once it is durable here, in listing order. Up to `SAFE_WINDOW` files per
   * connection are between their first download and their MV, so a commit pass holds many files
   * and no connection waits for an fsync while there is something else to download.
   */
  private async drainShare(
    b: BufferEndpoint,
    names: string[],
    given: TentacleClient | null,
  ): Promise<{
    files: number;
    bytes: number;
    left: number;
    oversized: number;
    error: string | null;
  }> {
    let client = given;
    let files = 0;
    let oversized = 0;
    let bytes = 0;
    let reconnects = 0;
    /** Next name to download. */
    let i = 0;
    /** Names finished one way or another (taken, gone, declined). */
    let finished = 0;
    const quirks: ShareQuirks = { emptyRecv: new Set(), plainRecv: new Set(), zipRefused: false };
    const window: InFlight[] = [];
    /** Whether the running step is the MV of the window's oldest file. */
    let removing = false;
    const count = (delivered: PulledFile[]): void => {
      for (const f of delivered) {
        files++;
        bytes += f.size;
      }
    };
    /** Waits for every file in the window to be durable (or not) and announces those that are. */
    const settleWindow = async (): Promise<void> => {
      for (const w of window) {
        const kept = await w.got.durable.catch(() => null);
        if (kept) count(this.announceOnce(b, w, kept));
      }
    };
    try {
      while (i < names.length || window.length > 0) {
        if (this.closed) break;
        try {
          removing = false;
          client ??= await this.connect(b);
          const head = window[0];
          if (head && (i >= names.length || window.length >= SAFE_WINDOW || head.settled)) {
            removing = true;
            // The oldest file in flight: once durable, announce it and let it leave the buffer.
            const kept = await head.got.durable;
            count(this.announceOnce(b, head, kept));
            await pausePoint('remove', head.name);
            count(await this.removeTaken(b, client, head.name, kept));
            window.shift();
            finished++;
            continue;
          }
          const name = names[i];
          if (!this.opts.safe || quirks.emptyRecv.has(name)) {
            count(await this.takeWithMv(b, client, name));
            i++;
            finished++;
            continue;
          }
          const got = await this.takeFirst(b, client, name, quirks);
          i++;
          const w: InFlight = { index: i - 1, name, got, settled: false, announced: false };
          const mark = (): void => {
            w.settled = true;
          };
          got.durable.then(mark, mark);
          window.push(w);
        } catch (err) {
          // The engine reports a consumer's failure as the connection's end, the cause inside.
          const local = localCause(err);
          if (local) throw local;
          // Cluster: the buffer is another member's now; what is left stays for it.
          const lost = leaseCause(err);
          if (lost) throw lost;
          const declined =
            err instanceof TentacleError && err.code === 'ERR_TOO_BIG' && client?.connected;
          const gone = err instanceof TentacleError && err.code === 'ERR_REPLY';
          if (declined || gone) {
            // Declined: the buffer keeps it (an MV declined: a new, larger version came after
            // the stored one), the connection goes on. ERR: the file is gone (another puller,
            // or not a regular file).
            const name = removing ? window[0].name : names[i];
            if (declined) {
              this.noteOversized(b, name, (err as TentacleError).size ?? 0);
              oversized++;
            }
            if (removing) window.shift();
            else i++;
            finished++;
            continue;
          }
          await this.release(client, false);
          client = null;
          // Files already downloaded are durable (or not) before any is asked for again: asked
          // again, a durable one is a duplicate that only needs its MV.
          await settleWindow();
          if (window.length > 0) i = window[0].index;
          window.length = 0;
          // The stock server closes after a RECV of a 0-byte file: take that one with MV. A
          // ZRECV that inflated too far, or that the buffer closed on, is asked again with RECV.
          const excused =
            quirks.emptyRecv.size + quirks.plainRecv.size + (quirks.zipRefused ? 1 : 0);
          if (reconnects++ < 1 + excused) continue;
          throw err;
        }
      }
      await this.release(client, true);
      return { files, bytes, left: names.length - finished + oversized, oversized, error: null };
    } catch (err) {
      await this.release(client, false);
      await settleWindow();
      return {
        files,
        bytes,
        left: names.length - finished + oversized,
        oversized,
        error: this.explain(b, err),
      };
    }
  }

  private noteOversized(b: BufferEndpoint, filename: string, size: number): void {
    const key = `${b.address}\0${filename}`;
    if (this.reportedOversized.get(key) === size) return;
    this.reportedOversized.set(key, size);
    this.emit('oversized', { address: b.address, filename, size, maxSize: this.opts.maxSize });
  }

  private delivery(b: BufferEndpoint, name: string, r: StoreResult): PulledFile {
    const f: PulledFile = { address: b.address, filename: name, size: r.size, sha1: r.sha1 };
    if (r.path) f.path = r.path;
    if (r.payload) f.payload = r.payload;
    this.emit('file', f, this.causes);
    return f;
  }

  /** Announces a file of the window once it is durable (never twice). */
  private announceOnce(b: BufferEndpoint, w: InFlight, kept: StoreResult): PulledFile[] {
    if (w.announced || kept.duplicate) return [];
    w.announced = true;
    return [this.delivery(b, w.name, kept)];
  }

  /** MV only: the file is made durable while its bytes arrive, then removed by the next line. */
  private async takeWithMv(
    b: BufferEndpoint,
    client: TentacleClient,
    name: string,
  ): Promise<PulledFile[]> {
    const delivered: PulledFile[] = [];
    await client.mv(name, async (data, size) => {
      const r = await (this.incoming as IncomingDir).store(b.address, name, data, size);
      if (!r.duplicate) delivered.push(this.delivery(b, name, r));
    });
    return delivered;
  }

  /**
   * Safe mode's first download (RECV, or ZRECV for a buffer that stalls): read and queued for
   * its commit; durable later.
   */
  private async takeFirst(
    b: BufferEndpoint,
    client: TentacleClient,
    name: string,
    quirks: ShareQuirks,
  ): Promise<Received> {
    const incoming = this.incoming as IncomingDir;
    let got: Received | null = null;
    if (this.firstDownload.command(b.address) === 'ZRECV' && !quirks.plainRecv.has(name)) {
      try {
        // The archive's own size and CRC are checked as it inflates; its size is not the file's.
        await client.zrecv(name, async (data) => {
          got = await incoming.receive(b.address, name, data, null);
        });
      } catch (err) {
        if (localCause(err) || leaseCause(err)) throw err;
        if (err instanceof TentacleError && err.code === 'ERR_REPLY') throw err;
        // Inflating past maxSize: a RECV declines it cleanly with its real size. Anything else
        // (the connection closed on the command) means this buffer is not one for ZRECV.
        if (err instanceof TentacleError && err.code === 'ERR_TOO_BIG') {
          quirks.plainRecv.add(name);
          if (client.connected) return this.takeFirst(b, client, name, quirks);
          throw new TentacleError('ERR_CLOSED', err.facts, { cause: err });
        }
        this.firstDownload.refuseZip(b.address);
        quirks.zipRefused = true;
        throw err;
      }
    } else {
      const timing: PayloadTiming = { first: 0, last: 0 };
      let announced = 0;
      await client.recv(name, async (data, size) => {
        announced = size;
        if (size === 0) quirks.emptyRecv.add(name);
        got = await incoming.receive(b.address, name, timedChunks(data, timing), size);
      });
      if (this.firstDownload.observe(b.address, announced, timing.first ? timing : null)) {
        this.emit('zrecv', b.address);
      }
    }
    if (!got) throw new Error(`${name}: the download ended without its bytes`);
    return got;
  }

  /**
   * Safe mode's MV of a file already durable here: the buffer removes it. Its bytes are
   * compared with the stored copy; a different version (the buffer took a new one with `-o` in
   * between) is a delivery of its own.
   */
  private async removeTaken(
    b: BufferEndpoint,
    client: TentacleClient,
    name: string,
    kept: StoreResult,
  ): Promise<PulledFile[]> {
    const delivered: PulledFile[] = [];
    await client.mv(name, async (data, size) => {
      const r = await (this.incoming as IncomingDir).store(b.address, name, data, size, kept);
      if (!r.duplicate) delivered.push(this.delivery(b, name, r));
    });
    return delivered;
  }

  /**
   * Pushes one file (SEND) to the buffers, e.g. a remote `.conf`/`.md5` or collection for agents
   * of the isolated network. The buffer's filters decide its directory.
   */
  async push(filename: string, payload: Buffer, only?: string[]): Promise<PushResult[]> {
    const targets = this.opts.buffers.filter((b) => !only?.length || only.includes(b.address));
    const out: PushResult[] = [];
    await pool(targets, this.opts.concurrency, async (b) => {
      const r: PushResult = {
        address: b.address,
        filename,
        size: payload.length,
        ok: false,
        error: null,
      };
      let c: TentacleClient | null = null;
      try {
        c = await this.connect(b);
        await c.send(filename, payload, payload.length);
        r.ok = true;
        await this.release(c, true);
      } catch (err) {
        r.error = this.explain(b, err);
        await this.release(c, false);
      }
      out.push(r);
    });
    return out;
  }

  /** Stops: open connections are dropped (files not yet removed from a buffer stay there). */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.live) c.destroy();
    this.live.clear();
    await this.rounds.idle();
    await this.journal?.close();
  }
}
