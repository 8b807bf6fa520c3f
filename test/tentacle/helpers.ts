/** Shared pieces of the Tentacle tests: temp storage, a server on a random port, a raw socket. */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TentacleServer, type TentacleServerOptions } from '../../lib/tentacle';

export async function tempDir(prefix = 'tentacle-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export interface Started {
  server: TentacleServer;
  port: number;
  storage: string;
}

export async function startServer(
  opts: Partial<TentacleServerOptions> & { storage?: string } = {},
): Promise<Started> {
  const storage = opts.storage ?? (await tempDir());
  const server = new TentacleServer({ address: '127.0.0.1', port: 0, ...opts, storage });
  const { port } = await server.start();
  return { server, port, storage };
}

/** Names in a directory, sorted; temp files included (to prove there are none). */
export async function listDir(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/** A plain socket speaking bytes, for input the client would never send. */
export class RawPeer {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.wake();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.wake();
        resolve();
      }),
    );
  }

  static connect(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(new RawPeer(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  private async waitFor(ok: () => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!ok()) {
      if (this.isClosed) throw new Error(`closed; buffered ${JSON.stringify(this.buf.toString())}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for data');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async line(ms = 5000): Promise<string> {
    await this.waitFor(() => this.buf.includes(0x0a), ms);
    const i = this.buf.indexOf(0x0a);
    const l = this.buf.subarray(0, i).toString('utf8');
    this.buf = this.buf.subarray(i + 1);
    return l;
  }

  async bytes(n: number, ms = 5000): Promise<Buffer> {
    await this.waitFor(() => this.buf.length >= n, ms);
    const b = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return b;
  }

  /** Resolves true if the server closed within `ms` without sending anything more. */
  async closesSilently(ms = 5000): Promise<boolean> {
    const t = new Promise<boolean>((r) => setTimeout(() => r(false), ms));
    const closed = await Promise.race([this.closed.then(() => true), t]);
    return closed && this.buf.length === 0;
  }

  buffered(): string {
    return this.buf.toString('utf8');
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export { sleep } from '../helpers/wait';
