/**
 * `dbHost` as a list, `host[:port],host[:port]...` (a Galera cluster without a proxy in front):
 * every new connection tries the hosts in order and uses the first that accepts it, so the
 * members of a cluster go on with another node when theirs dies. A pool discards a connection
 * whose server went away, and the next one it opens lands on a live node.
 */
import { connect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';

export interface HostPort {
  host: string;
  port: number;
}

/** The hosts of a `dbHost` value (one or several, comma-separated); `port` where none is given. */
export function parseHostList(text: string, port: number): HostPort[] {
  const out: HostPort[] = [];
  for (const part of text.split(',')) {
    const item = part.trim();
    if (!item) continue;
    // `[v6]:port`, `v6` (several colons, no port), `host:port`, `host`.
    const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(item);
    if (bracket) {
      out.push({ host: bracket[1], port: bracket[2] ? Number(bracket[2]) : port });
      continue;
    }
    const colon = item.lastIndexOf(':');
    if (colon > 0 && item.indexOf(':') === colon) {
      const p = Number(item.slice(colon + 1));
      if (!Number.isInteger(p) || p < 1 || p > 65535) {
        throw new RangeError(`dbHost: "${item}" has no valid port`);
      }
      out.push({ host: item.slice(0, colon), port: p });
    } else {
      out.push({ host: item, port });
    }
  }
  if (out.length === 0) throw new RangeError('dbHost is empty');
  return out;
}

/**
 * A stream for the MySQL client that connects to the first of `hosts` that accepts (each tried
 * for at most `attemptMs`), then passes bytes through. What the client writes before that waits.
 */
export class FirstReachable extends Duplex {
  private socket: Socket | null = null;
  private readonly waiting: { chunk: Buffer; done: (err?: Error | null) => void }[] = [];

  constructor(
    private readonly hosts: readonly HostPort[],
    private readonly attemptMs: number,
  ) {
    super();
    this.attempt(0, null);
  }

  private attempt(i: number, last: Error | null): void {
    if (this.destroyed) return;
    const h = this.hosts[i];
    if (!h) {
      this.destroy(last ?? new Error('no database host to connect to'));
      return;
    }
    const s = connect({ host: h.host, port: h.port });
    const fail = (err: Error): void => {
      s.destroy();
      this.attempt(i + 1, err);
    };
    s.setTimeout(this.attemptMs, () => fail(new Error(`connect ETIMEDOUT ${h.host}:${h.port}`)));
    s.once('error', fail);
    s.once('connect', () => {
      s.setTimeout(0);
      s.off('error', fail);
      s.setNoDelay(true);
      s.setKeepAlive(true);
      this.socket = s;
      s.on('data', (d: Buffer) => {
        if (!this.push(d)) s.pause();
      });
      s.on('end', () => this.push(null));
      s.on('error', (err) => this.destroy(err));
      s.on('close', () => this.destroy());
      for (const w of this.waiting.splice(0)) s.write(w.chunk, w.done);
      this.emit('connect');
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.socket) this.socket.write(chunk, done);
    else this.waiting.push({ chunk, done });
  }

  override _read(): void {
    this.socket?.resume();
  }

  override _final(done: (err?: Error | null) => void): void {
    this.socket?.end();
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.socket?.destroy();
    for (const w of this.waiting.splice(0)) w.done(err ?? new Error('connection closed'));
    done(err);
  }
}
