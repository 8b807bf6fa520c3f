/**
 * The puller's connections to its buffers: the Tentacle client's options from the puller's, and
 * every open connection, so that close() drops them all at once (files not yet removed from a
 * buffer stay there).
 */
import type { BufferEndpoint } from '../conf/pandora-conf';
import { TentacleClient, type TentacleClientOptions } from '../tentacle/client';
import type { ResolvedSyncOptions } from './options';
import type { SyncError } from './errors';

type ConnectionOptions = Pick<
  ResolvedSyncOptions,
  'tls' | 'password' | 'timeout' | 'retries' | 'connectTimeoutMs' | 'maxSize'
>;

export function clientOptions(b: BufferEndpoint, o: ConnectionOptions): TentacleClientOptions {
  const out: TentacleClientOptions = {
    host: b.host,
    port: b.port,
    timeout: o.timeout,
    retries: o.retries,
    maxSize: o.maxSize,
    connectTimeout: o.connectTimeoutMs / 1000,
  };
  const { tls } = o;
  if (tls && (tls.cert || tls.ca)) {
    out.tls = {};
    if (tls.cert) out.tls.cert = tls.cert;
    if (tls.key) out.tls.key = tls.key;
    if (tls.ca) out.tls.ca = tls.ca;
  }
  if (o.password) out.password = o.password;
  return out;
}

export class Connections {
  private readonly live = new Set<TentacleClient>();
  private closedWith: SyncError | null = null;

  constructor(private readonly opts: ConnectionOptions) {}

  /** A new connection to `b`; throws the closed error once close() was called. */
  async open(b: BufferEndpoint): Promise<TentacleClient> {
    if (this.closedWith) throw this.closedWith;
    const c = await TentacleClient.connect(clientOptions(b, this.opts));
    if (this.closedWith) {
      c.destroy();
      throw this.closedWith;
    }
    this.live.add(c);
    return c;
  }

  /** Ends a connection: QUIT when `polite` (the buffer removes a moved file then), else drop. */
  async release(c: TentacleClient | null, polite: boolean): Promise<void> {
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

  get closed(): boolean {
    return this.closedWith !== null;
  }

  /** Drops every open connection; later calls to open() fail with `reason`. */
  closeAll(reason: SyncError): void {
    this.closedWith = reason;
    for (const c of this.live) c.destroy();
    this.live.clear();
  }
}
