/**
 * Reads a Tentacle connection by stream position: LF-terminated control lines (at most
 * MAX_LINE bytes, LF included, CR kept), then exact-length binary payloads handed over as a
 * Readable with backpressure. TCP and TLS may split a line anywhere, so nothing here relies
 * on chunk boundaries, except the reference's rule that bytes arriving in the same read as a
 * line (pipelining) make that line malformed.
 */
import { Readable } from 'node:stream';
import type { Duplex } from 'node:stream';
import { MAX_LINE } from './protocol';

export type LineErrorKind = 'closed' | 'too-long' | 'pipelined' | 'aborted';

export class LineError extends Error {
  constructor(
    readonly kind: LineErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'LineError';
  }
}

interface Waiter {
  resolve: (line: Buffer) => void;
  reject: (err: Error) => void;
  strict: boolean;
}

export class LineReader {
  private pending: Buffer = Buffer.alloc(0);
  private waiter: Waiter | null = null;
  private payload: { stream: Readable; remaining: number } | null = null;
  private failure: Error | null = null;
  private readonly onData = (chunk: Buffer) => this.data(chunk);
  private readonly onEnd = () =>
    this.fail(new LineError('closed', 'connection closed by the peer'));

  constructor(
    private readonly socket: Duplex,
    private readonly maxLine = MAX_LINE,
  ) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
  }

  /**
   * The next control line without its LF; rejects when the connection ends or misbehaves.
   * `strict` (default) refuses bytes that came together with the line; a lenient read keeps
   * them for the next read (used for the answer to an offer: after `MV OK` for a 0-byte file
   * a client rightly sends its next command at once, and the two may share a segment).
   */
  readLine(strict = true): Promise<Buffer> {
    if (this.waiter || this.payload) {
      return Promise.reject(new LineError('aborted', 'a read is already in progress'));
    }
    return new Promise<Buffer>((resolve, reject) => {
      this.waiter = { resolve, reject, strict };
      this.tryLine();
    });
  }

  /** Exactly `size` payload bytes as a stream; it errors if the connection ends first. */
  readPayload(size: number): Readable {
    const stream = new Readable({
      read: () => {
        if (this.payload?.stream === stream) this.socket.resume();
      },
    });
    // The peer may vanish before the consumer attaches (between `SEND OK` and the first
    // payload byte); consumers see the error through their own iteration, never as a crash.
    stream.on('error', () => {});
    if (this.failure) {
      const err = this.failure;
      process.nextTick(() => stream.destroy(err));
      return stream;
    }
    if (size === 0) {
      stream.push(null);
      return stream;
    }
    this.payload = { stream, remaining: size };
    if (this.pending.length > 0) {
      const buffered = this.pending;
      this.pending = Buffer.alloc(0);
      this.data(buffered);
    }
    this.socket.resume();
    return stream;
  }

  /** Ends every pending and later read with `err` (the one close path of a connection). */
  fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const w = this.waiter;
    this.waiter = null;
    w?.reject(err);
    const p = this.payload;
    this.payload = null;
    if (p) p.stream.destroy(err);
  }

  detach(): void {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
  }

  private data(chunk: Buffer): void {
    const p = this.payload;
    if (p) {
      const take = Math.min(p.remaining, chunk.length);
      const part = take === chunk.length ? chunk : chunk.subarray(0, take);
      p.remaining -= take;
      // A consumer that gave up still has the rest of the payload to skip, to stay in step.
      const more = p.stream.destroyed ? true : p.stream.push(part);
      if (p.remaining === 0) {
        this.payload = null;
        if (!p.stream.destroyed) p.stream.push(null);
      } else if (!more) {
        this.socket.pause();
      }
      if (take < chunk.length) this.data(chunk.subarray(take));
      return;
    }
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    if (this.waiter) this.tryLine();
    // Nobody asked for data: the peer is ahead of the lock-step; hold at most one line's worth.
    else if (this.pending.length > this.maxLine) this.socket.pause();
  }

  private tryLine(): void {
    const w = this.waiter;
    if (!w) return;
    const buf = this.pending;
    const lf = buf.indexOf(0x0a);
    if (lf < 0) {
      // A line that arrived whole before the close (QUIT sent together with the FIN) is still
      // served; only a read with nothing complete left fails.
      if (this.failure) {
        this.waiter = null;
        w.reject(this.failure);
        return;
      }
      if (buf.length >= this.maxLine) {
        this.waiter = null;
        w.reject(new LineError('too-long', `line longer than ${this.maxLine} bytes`));
      } else {
        this.socket.resume();
      }
      return;
    }
    this.waiter = null;
    if (lf + 1 > this.maxLine) {
      w.reject(new LineError('too-long', `line longer than ${this.maxLine} bytes`));
      return;
    }
    if (lf + 1 < buf.length && w.strict) {
      w.reject(new LineError('pipelined', 'data arrived together with a command line'));
      return;
    }
    this.pending = buf.subarray(lf + 1);
    w.resolve(buf.subarray(0, lf));
  }
}
