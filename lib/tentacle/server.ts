/**
 * A Tentacle server wire-compatible with Pandora FMS's tentacle_server: the same replies and
 * the same close behaviour, with improvements that do not change the wire (see ./session for
 * the commands and ./store for what is held and how uploads are made durable).
 *
 * This file is the listener: TCP or TLS, the connection limit and the events. Connections beyond
 * `maxConnections` wait in a queue (paused, unread) until a slot frees, as the reference's
 * blocking accept makes them wait in the kernel backlog.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { reasonOf } from '../util/errors';
import { RoundScheduler } from '../util/round-scheduler';
import { TentacleError } from './errors';
import {
  resolveServerOptions,
  type ResolvedServerOptions,
  type TentacleServerOptions,
} from './options';
import { describeClient, Pullers } from './pullers';
import { passwordDigest } from './protocol';
import { TentacleSession } from './session';
import { Refusal, TentacleStore, type TentacleEvent, type TentacleStats } from './store';

export type { TentacleEvent, TentacleStats } from './store';
export type { TentacleServerOptions } from './options';

export interface TentacleServerEvents {
  /** A file stored (SEND, ZSEND or `put`). */
  received: [TentacleEvent];
  /** A file taken by an MV and confirmed. */
  pulled: [TentacleEvent];
  /** An upload refused or failed. */
  rejected: [TentacleEvent];
  /** What the storage holds changed. */
  stats: [TentacleStats];
  connection: [{ peer: string }];
  /** A client not in `pullers` asked to take files and was hung up on. */
  refused: [{ peer: string; command: string; client: string }];
  /** The listening socket failed (ERR_LISTEN), or a listener of another event threw. */
  error: [Error];
}

/** How long start() waits for the count of what is held before it resolves anyway. */
const START_COUNT_WAIT_MS = 2000;

export class TentacleServer extends EventEmitter<TentacleServerEvents> {
  readonly opts: ResolvedServerOptions;
  private readonly digest: string | null;
  private readonly pullers: Pullers | null;
  private readonly store: TentacleStore;
  /** Recounts of the storage; one at a time, a request during one is answered by it. */
  private readonly rescans: RoundScheduler<void, TentacleStats>;
  private server: net.Server | null = null;
  private readonly sessions = new Map<TentacleSession, Promise<void>>();
  private readonly sockets = new Set<net.Socket>();
  private readonly queue: net.Socket[] = [];
  private active = 0;
  private closedWith: TentacleError | null = null;
  private rescanTimer: NodeJS.Timeout | null = null;

  /** Checks and resolves the options (TentacleError ERR_OPTION and kin); nothing is opened yet. */
  constructor(options: TentacleServerOptions) {
    super();
    this.opts = resolveServerOptions(options);
    const o = this.opts;
    this.digest = o.password ? passwordDigest(o.password) : null;
    this.pullers = o.pullers.length ? new Pullers(o.pullers) : null;
    this.store = new TentacleStore(
      {
        storage: o.storage,
        filters: o.filters,
        overwrite: o.overwrite,
        maxSize: o.maxSize,
        quotaBytes: o.quotaBytes,
        quotaFiles: o.quotaFiles,
      },
      {
        received: (ev) => this.safeEmit('received', ev),
        pulled: (ev) => this.safeEmit('pulled', ev),
        rejected: (ev) => this.safeEmit('rejected', ev),
        stats: (st) => this.safeEmit('stats', st),
      },
    );
    // The first round is the count at start (temp files of an earlier run removed).
    let first = true;
    this.rescans = new RoundScheduler({
      run: async () => {
        if (first) {
          first = false;
          await this.store.firstCount(Date.now());
        } else await this.store.rescan();
        return this.store.stats();
      },
      whenBusy: 'skip',
    });
  }

  /**
   * Creates the storage, starts listening and counts what the storage holds; resolves with the
   * address and port listened on once the count is done or START_COUNT_WAIT_MS passed (agents
   * may send while a week's backlog is being counted; a `stats` event follows the count). Fails
   * with ERR_STORAGE, ERR_PORT_IN_USE or ERR_LISTEN.
   */
  async start(): Promise<{ address: string; port: number }> {
    this.assertOpen();
    if (this.server) return this.listening(this.server);
    const o = this.opts;
    const startedAt = Date.now();
    try {
      await this.store.prepare();
    } catch (err) {
      throw new TentacleError(
        'ERR_STORAGE',
        { path: o.storage, message: reasonOf(err) },
        { cause: err },
      );
    }
    this.assertOpen();
    const t = o.tls;
    const server = t
      ? tls.createServer(
          {
            cert: t.cert,
            key: t.key,
            ca: t.ca,
            requestCert: true,
            rejectUnauthorized: t.ca !== undefined,
            handshakeTimeout: o.idleMs,
          },
          (sock) => this.acceptTls(sock),
        )
      : net.createServer((sock) => this.accept(sock));
    if (t) server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: o.address, port: o.port, backlog: 511 }, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: NodeJS.ErrnoException) => {
      const facts = { address: o.address, port: o.port };
      if (err.code === 'EADDRINUSE') {
        throw new TentacleError('ERR_PORT_IN_USE', facts, { cause: err });
      }
      throw new TentacleError('ERR_LISTEN', { ...facts, message: reasonOf(err) }, { cause: err });
    });
    server.on('error', (err) =>
      this.safeEmit(
        'error',
        new TentacleError(
          'ERR_LISTEN',
          { address: o.address, port: o.port, message: reasonOf(err) },
          { cause: err },
        ),
      ),
    );
    this.server = server;
    if (this.closedWith) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw this.closedWith;
    }
    const counted = this.rescans.request()!;
    counted.then(
      () => this.scheduleRescan(Date.now() - startedAt),
      () => this.scheduleRescan(Date.now() - startedAt),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      counted.catch(() => undefined),
      new Promise((r) => (timer = setTimeout(r, START_COUNT_WAIT_MS))),
    ]);
    clearTimeout(timer);
    return this.listening(server);
  }

  /**
   * Recounts the files and bytes the storage holds now (others may add or remove files behind
   * the server's back; a timer does this too) and resolves with the count. A recount already
   * running answers the request.
   */
  async requestRound(reason: string): Promise<TentacleStats> {
    void reason;
    this.assertOpen();
    await this.rescans.request()?.catch(() => undefined);
    await this.rescans.idle();
    this.assertOpen();
    return this.store.stats();
  }

  /**
   * Stops accepting, lets running commands finish for up to `closeGraceMs`, then cuts the rest.
   * Temp files of cut uploads are removed; the port is free when this resolves. Every call after
   * this fails with ERR_SERVER_CLOSED carrying `reason`.
   */
  async close(reason: string, graceMs = this.opts.closeGraceMs): Promise<void> {
    if (!this.closedWith) this.closedWith = new TentacleError('ERR_SERVER_CLOSED', { reason });
    if (this.rescanTimer) clearTimeout(this.rescanTimer);
    this.rescanTimer = null;
    this.store.stop();
    const server = this.server;
    const closed = server
      ? new Promise<void>((resolve) => server.close(() => resolve()))
      : Promise.resolve();
    for (const sock of this.queue.splice(0)) sock.destroy();
    for (const session of this.sessions.keys()) if (!session.busy) session.socket.destroy();
    const all = () => Promise.allSettled([...this.sessions.values()]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all(), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    for (const sock of this.sockets) sock.destroy();
    await all();
    await closed;
    await this.rescans.idle();
    this.server = null;
  }

  /** Files and bytes the storage holds (root and filter directories), as last counted. */
  stats(): TentacleStats {
    return this.store.stats();
  }

  /**
   * Stores a file as a SEND would, with the same checks; a refusal rejects with ERR_REFUSED
   * (`reply`: the SEND ERR line a client would get, `reason`).
   */
  async put(filename: string, payload: Buffer, peer = 'local'): Promise<TentacleEvent> {
    this.assertOpen();
    try {
      return await this.store.put(filename, payload, peer);
    } catch (err) {
      if (err instanceof Refusal) {
        throw new TentacleError(
          'ERR_REFUSED',
          { name: filename, reply: err.reply, reason: err.reason },
          { cause: err },
        );
      }
      throw new TentacleError(
        'ERR_STORAGE',
        { path: this.store.pathFor(filename), message: reasonOf(err) },
        { cause: err },
      );
    }
  }

  private assertOpen(): void {
    if (this.closedWith) throw this.closedWith;
  }

  private listening(server: net.Server): { address: string; port: number } {
    const a = server.address() as net.AddressInfo;
    return { address: a.address, port: a.port };
  }

  /**
   * The next recount, at least `rescanMs` from now and at least 20 times as long as the last
   * one took: counting a million held files must not become the server's main work.
   */
  private scheduleRescan(lastMs: number): void {
    if (this.closedWith) return;
    const wait = Math.max(this.opts.rescanMs, 20 * lastMs);
    this.rescanTimer = setTimeout(() => {
      const t0 = Date.now();
      const round = this.rescans.request() ?? this.rescans.idle();
      void round.then(
        () => this.scheduleRescan(Date.now() - t0),
        () => this.scheduleRescan(Date.now() - t0),
      );
    }, wait);
    this.rescanTimer.unref();
  }

  private safeEmit<K extends keyof TentacleServerEvents>(
    event: K,
    ...args: TentacleServerEvents[K]
  ): void {
    try {
      (this.emit as (e: K, ...a: TentacleServerEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      if (this.listenerCount('error') > 0) {
        this.emit('error', err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  private acceptTls(socket: tls.TLSSocket): void {
    // Without -f the reference asks for a certificate without requiring it, but a presented one
    // must still verify against the default store.
    if (!this.opts.tls?.ca && !socket.authorized) {
      const cert = socket.getPeerCertificate();
      if (cert && Object.keys(cert).length > 0) {
        socket.destroy();
        return;
      }
    }
    this.accept(socket);
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => undefined);
    if (this.closedWith) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      const i = this.queue.indexOf(socket);
      if (i >= 0) this.queue.splice(i, 1);
    });
    if (this.active >= this.opts.maxConnections) {
      if (this.queue.length >= this.opts.queueLimit) {
        socket.destroy();
        return;
      }
      socket.pause();
      this.queue.push(socket);
      return;
    }
    this.serve(socket);
  }

  private serve(socket: net.Socket): void {
    this.active++;
    const client = this.pullers ? describeClient(socket as tls.TLSSocket) : null;
    const session = new TentacleSession(socket, this.store, {
      digest: this.digest,
      insecure: this.opts.insecure,
      mayTake: !this.pullers || (client !== null && this.pullers.allows(client)),
      idleMs: this.opts.idleMs,
      lsLimit: this.opts.lsLimit,
      closing: () => this.closedWith !== null,
      refused: (command) =>
        this.safeEmit('refused', {
          peer: session.peer,
          command,
          client: client ? client.cn || client.fingerprint : 'no certificate',
        }),
    });
    this.safeEmit('connection', { peer: session.peer });
    const done = session.run().finally(() => {
      this.sessions.delete(session);
      this.active--;
      const next = this.queue.shift();
      if (next && !this.closedWith) this.serve(next);
    });
    this.sessions.set(session, done);
  }
}
