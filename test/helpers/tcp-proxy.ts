/**
 * A loopback TCP proxy for fault tests: it relays each accepted connection to a target port and
 * can cut the link (both sides destroyed, like a cable pulled) once a chosen number of bytes has
 * crossed it, counted over both directions. The bytes before the cut point are delivered, the
 * rest never are, so a cut can land anywhere: inside a command line, a reply, a payload.
 */
import net from 'node:net';

export interface CutPlan {
  /** Bytes (both directions together) relayed before the link is cut; null = never cut. */
  afterBytes: number | null;
}

export interface TcpProxyOptions {
  targetPort: number;
  targetHost?: string;
  /** Asked once per accepted connection, in order (0-based). Default: never cut. */
  plan?: (connection: number) => CutPlan;
}

export interface TcpProxyStats {
  connections: number;
  cuts: number;
  /** Where each cut landed, in bytes since the connection opened. */
  cutOffsets: number[];
  bytes: number;
}

export class TcpProxy {
  port = 0;
  readonly stats: TcpProxyStats = { connections: 0, cuts: 0, cutOffsets: [], bytes: 0 };
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly options: TcpProxyOptions) {
    this.server = net.createServer((client) => this.relay(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Cuts every open link now (a network outage). */
  cutAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.cutAll();
    await closed;
  }

  private relay(client: net.Socket): void {
    const n = this.stats.connections++;
    const limit = this.options.plan ? this.options.plan(n).afterBytes : null;
    const upstream = net.connect({
      host: this.options.targetHost ?? '127.0.0.1',
      port: this.options.targetPort,
    });
    let seen = 0;
    let cut = false;
    const pair = [client, upstream];
    for (const s of pair) {
      this.sockets.add(s);
      s.setNoDelay(true);
      s.on('error', () => undefined);
      s.once('close', () => {
        this.sockets.delete(s);
        for (const o of pair) o.destroy();
      });
    }
    const cutNow = () => {
      if (cut) return;
      cut = true;
      this.stats.cuts++;
      this.stats.cutOffsets.push(seen);
      for (const s of pair) s.destroy();
    };
    if (limit === 0) {
      cutNow();
      return;
    }
    let exhausted = false;
    const pipe = (from: net.Socket, to: net.Socket) => {
      from.on('data', (chunk: Buffer) => {
        if (cut || exhausted) return;
        let part = chunk;
        if (limit !== null && seen + chunk.length >= limit) {
          part = chunk.subarray(0, limit - seen);
          exhausted = true;
        }
        seen += part.length;
        this.stats.bytes += part.length;
        if (exhausted) {
          // Let the allowed bytes leave before cutting, so the cut lands at the exact offset.
          if (part.length > 0) to.write(part, () => cutNow());
          setTimeout(cutNow, part.length > 0 ? 50 : 0).unref();
          return;
        }
        if (!to.write(part)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
      from.on('end', () => to.end());
    };
    // Client bytes wait until upstream is connected.
    client.pause();
    upstream.once('connect', () => {
      pipe(client, upstream);
      pipe(upstream, client);
      client.resume();
    });
  }
}
