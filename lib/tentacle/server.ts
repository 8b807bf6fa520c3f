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
import { parseFilters } from './filters';
import { describeClient, Pullers } from './pullers';
import { DEFAULT_PORT, inactivityMs, passwordDigest } from './protocol';
import { TentacleSession } from './session';
import { TentacleStore, type TentacleEvent, type TentacleStats } from './store';

export type { TentacleEvent, TentacleStats } from './store';

export interface TentacleServerOptions {
  /** `-a`, default 0.0.0.0. */
  address?: string;
  /** `-p`, default 41121; 0 picks a free port. */
  port?: number;
  /** `-s`; created if missing, with the filter directories. */
  storage: string;
  /** `-i` `regex:dir;regex:dir`. */
  filters?: string;
  /** `-I`: allow LS and MV. Default true. */
  insecure?: boolean;
  /** `-o`. */
  overwrite?: boolean;
  /** `-m` bytes, default 2000000. */
  maxSize?: number;
  /** `-c`, default 10. */
  maxConnections?: number;
  /** `-t` seconds, default 1. */
  timeout?: number;
  /** `-r`, default 3. */
  retries?: number;
  /** `-x`. */
  password?: string;
  /** `-e` `-k` `-f`, PEM contents. With `ca` a client certificate is required. */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer };
  /**
   * Clients that may take files (LS, RECV, ZRECV, MV): certificate subject CNs or SHA-256
   * fingerprints (./pullers). Everyone else may only SEND/ZSEND and is hung up on at any other
   * command, as the stock server does for LS/MV without `-I`. Empty: everyone (stock). Needs
   * `tls.ca` (only a verified certificate names a client).
   */
  pullers?: readonly string[];
  /** Bounds on what the storage holds; 0 = none. */
  quotaBytes?: number;
  quotaFiles?: number;
}

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
  /** The listening socket failed, or a listener of another event threw. */
  error: [Error];
}

const QUEUE_LIMIT = 1024;

export class TentacleServer extends EventEmitter<TentacleServerEvents> {
  private readonly address: string;
  private readonly port: number;
  private readonly insecure: boolean;
  private readonly maxConnections: number;
  private readonly tlsOptions: TentacleServerOptions['tls'];
  private readonly idleMs: number;
  private readonly digest: string | null;
  private readonly pullers: Pullers | null;
  private readonly store: TentacleStore;
  private server: net.Server | null = null;
  private readonly sessions = new Map<TentacleSession, Promise<void>>();
  private readonly sockets = new Set<net.Socket>();
  private readonly queue: net.Socket[] = [];
  private active = 0;
  private closing = false;
  private rescanTimer: NodeJS.Timeout | null = null;

  constructor(options: TentacleServerOptions) {
    super();
    if (!options.storage) throw new TypeError('storage directory is required');
    // Field by field: an explicit `undefined` never replaces a default.
    this.address = options.address || '0.0.0.0';
    this.port = options.port ?? DEFAULT_PORT;
    this.insecure = options.insecure ?? true;
    this.maxConnections = Math.max(1, options.maxConnections ?? 10);
    this.tlsOptions = options.tls;
    this.idleMs = inactivityMs(options.timeout ?? 1, options.retries ?? 3);
    this.digest = options.password ? passwordDigest(options.password) : null;
    this.pullers = options.pullers?.length ? new Pullers(options.pullers) : null;
    if (this.pullers && !options.tls?.ca) {
      throw new TypeError(
        'pullers needs TLS with a CA (tls.ca): only a verified client certificate names a puller',
      );
    }
    const storage =
      options.storage.length > 1 ? options.storage.replace(/\/$/, '') : options.storage;
    this.store = new TentacleStore(
      {
        storage,
        filters: parseFilters(options.filters),
        overwrite: options.overwrite ?? false,
        maxSize: options.maxSize ?? 2_000_000,
        quotaBytes: options.quotaBytes ?? 0,
        quotaFiles: options.quotaFiles ?? 0,
      },
      {
        received: (ev) => this.safeEmit('received', ev),
        pulled: (ev) => this.safeEmit('pulled', ev),
        rejected: (ev) => this.safeEmit('rejected', ev),
        stats: (s) => this.safeEmit('stats', s),
      },
    );
  }

  /** Creates the storage, counts what it holds and starts listening. */
  async listen(): Promise<{ address: string; port: number }> {
    if (this.server) throw new Error('already listening');
    await this.store.prepare();
    const t = this.tlsOptions;
    const server = t
      ? tls.createServer(
          {
            cert: t.cert,
            key: t.key,
            ca: t.ca,
            requestCert: true,
            rejectUnauthorized: t.ca !== undefined,
            handshakeTimeout: this.idleMs,
          },
          (s) => this.acceptTls(s),
        )
      : net.createServer((s) => this.accept(s));
    if (t) server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.address, port: this.port, backlog: 511 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.emit('error', err));
    this.server = server;
    this.rescanTimer = setInterval(
      () => void this.store.rescan(false).catch(() => undefined),
      30_000,
    );
    this.rescanTimer.unref();
    const a = server.address() as net.AddressInfo;
    return { address: a.address, port: a.port };
  }

  /**
   * Stops accepting, lets running commands finish for up to `graceMs`, then cuts the rest.
   * Temp files of cut uploads are removed; the port is free when this resolves.
   */
  async close(graceMs = 5000): Promise<void> {
    this.closing = true;
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    this.rescanTimer = null;
    const server = this.server;
    const closed = server
      ? new Promise<void>((resolve) => server.close(() => resolve()))
      : Promise.resolve();
    for (const s of this.queue.splice(0)) s.destroy();
    for (const s of this.sessions.keys()) if (!s.busy) s.socket.destroy();
    const all = () => Promise.allSettled([...this.sessions.values()]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all(), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    for (const s of this.sockets) s.destroy();
    await all();
    await closed;
    this.server = null;
  }

  /** Files and bytes the storage holds (root and filter directories). */
  stats(): TentacleStats {
    return this.store.stats();
  }

  /** Stores a file as a SEND would, with the same checks; rejects with the SEND ERR line. */
  put(filename: string, payload: Buffer, peer = 'local'): Promise<TentacleEvent> {
    return this.store.put(filename, payload, peer);
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
    if (!this.tlsOptions?.ca && !socket.authorized) {
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
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      const i = this.queue.indexOf(socket);
      if (i >= 0) this.queue.splice(i, 1);
    });
    if (this.active >= this.maxConnections) {
      if (this.queue.length >= QUEUE_LIMIT) {
        socket.destroy();
        return;
      }
      socket.pause();
      this.queue.push(socket);
      return;
    }
    this.start(socket);
  }

  private start(socket: net.Socket): void {
    this.active++;
    const client = this.pullers ? describeClient(socket as tls.TLSSocket) : null;
    const session = new TentacleSession(socket, this.store, {
      digest: this.digest,
      insecure: this.insecure,
      mayTake: !this.pullers || (client !== null && this.pullers.allows(client)),
      idleMs: this.idleMs,
      closing: () => this.closing,
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
      if (next && !this.closing) this.start(next);
    });
    this.sessions.set(session, done);
  }
}
