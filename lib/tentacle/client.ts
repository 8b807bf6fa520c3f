/**
 * A strictly lock-step Tentacle client: one connection, one request at a time, reused for
 * many files. Every way the connection ends goes through one close path (`fail`), which
 * rejects the running request and every later call with the reason.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import net from 'node:net';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import tls from 'node:tls';
import { drain } from './drain';
import { isServerCertificateError, TentacleError, type TentacleErrorCode } from './errors';

export { TentacleError } from './errors';
export type { TentacleErrorCode } from './errors';
import { LineError, LineReader } from './line-reader';
import { DEFAULT_PORT, inactivityMs, passwordDigest } from './protocol';
import { writeFileDurably } from '../util/durable-file';
import { createUnzipReader, zipBuffer } from './zip';

export interface TentacleClientOptions {
  host: string;
  /** Default 41121. */
  port?: number;
  /**
   * TLS when given. The server's certificate is always verified, with its host name or IP: against
   * `ca` when given, otherwise against the system's trusted CAs (as any TLS client does).
   */
  tls?: {
    cert?: string | Buffer;
    key?: string | Buffer;
    ca?: string | Buffer;
    servername?: string;
  };
  /** Sends `PASS` first when set. */
  password?: string;
  /** Seconds and count; inactivity limit = timeout × (retries + 1). Defaults 1 and 3. */
  timeout?: number;
  retries?: number;
  /** Seconds; default timeout × (retries + 1). */
  connectTimeout?: number;
  /**
   * Bytes: a download (RECV, MV, ZRECV) announced larger than this is declined and fails with
   * ERR_TOO_BIG, the file kept on the server; a ZRECV that inflates past it fails and closes.
   * Default: no bound.
   */
  maxSize?: number;
  /** Bytes: an LS listing announced larger than this is declined (ERR_TOO_BIG). Default 64 MiB. */
  maxListing?: number;
}

const DEFAULT_MAX_LISTING = 64 * 1024 * 1024;

/**
 * After `<cmd> OK` for a 0-byte download the stock server sends nothing, so nothing tells when it
 * has read that line; a next line arriving before it has would be read together with it, which
 * it takes as a wrong answer (the MV'd file is not removed) and then hangs up. So the next line
 * waits this long.
 */
const EMPTY_DOWNLOAD_GRACE_MS = 100;

/** Receives a download: `data` yields exactly the announced bytes. */
export type TentacleConsumer = (data: NodeJS.ReadableStream, size: number) => Promise<void>;

type Source = Buffer | string | NodeJS.ReadableStream;

function tlsLike(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (
    /^ERR_SSL|^ERR_TLS|CERT|SELF_SIGNED|UNABLE_TO|HOSTNAME|ALTNAME/.test(e?.code ?? '') ||
    /ssl|tls|certificate|alert/i.test(e?.message ?? '')
  );
}

export class TentacleClient {
  /** `host:port` of the server. */
  readonly address: string;
  private readonly socket: net.Socket;
  private readonly reader: LineReader;
  private closed: TentacleError | null = null;
  private busy = false;
  private readonly closedPromise: Promise<void>;
  private passSent = false;
  /** A client certificate went out in the handshake: a TLS 1.3 server refuses it only later. */
  private presentedCert = false;
  private maxSize = Infinity;
  private maxListing = DEFAULT_MAX_LISTING;
  /** No line is written before this time (`EMPTY_DOWNLOAD_GRACE_MS`). */
  private quietUntil = 0;

  private constructor(socket: net.Socket, address: string, idleMs: number) {
    this.socket = socket;
    this.address = address;
    this.reader = new LineReader(socket);
    this.closedPromise = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.setTimeout(idleMs, () =>
      this.fail(new TentacleError('ERR_TIMEOUT', `${address}: no activity for ${idleMs / 1000} s`)),
    );
    socket.on('error', (err) =>
      this.fail(
        new TentacleError(
          tlsLike(err) ? 'ERR_TLS' : 'ERR_CLOSED',
          `${address}: ${err.message}`,
          undefined,
          err,
        ),
      ),
    );
    socket.on('close', () =>
      this.fail(new TentacleError('ERR_CLOSED', `${address}: connection closed`)),
    );
  }

  /** Opens a connection (TLS and PASS included) ready for commands. */
  static async connect(opts: TentacleClientOptions): Promise<TentacleClient> {
    const port = opts.port ?? DEFAULT_PORT;
    const idleMs = inactivityMs(opts.timeout ?? 1, opts.retries ?? 3);
    const connectMs = opts.connectTimeout !== undefined ? opts.connectTimeout * 1000 : idleMs;
    const address = `${opts.host}:${port}`;
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      let s: net.Socket;
      const onError = (err: Error) => {
        clearTimeout(timer);
        s.destroy();
        const isTls = Boolean(opts.tls) && tlsLike(err);
        const serverCertificate = isTls && isServerCertificateError(err);
        // Without a CA the certificate met the system's trusted CAs, which a private CA or a
        // self-signed buffer certificate is not in: say what was used.
        const how =
          serverCertificate && opts.tls?.ca === undefined
            ? " (no CA given: the server's certificate was checked against the system's trusted CAs)"
            : '';
        const e = new TentacleError(
          isTls ? 'ERR_TLS' : 'ERR_CONNECT',
          `${address}: ${err.message}${how}`,
          undefined,
          err,
        );
        if (serverCertificate) e.serverCertificate = true;
        reject(e);
      };
      const timer = setTimeout(
        () => onError(new Error(`connect timed out after ${connectMs / 1000} s`)),
        connectMs,
      );
      const ready = () => {
        clearTimeout(timer);
        s.off('error', onError);
        resolve(s);
      };
      if (opts.tls) {
        const t = opts.tls;
        const servername = t.servername ?? (net.isIP(opts.host) ? undefined : opts.host);
        s = tls.connect({
          host: opts.host,
          port,
          cert: t.cert,
          key: t.key,
          ca: t.ca,
          servername,
          // Never unverified: without `ca` a man in the middle would get the reusable PASS digest
          // and could feed or drop files (the stock client's flaw).
          rejectUnauthorized: true,
        });
        s.once('secureConnect', ready);
      } else {
        s = net.connect({ host: opts.host, port });
        s.once('connect', ready);
      }
      s.once('error', onError);
    });
    socket.setNoDelay(true);
    const client = new TentacleClient(socket, address, idleMs);
    client.presentedCert = Boolean(opts.tls?.cert);
    client.maxSize = opts.maxSize ?? Infinity;
    client.maxListing = opts.maxListing ?? DEFAULT_MAX_LISTING;
    if (opts.password !== undefined && opts.password !== '') {
      await client.run(async () => {
        client.passSent = true;
        const reply = await client.exchange(`PASS ${passwordDigest(opts.password as string)}`);
        if (reply !== 'PASS OK') throw client.unexpected('PASS', reply);
        client.passSent = false;
      });
    }
    return client;
  }

  /** The raw LS listing lines of the directory `arg` maps to (`.`, `..` and subdirectories included). */
  ls(arg = ''): Promise<string[]> {
    return this.run(async () => {
      const reply = await this.exchange(`LS <${this.checkName(arg)}>`);
      const m = /^LS SIZE (\d+)$/.exec(reply);
      if (!m) throw this.unexpected('LS', reply);
      const size = Number(m[1]);
      await this.refuseAbove('LS', '', size, this.maxListing);
      await this.write('LS OK\n');
      const parts: Buffer[] = [];
      for await (const chunk of this.reader.readPayload(size)) parts.push(chunk as Buffer);
      const text = Buffer.concat(parts).toString('utf8');
      const lines = text.split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      return lines;
    });
  }

  /** Uploads `source` (a Buffer, a file path, or a stream of `size` bytes) as `name`. */
  send(name: string, source: Source, size?: number): Promise<void> {
    return this.upload('SEND', name, source, size);
  }

  /** Uploads `source` zipped (ZSEND); the server stores it unzipped. */
  zsend(name: string, source: Source, size?: number): Promise<void> {
    return this.upload('ZSEND', name, source, size);
  }

  /** Downloads `name`; resolves with its size once `consume` has finished with the bytes. */
  recv(name: string, consume: TentacleConsumer): Promise<number> {
    return this.download('RECV', name, consume);
  }

  /** Downloads `name` zipped; `consume` gets the inflated bytes, the size is the compressed one. */
  zrecv(name: string, consume: TentacleConsumer): Promise<number> {
    return this.download('ZRECV', name, consume);
  }

  /**
   * Downloads and removes `name`. The server deletes the file when this client's next line
   * arrives, which is only sent after `consume` resolved.
   */
  mv(name: string, consume: TentacleConsumer): Promise<number> {
    return this.download('MV', name, consume);
  }

  /** RECV into `path` durably (temp name, fsync, rename, directory fsync); resolves with the size. */
  recvToFile(name: string, path: string): Promise<number> {
    return this.recv(name, async (data) => {
      await writeFileDurably(path, data as AsyncIterable<unknown>);
    });
  }

  /** Sends QUIT and waits for the connection to close. */
  async quit(): Promise<void> {
    if (this.closed) return;
    if (this.busy) throw new TentacleError('ERR_BUSY', `${this.address}: a request is running`);
    this.busy = true;
    await this.quiet();
    this.socket.end('QUIT\n');
    const timer = setTimeout(() => this.socket.destroy(), 2000);
    await this.closedPromise;
    clearTimeout(timer);
    this.fail(new TentacleError('ERR_CLOSED', `${this.address}: connection closed by QUIT`));
  }

  /** Closes the connection at once; running and later calls reject with `err` or ERR_CLOSED. */
  destroy(err?: Error): void {
    this.fail(
      err instanceof TentacleError
        ? err
        : new TentacleError(
            'ERR_CLOSED',
            `${this.address}: ${err ? err.message : 'connection destroyed'}`,
            undefined,
            err,
          ),
    );
  }

  /** True until the connection has ended. */
  get connected(): boolean {
    return this.closed === null;
  }

  private fail(err: TentacleError): void {
    if (this.closed) return;
    this.closed = err;
    this.reader.fail(err);
    this.socket.destroy();
  }

  private async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.closed) throw this.closed;
    if (this.busy) {
      throw new TentacleError(
        'ERR_BUSY',
        `${this.address}: a request is already running on this connection`,
      );
    }
    this.busy = true;
    try {
      return await task();
    } catch (err) {
      // A close right after PASS may be a refused client certificate whose TLS alert is still
      // on its way: let the socket finish closing so the recorded reason is the real one.
      if (this.passSent) {
        await Promise.race([this.closedPromise, new Promise((r) => setTimeout(r, 1000))]);
      }
      throw this.translate(err);
    } finally {
      this.busy = false;
    }
  }

  /** Maps reader failures to the connection's recorded reason, with context for silent closes. */
  private translate(err: unknown): Error {
    const closedKind =
      (err instanceof TentacleError && err.code === 'ERR_CLOSED') ||
      (err instanceof LineError && err.kind === 'closed');
    // With TLS 1.3 a refused client certificate is only reported after the client has sent
    // its first line, so a TLS failure recorded by then is the real reason, not the password.
    if (this.closed?.code === 'ERR_TLS') return this.closed;
    if (this.passSent && closedKind) {
      const e = new TentacleError(
        'ERR_AUTH',
        `${this.address}: the server closed the connection after PASS: ` +
          (this.presentedCert
            ? 'wrong password, or it refused this client certificate (not signed by its CA, or expired)'
            : 'wrong password, or the server has no password (-x)'),
        undefined,
        err,
      );
      this.fail(e);
      return e;
    }
    if (err instanceof TentacleError) return err;
    if (err instanceof LineError) {
      if (err.kind === 'closed') return this.closed ?? this.closedWith('ERR_CLOSED', err.message);
      return this.closedWith('ERR_PROTOCOL', `server ${err.message}`);
    }
    return this.closed ?? (err as Error);
  }

  private closedWith(code: TentacleErrorCode, message: string): TentacleError {
    const e = new TentacleError(code, `${this.address}: ${message}`);
    this.fail(e);
    return this.closed ?? e;
  }

  private unexpected(cmd: string, reply: string): TentacleError {
    return new TentacleError(
      reply.startsWith(`${cmd} ERR`) ? 'ERR_REPLY' : 'ERR_PROTOCOL',
      `${this.address}: ${cmd} refused: server answered "${reply}"`,
      reply,
    );
  }

  private checkName(name: string): string {
    if (/[\n>]/.test(name)) {
      throw new TentacleError('ERR_PROTOCOL', `file name ${JSON.stringify(name)} cannot be sent`);
    }
    return name;
  }

  private write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  private async quiet(): Promise<void> {
    const wait = this.quietUntil - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }

  private async exchange(line: string): Promise<string> {
    await this.quiet();
    await this.write(`${line}\n`);
    return (await this.reader.readLine()).toString('utf8');
  }

  private async upload(
    cmd: 'SEND' | 'ZSEND',
    name: string,
    source: Source,
    size?: number,
  ): Promise<void> {
    return this.run(async () => {
      this.checkName(name);
      let body: Buffer | NodeJS.ReadableStream;
      let n: number;
      if (cmd === 'ZSEND') {
        const raw = await toBuffer(source, size);
        body = await zipBuffer(typeof source === 'string' ? source : name, raw);
        n = body.length;
      } else if (Buffer.isBuffer(source)) {
        body = source;
        n = source.length;
      } else if (typeof source === 'string') {
        n = (await stat(source)).size;
        body = createReadStream(source, { start: 0, end: Math.max(0, n - 1) });
      } else {
        if (size === undefined) throw new TypeError('send: size is required for a stream');
        body = source;
        n = size;
      }
      const first = await this.exchange(`${cmd} <${name}> SIZE ${n}`);
      if (first !== `${cmd} OK`) {
        if (!Buffer.isBuffer(body)) (body as Readable).destroy?.();
        throw this.unexpected(cmd, first);
      }
      if (Buffer.isBuffer(body)) {
        await this.write(body);
      } else {
        let sent = 0;
        for await (const chunk of body) {
          const c = (typeof chunk === 'string' ? Buffer.from(chunk) : chunk) as Buffer;
          const part = sent + c.length > n ? c.subarray(0, n - sent) : c;
          sent += part.length;
          if (!this.socket.write(part)) await this.drained();
          if (sent >= n) break;
        }
        if (sent < n) {
          throw this.closedWith(
            'ERR_PROTOCOL',
            `${name}: source ended after ${sent} of ${n} bytes`,
          );
        }
      }
      const second = (await this.reader.readLine()).toString('utf8');
      if (second !== `${cmd} OK`) throw this.unexpected(cmd, second);
    });
  }

  /**
   * Declines an offer larger than `bound` (any line but `<cmd> OK` does; the server keeps the
   * file and waits for the next command), then fails the request with ERR_TOO_BIG.
   */
  private async refuseAbove(cmd: string, name: string, size: number, bound: number): Promise<void> {
    if (size <= bound) return;
    await this.write(`${cmd} NO\n`);
    const e = new TentacleError(
      'ERR_TOO_BIG',
      `${this.address}: ${cmd} ${name}: the server offers ${size} bytes, more than the limit of ${bound}`,
    );
    e.size = size;
    throw e;
  }

  private async drained(): Promise<void> {
    try {
      await drain(this.socket);
    } catch {
      throw this.closed ?? new TentacleError('ERR_CLOSED', `${this.address}: closed`);
    }
  }

  private download(
    cmd: 'RECV' | 'ZRECV' | 'MV',
    name: string,
    consume: TentacleConsumer,
  ): Promise<number> {
    return this.run(async () => {
      const reply = await this.exchange(`${cmd} <${this.checkName(name)}>`);
      const m = new RegExp(`^${cmd} SIZE (\\d+)$`).exec(reply);
      if (!m) throw this.unexpected(cmd, reply);
      const size = Number(m[1]);
      await this.refuseAbove(cmd, name, size, this.maxSize);
      await this.write(`${cmd} OK\n`);
      if (size === 0) this.quietUntil = Date.now() + EMPTY_DOWNLOAD_GRACE_MS;
      const payload = this.reader.readPayload(size);
      const bound = this.maxSize;
      const data: Readable =
        cmd === 'ZRECV'
          ? payload.pipe(
              createUnzipReader({
                check: (n) =>
                  n > bound
                    ? new TentacleError(
                        'ERR_TOO_BIG',
                        `${this.address}: ZRECV ${name} inflates past ${bound} bytes`,
                      )
                    : null,
              }),
            )
          : payload;
      if (cmd === 'ZRECV') payload.on('error', (err) => data.destroy(err));
      const ended = new Promise<void>((resolve, reject) => {
        payload.once('end', resolve);
        payload.once('error', reject);
        payload.once('close', () => (payload.readableEnded ? resolve() : undefined));
      });
      ended.catch(() => undefined);
      try {
        await consume(data, size);
      } catch (err) {
        // The bytes were not taken: end the connection so an MV'd file stays on the server.
        const e = new TentacleError(
          'ERR_CLOSED',
          `${this.address}: ${cmd} ${name}: ${(err as Error).message}`,
          undefined,
          err,
        );
        this.fail(e);
        throw err;
      }
      if (!payload.readableEnded) {
        payload.resume();
        await ended;
      }
      if (cmd === 'ZRECV' && !data.readableEnded && !data.destroyed) {
        data.resume();
        await new Promise<void>((resolve, reject) => {
          data.once('end', resolve);
          data.once('error', reject);
        });
      }
      return size;
    });
  }
}

async function toBuffer(source: Source, size?: number): Promise<Buffer> {
  if (Buffer.isBuffer(source)) return source;
  const stream =
    typeof source === 'string' ? createReadStream(source) : (source as NodeJS.ReadableStream);
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const c = (typeof chunk === 'string' ? Buffer.from(chunk) : chunk) as Buffer;
    parts.push(c);
    total += c.length;
    if (size !== undefined && total >= size) break;
  }
  const all = Buffer.concat(parts);
  return size !== undefined ? all.subarray(0, size) : all;
}

/** The base name the Perl client would send for a local path. */
export function sendName(path: string): string {
  return basename(path);
}
