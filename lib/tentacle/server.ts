/**
 * A Tentacle server wire-compatible with Pandora FMS's tentacle_server: the same replies and
 * the same close behaviour, with these improvements that do not change the wire: uploads are
 * streamed to a temp name holding `~` (banned, so invisible to LS/RECV/MV), fsynced and renamed;
 * RECV/MV send exactly the size announced; an MV'd file is deleted only when the client's next
 * line arrives (a puller that vanished mid-transfer leaves the file for the next round); a file
 * being MV'd is claimed, so two pullers never both get it.
 *
 * Connections beyond `maxConnections` wait in a queue (paused, unread) until a slot frees, as
 * the reference's blocking accept makes them wait in the kernel backlog.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { constants as fsc } from 'node:fs';
import {
  access,
  mkdir,
  open,
  readdir,
  rename,
  stat,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import tls from 'node:tls';
import { drain } from './drain';
import { filterDir, parseFilters, type TentacleFilter } from './filters';
import { LineReader } from './line-reader';
import {
  DEFAULT_PORT,
  inactivityMs,
  isStorableName,
  isValidName,
  parseCommand,
  passwordDigest,
  Reply,
} from './protocol';
import { createUnzipReader, createZipWriter } from './zip';

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
  /** Bounds on what the storage holds; 0 = none. */
  quotaBytes?: number;
  quotaFiles?: number;
}

export interface TentacleEvent {
  topic: 'received' | 'pulled' | 'rejected';
  filename: string;
  size: number;
  peer: string;
  reason?: string;
  path?: string;
}

export interface TentacleStats {
  files: number;
  bytes: number;
}

type Upload = 'SEND' | 'ZSEND';

interface Session {
  socket: net.Socket;
  peer: string;
  reader: LineReader;
  busy: boolean;
  /** An MV whose bytes were written; deleted when the next line arrives. */
  pendingMv: { path: string; name: string; size: number; dev: number; ino: number } | null;
  done: Promise<void>;
}

/** Suffix of temp files: `~` keeps them out of reach of every Tentacle command. */
const TEMP_RE = /~tentacle-[0-9a-f]{12}$/;
const READ_CHUNK = 256 * 1024;
const QUEUE_LIMIT = 1024;

class Refusal extends Error {
  constructor(
    readonly reply: string,
    readonly reason: string,
  ) {
    super(reply);
  }
}

function tempName(dir: string, name: string): string {
  // Keep well under NAME_MAX even for multi-byte names.
  return join(dir, `${name.slice(0, 40)}~tentacle-${randomBytes(6).toString('hex')}`);
}

function writeLine(socket: net.Socket, line: string): void {
  socket.write(`${line}\n`);
}

export class TentacleServer extends EventEmitter {
  private readonly opts: Required<Omit<TentacleServerOptions, 'tls' | 'password' | 'filters'>> & {
    tls?: TentacleServerOptions['tls'];
    password?: string;
  };
  private readonly filterList: TentacleFilter[];
  private readonly idleMs: number;
  private readonly digest: string | null;
  private server: net.Server | null = null;
  private readonly sessions = new Set<Session>();
  private readonly sockets = new Set<net.Socket>();
  private readonly queue: net.Socket[] = [];
  private active = 0;
  private closing = false;
  /** Paths handed out by an MV not yet confirmed. */
  private readonly claims = new Set<string>();
  /** Target paths with an upload in flight, and their announced size. */
  private readonly uploads = new Map<string, number>();
  private held: TentacleStats = { files: 0, bytes: 0 };
  private generation = 0;
  private rescanTimer: NodeJS.Timeout | null = null;

  constructor(options: TentacleServerOptions) {
    super();
    if (!options.storage) throw new TypeError('storage directory is required');
    this.opts = {
      address: options.address || '0.0.0.0',
      port: options.port ?? DEFAULT_PORT,
      storage: options.storage.length > 1 ? options.storage.replace(/\/$/, '') : options.storage,
      insecure: options.insecure ?? true,
      overwrite: options.overwrite ?? false,
      maxSize: options.maxSize ?? 2_000_000,
      maxConnections: Math.max(1, options.maxConnections ?? 10),
      timeout: options.timeout ?? 1,
      retries: options.retries ?? 3,
      quotaBytes: options.quotaBytes ?? 0,
      quotaFiles: options.quotaFiles ?? 0,
      tls: options.tls,
      password: options.password,
    };
    this.filterList = parseFilters(options.filters);
    this.idleMs = inactivityMs(this.opts.timeout, this.opts.retries);
    this.digest = options.password ? passwordDigest(options.password) : null;
  }

  /** Creates the storage, counts what it holds and starts listening. */
  async listen(): Promise<{ address: string; port: number }> {
    if (this.server) throw new Error('already listening');
    const dirs = this.dirs();
    for (const d of dirs) await mkdir(d, { recursive: true });
    for (const d of dirs) await access(d, fsc.W_OK | fsc.X_OK);
    await this.rescan(true);
    const t = this.opts.tls;
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
      server.listen({ host: this.opts.address, port: this.opts.port, backlog: 511 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.emit('error', err));
    this.server = server;
    this.rescanTimer = setInterval(() => void this.rescan(false).catch(() => undefined), 30_000);
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
    for (const s of this.sessions) if (!s.busy) s.socket.destroy();
    const all = () => Promise.allSettled([...this.sessions].map((s) => s.done));
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
    return { ...this.held };
  }

  /** Stores a file as a SEND would, with the same checks; rejects with the SEND ERR line. */
  async put(filename: string, payload: Buffer, peer = 'local'): Promise<TentacleEvent> {
    let target: string;
    try {
      target = await this.admit('SEND', filename, payload.length);
    } catch (err) {
      if (err instanceof Refusal) this.reject(filename, payload.length, peer, err.reason);
      throw err;
    }
    try {
      return await this.store(target, filename, peer, async (fh) => {
        await fh.write(payload);
        return payload.length;
      });
    } catch (err) {
      this.reject(filename, payload.length, peer, (err as Error).message);
      throw err;
    } finally {
      this.uploads.delete(target);
    }
  }

  private dirs(): string[] {
    const root = this.opts.storage;
    return [root, ...new Set(this.filterList.map((f) => join(root, f.dir)))];
  }

  private pathFor(name: string): string {
    return join(this.opts.storage, filterDir(this.filterList, name), name);
  }

  private safeEmit(event: string, arg: unknown): void {
    try {
      this.emit(event, arg);
    } catch (err) {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    }
  }

  private reject(filename: string, size: number, peer: string, reason: string): void {
    const ev: TentacleEvent = { topic: 'rejected', filename, size, peer, reason };
    this.safeEmit('rejected', ev);
  }

  private changed(files: number, bytes: number): void {
    this.generation++;
    this.held = {
      files: Math.max(0, this.held.files + files),
      bytes: Math.max(0, this.held.bytes + bytes),
    };
    this.safeEmit('stats', this.stats());
  }

  /** Recounts the storage (others may add or remove files behind our back). */
  private async rescan(removeTemps: boolean): Promise<void> {
    const gen = this.generation;
    let files = 0;
    let bytes = 0;
    for (const dir of this.dirs()) {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        continue;
      }
      for (const n of names) {
        const p = join(dir, n);
        if (TEMP_RE.test(n)) {
          if (removeTemps) await unlink(p).catch(() => undefined);
          continue;
        }
        if (!isValidName(n)) continue;
        try {
          const st = await stat(p);
          if (st.isFile()) {
            files++;
            bytes += st.size;
          }
        } catch {
          // vanished meanwhile
        }
      }
    }
    if (gen !== this.generation) return;
    if (files !== this.held.files || bytes !== this.held.bytes) {
      this.held = { files, bytes };
      this.safeEmit('stats', this.stats());
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
    if (this.active >= this.opts.maxConnections) {
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
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    const session: Session = {
      socket,
      peer,
      reader: new LineReader(socket),
      busy: false,
      pendingMv: null,
      done: Promise.resolve(),
    };
    this.sessions.add(session);
    this.safeEmit('connection', { peer });
    session.done = this.serve(session).finally(() => {
      this.sessions.delete(session);
      this.active--;
      const next = this.queue.shift();
      if (next && !this.closing) this.start(next);
    });
  }

  private async serve(s: Session): Promise<void> {
    const { socket, reader } = s;
    socket.setNoDelay(true);
    socket.setTimeout(this.idleMs, () => socket.destroy());
    socket.resume();
    try {
      if (this.digest) {
        const line = (await reader.readLine()).toString('utf8');
        if (line !== `PASS ${this.digest}`) return;
        writeLine(socket, Reply.PASS_OK);
      }
      while (!this.closing) {
        s.busy = false;
        const raw = await reader.readLine();
        s.busy = true;
        if (s.pendingMv) await this.confirmMv(s);
        const cmd = parseCommand(raw.toString('utf8'));
        if (!cmd || cmd.cmd === 'PASS' || cmd.cmd === 'QUIT') return;
        let keep: boolean;
        switch (cmd.cmd) {
          case 'SEND':
          case 'ZSEND':
            keep = await this.onSend(s, cmd.cmd, cmd.name, cmd.size);
            break;
          case 'RECV':
          case 'ZRECV':
            keep = await this.onRecv(s, cmd.cmd, cmd.name);
            break;
          case 'MV':
            keep = await this.onMv(s, cmd.name);
            break;
          case 'LS':
            keep = await this.onLs(s, cmd.name);
            break;
        }
        if (!keep) return;
      }
    } catch {
      // Every failure ends the connection silently, as the reference does.
    } finally {
      const mv = s.pendingMv;
      if (mv) this.claims.delete(mv.path);
      s.pendingMv = null;
      reader.fail(new Error('session ended'));
      reader.detach();
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    }
  }

  /** Checks a SEND in the reference's order, then quota; reserves the target. */
  private async admit(cmd: Upload, name: string, size: number): Promise<string> {
    return (await this.admitting(cmd, name, size)).target;
  }

  private async admitting(
    cmd: Upload,
    name: string,
    size: number,
  ): Promise<{ target: string; existing: number }> {
    if (!isStorableName(name)) throw new Refusal(Reply.invalidName(cmd), 'invalid file name');
    if (size < 1 || size > this.opts.maxSize) {
      throw new Refusal(Reply.tooBig(cmd), 'file is too big');
    }
    const target = this.pathFor(name);
    let existing = 0;
    let exists = false;
    try {
      const st = await stat(target);
      if (st.isFile()) {
        exists = true;
        existing = st.size;
      }
    } catch {
      // not there
    }
    if (!this.opts.overwrite && (exists || this.uploads.has(target))) {
      throw new Refusal(Reply.exists(cmd), 'file already exists');
    }
    const { quotaBytes, quotaFiles } = this.opts;
    if (quotaBytes > 0 || quotaFiles > 0) {
      let resFiles = 0;
      let resBytes = 0;
      for (const v of this.uploads.values()) {
        resFiles++;
        resBytes += v;
      }
      const files = this.held.files + resFiles + (exists ? 0 : 1);
      const bytes = this.held.bytes + resBytes + size - existing;
      if (quotaFiles > 0 && files > quotaFiles) {
        const reason = `quota exceeded: the buffer holds ${this.held.files + resFiles} files, limit ${quotaFiles}`;
        throw new Refusal(`${cmd} ERR (${reason})`, reason);
      }
      if (quotaBytes > 0 && bytes > quotaBytes) {
        const reason = `quota exceeded: ${this.held.bytes + resBytes} bytes held, ${size} more would pass the limit of ${quotaBytes}`;
        throw new Refusal(`${cmd} ERR (${reason})`, reason);
      }
    }
    this.uploads.set(target, size);
    return { target, existing };
  }

  /**
   * The bound on what a ZSEND may inflate to, checked as the bytes come out: `maxSize`, and
   * the quota room left beside what is held and what other uploads have reserved. The upload's
   * reservation grows with its inflated size, so two bombs cannot both take the same room.
   */
  private inflateGuard(
    target: string,
    existing: number,
    compressed: number,
  ): (inflated: number) => Error | null {
    return (inflated) => {
      if (inflated > this.opts.maxSize) {
        return new Refusal(Reply.tooBig('ZSEND'), 'file is too big once decompressed');
      }
      const { quotaBytes } = this.opts;
      if (quotaBytes > 0) {
        let others = 0;
        for (const [path, v] of this.uploads) if (path !== target) others += v;
        if (this.held.bytes + others + inflated - existing > quotaBytes) {
          const reason = `quota exceeded: ${this.held.bytes + others} bytes held, the decompressed file would pass the limit of ${quotaBytes}`;
          return new Refusal(`ZSEND ERR (${reason})`, reason);
        }
      }
      this.uploads.set(target, Math.max(compressed, inflated));
      return null;
    };
  }

  /** Writes a temp file with `fill`, fsyncs and renames it to `target`; counts it. */
  private async store(
    target: string,
    filename: string,
    peer: string,
    fill: (fh: FileHandle) => Promise<number>,
  ): Promise<TentacleEvent> {
    const dir = join(target, '..');
    const temp = tempName(dir, filename);
    let size: number;
    const fh = await open(temp, 'wx');
    try {
      size = await fill(fh);
      await fh.sync();
    } catch (err) {
      await fh.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    await fh.close();
    let replaced = 0;
    let existed = false;
    try {
      const st = await stat(target);
      if (st.isFile()) {
        existed = true;
        replaced = st.size;
      }
    } catch {
      // new file
    }
    try {
      await rename(temp, target);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    this.changed(existed ? 0 : 1, size - replaced);
    const ev: TentacleEvent = { topic: 'received', filename, size, peer, path: target };
    this.safeEmit('received', ev);
    return ev;
  }

  private async onSend(s: Session, cmd: Upload, name: string, size: number): Promise<boolean> {
    let target: string;
    let existing: number;
    try {
      ({ target, existing } = await this.admitting(cmd, name, size));
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      writeLine(s.socket, err.reply);
      this.reject(name, size, s.peer, err.reason);
      return true;
    }
    try {
      writeLine(s.socket, `${cmd} OK`);
      const payload = s.reader.readPayload(size);
      let zipFailure: Error | null = null;
      try {
        await this.store(target, name, s.peer, async (fh) => {
          let written = 0;
          let source: Readable = payload;
          if (cmd === 'ZSEND') {
            source = payload.pipe(
              createUnzipReader({ check: this.inflateGuard(target, existing, size) }),
            );
            let cut = false;
            payload.on('error', (err) => {
              cut = true;
              source.destroy(err);
            });
            source.on('error', (err) => {
              if (!cut) zipFailure = err;
            });
          }
          for await (const chunk of source) {
            await fh.write(chunk as Buffer);
            written += (chunk as Buffer).length;
          }
          return written;
        });
      } catch (err) {
        const failure = zipFailure as Error | null;
        if (cmd === 'ZSEND' && failure) {
          // Take the rest of the payload to stay in step, then say so like the reference.
          if (!payload.readableEnded) {
            payload.unpipe();
            payload.resume();
            await once(payload, 'end');
          }
          if (failure instanceof Refusal) {
            writeLine(s.socket, failure.reply);
            this.reject(name, size, s.peer, failure.reason);
          } else {
            writeLine(s.socket, Reply.ZSEND_ERR);
            this.reject(name, size, s.peer, `decompression failed: ${failure.message}`);
          }
          return true;
        }
        this.reject(name, size, s.peer, `upload failed: ${(err as Error).message}`);
        return false;
      }
      writeLine(s.socket, `${cmd} OK`);
      return true;
    } finally {
      this.uploads.delete(target);
    }
  }

  /** Opens `path` if it is a regular file nobody is taking; null otherwise. */
  private async openServable(path: string): Promise<{ fh: FileHandle; size: number } | null> {
    if (this.claims.has(path)) return null;
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch {
      return null;
    }
    const st = await fh.stat();
    if (!st.isFile() || this.claims.has(path)) {
      await fh.close();
      return null;
    }
    return { fh, size: st.size };
  }

  /** Streams exactly `size` bytes of `fh` to the socket; anything else cuts the connection. */
  private async sendFile(s: Session, fh: FileHandle, size: number): Promise<void> {
    if (size === 0) return;
    let sent = 0;
    const stream = fh.createReadStream({
      start: 0,
      end: size - 1,
      autoClose: false,
      highWaterMark: READ_CHUNK,
    });
    for await (const chunk of stream) {
      sent += (chunk as Buffer).length;
      if (!s.socket.write(chunk as Buffer)) await drain(s.socket);
    }
    if (sent !== size) throw new Error(`file changed while being sent (${sent} of ${size})`);
  }

  private async onRecv(s: Session, cmd: 'RECV' | 'ZRECV', name: string): Promise<boolean> {
    if (!isValidName(name)) {
      writeLine(s.socket, Reply.recvInvalid(cmd));
      return true;
    }
    const path = this.pathFor(name);
    const file = await this.openServable(path);
    if (!file) {
      writeLine(s.socket, Reply.recvMissing(cmd));
      return true;
    }
    let { fh, size } = file;
    let zipTemp: string | null = null;
    try {
      if (cmd === 'ZRECV') {
        zipTemp = tempName(join(path, '..'), name);
        const out = await open(zipTemp, 'wx');
        try {
          const zip = fh.createReadStream({ autoClose: false }).pipe(createZipWriter(path));
          for await (const chunk of zip) await out.write(chunk as Buffer);
        } catch {
          // The reference says QUIT when it cannot compress.
          writeLine(s.socket, 'QUIT');
          return false;
        } finally {
          await out.close();
        }
        await fh.close();
        fh = await open(zipTemp, 'r');
        size = (await fh.stat()).size;
      }
      writeLine(s.socket, `${cmd} SIZE ${size}`);
      const answer = (await s.reader.readLine(false)).toString('utf8');
      if (answer !== `${cmd} OK`) return true;
      // The reference takes its own zero-length write for a dropped peer and hangs up.
      if (size === 0) return false;
      await this.sendFile(s, fh, size);
      return true;
    } finally {
      await fh.close().catch(() => undefined);
      if (zipTemp) await unlink(zipTemp).catch(() => undefined);
    }
  }

  private async onMv(s: Session, name: string): Promise<boolean> {
    if (!this.opts.insecure) return false;
    const path = this.pathFor(name);
    const file = isValidName(name) ? await this.openServable(path) : null;
    if (!file) {
      writeLine(s.socket, Reply.MV_ERR);
      return true;
    }
    this.claims.add(path);
    const { fh, size } = file;
    let handedOut = false;
    try {
      const st = await fh.stat();
      writeLine(s.socket, `MV SIZE ${size}`);
      const answer = (await s.reader.readLine(false)).toString('utf8');
      if (answer !== 'MV OK') return true;
      await this.sendFile(s, fh, size);
      s.pendingMv = { path, name, size, dev: st.dev, ino: st.ino };
      handedOut = true;
      return true;
    } finally {
      await fh.close().catch(() => undefined);
      if (!handedOut) this.claims.delete(path);
    }
  }

  /** The client spoke again after an MV, so it has the bytes: now the file may go. */
  private async confirmMv(s: Session): Promise<void> {
    const mv = s.pendingMv;
    if (!mv) return;
    s.pendingMv = null;
    try {
      const st = await stat(mv.path);
      // An overwrite may have replaced it meanwhile; that newer file was not handed out.
      if (st.dev === mv.dev && st.ino === mv.ino) {
        await unlink(mv.path);
        this.changed(-1, -mv.size);
        const ev: TentacleEvent = {
          topic: 'pulled',
          filename: mv.name,
          size: mv.size,
          peer: s.peer,
          path: mv.path,
        };
        this.safeEmit('pulled', ev);
      }
    } catch {
      // removed by someone else
    } finally {
      this.claims.delete(mv.path);
    }
  }

  private async onLs(s: Session, arg: string): Promise<boolean> {
    if (!this.opts.insecure) return false;
    if (!isValidName(arg)) {
      writeLine(s.socket, Reply.LS_ERR);
      return true;
    }
    const dir = join(this.opts.storage, filterDir(this.filterList, arg));
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      writeLine(s.socket, Reply.LS_ERR);
      return true;
    }
    const listing = Buffer.from(
      ['.', '..', ...names]
        .filter(isValidName)
        .map((n) => `${n}\n`)
        .join(''),
      'utf8',
    );
    writeLine(s.socket, `LS SIZE ${listing.length}`);
    const answer = (await s.reader.readLine(false)).toString('utf8');
    if (answer !== 'LS OK') return true;
    if (listing.length > 0 && !s.socket.write(listing)) await drain(s.socket);
    return true;
  }
}
