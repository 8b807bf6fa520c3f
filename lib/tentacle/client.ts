/**
 * A strictly lock-step Tentacle client: one connection, one request at a time, reused for
 * many files. Every way the connection ends goes through one close path (`fail`), which
 * rejects the running request and every later call with the reason.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type net from 'node:net';
import { Readable } from 'node:stream';
import { writeFileDurably } from '../util/durable-file';
import { reasonOf, type ErrorFacts } from '../util/errors';
import { openSocket, tlsLike, type TentacleClientOptions } from './connect';
import { drain } from './drain';
import { TentacleError, type TentacleErrorCode } from './errors';
import { LineError, LineReader } from './line-reader';
import { DEFAULT_PORT, inactivityMs, passwordDigest } from './protocol';
import { createUnzipReader, zipBuffer } from './zip';

export { TentacleError } from './errors';
export type { TentacleErrorCode } from './errors';
export type { TentacleClientOptions } from './connect';

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

export class TentacleClient {
  /** `host:port` of the server. */
  readonly address: string;
  private readonly socket: net.Socket;
  private readonly reader: LineReader;
  private closed: TentacleError | null = null;
  private busy = false;
  private readonly closedPromise: Promise<void>;
  private passSent = false;
  /** The server ended the connection itself (FIN or TLS close), not a reset or a timeout. */
  private peerEnded = false;
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
    socket.once('end', () => (this.peerEnded = true));
    socket.setTimeout(idleMs, () =>
      this.fail(new TentacleError('ERR_TIMEOUT', { address, seconds: idleMs / 1000 })),
    );
    socket.on('error', (err) =>
      this.fail(
        new TentacleError(
          tlsLike(err) ? 'ERR_TLS' : 'ERR_CLOSED',
          { address, message: err.message },
          { cause: err },
        ),
      ),
    );
    socket.on('close', () => this.fail(new TentacleError('ERR_CLOSED', { address })));
  }

  /** Opens a connection (TLS and PASS included) ready for commands. */
  static async connect(opts: TentacleClientOptions): Promise<TentacleClient> {
    const port = opts.port ?? DEFAULT_PORT;
    const idleMs = inactivityMs(opts.timeout ?? 1, opts.retries ?? 3);
    const connectMs = opts.connectTimeout !== undefined ? opts.connectTimeout * 1000 : idleMs;
    const address = `${opts.host}:${port}`;
    const socket = await openSocket(opts, port, address, connectMs);
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
    if (this.busy) throw new TentacleError('ERR_BUSY', { address: this.address });
    this.busy = true;
    await this.quiet();
    this.socket.end('QUIT\n');
    const timer = setTimeout(() => this.socket.destroy(), 2000);
    await this.closedPromise;
    clearTimeout(timer);
    this.fail(new TentacleError('ERR_CLOSED', { address: this.address, command: 'QUIT' }));
  }

  /** Closes the connection at once; running and later calls reject with `err` or ERR_CLOSED. */
  destroy(err?: Error): void {
    this.fail(
      err instanceof TentacleError
        ? err
        : new TentacleError(
            'ERR_CLOSED',
            err ? { address: this.address, message: err.message } : { address: this.address },
            { cause: err },
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
      throw new TentacleError('ERR_BUSY', { address: this.address });
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
    // A Tentacle server refuses a password by ending the connection without a word; a reset, a
    // timeout or a close with an error is a dropped connection, whatever was sent before it.
    const refused = this.peerEnded && this.closed?.facts.message === undefined;
    if (this.passSent && closedKind && refused) {
      const e = new TentacleError(
        'ERR_AUTH',
        {
          address: this.address,
          credentials: this.presentedCert ? 'password, certificate' : 'password',
        },
        { cause: err },
      );
      this.fail(e);
      return e;
    }
    if (err instanceof TentacleError) return err;
    if (err instanceof LineError) {
      if (err.kind === 'closed') {
        // The peer ended the connection: nothing underneath said why.
        return this.closed ?? this.closedWith('ERR_CLOSED', {});
      }
      return this.closedWith('ERR_PROTOCOL', { message: err.message });
    }
    return this.closed ?? (err as Error);
  }

  private closedWith(code: TentacleErrorCode, facts: ErrorFacts): TentacleError {
    const e = new TentacleError(code, { address: this.address, ...facts });
    this.fail(e);
    return this.closed ?? e;
  }

  private unexpected(cmd: string, reply: string): TentacleError {
    return new TentacleError(reply.startsWith(`${cmd} ERR`) ? 'ERR_REPLY' : 'ERR_PROTOCOL', {
      address: this.address,
      command: cmd,
      reply,
    });
  }

  private checkName(name: string): string {
    if (/[\n>]/.test(name)) {
      throw new TentacleError('ERR_PROTOCOL', { address: this.address, name });
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
          throw this.closedWith('ERR_PROTOCOL', { command: cmd, name, sent, size: n });
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
    throw new TentacleError('ERR_TOO_BIG', {
      address: this.address,
      command: cmd,
      name,
      size,
      limit: bound,
    });
  }

  private async drained(): Promise<void> {
    try {
      await drain(this.socket);
    } catch {
      throw this.closed ?? new TentacleError('ERR_CLOSED', { address: this.address });
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
                    ? new TentacleError('ERR_TOO_BIG', {
                        address: this.address,
                        command: cmd,
                        name,
                        inflated: n,
                        limit: bound,
                      })
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
          { address: this.address, command: cmd, name, message: reasonOf(err) },
          { cause: err },
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
