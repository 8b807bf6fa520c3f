/** A raw socket speaking bytes to a Tentacle server, for input no real client would send. */
import net from 'node:net';

export class RawPeer {
  private buf: Buffer = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, c]) : c;
      this.wake?.();
    });
    socket.on('error', () => undefined);
    socket.once('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  static connect(port: number, ms = 10_000): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port });
      const t = setTimeout(() => {
        s.destroy();
        reject(new Error('connect timed out'));
      }, ms);
      s.once('connect', () => {
        clearTimeout(t);
        s.setNoDelay(true);
        resolve(new RawPeer(s));
      });
      s.once('error', (err) => {
        clearTimeout(t);
        reject(err);
      });
    });
  }

  write(data: string | Buffer): void {
    if (!this.closed) this.socket.write(data);
  }

  private async until(ok: () => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!ok()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = null;
    }
    return true;
  }

  /** The next line from the server (without LF), or null when it closed or stayed silent. */
  async line(ms = 10_000): Promise<string | null> {
    await this.until(() => this.buf.includes(0x0a) || this.closed, ms);
    const i = this.buf.indexOf(0x0a);
    if (i < 0) return null;
    const l = this.buf.subarray(0, i).toString('utf8');
    this.buf = this.buf.subarray(i + 1);
    return l;
  }

  async bytes(n: number, ms = 10_000): Promise<Buffer | null> {
    await this.until(() => this.buf.length >= n || this.closed, ms);
    if (this.buf.length < n) return null;
    const b = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return b;
  }

  /** True when the server closed within `ms` and sent nothing more. */
  async closesSilently(ms = 10_000): Promise<boolean> {
    await this.until(() => this.closed || this.buf.length > 0, ms);
    if (this.buf.length === 0 && !this.closed) return false;
    await this.until(() => this.closed, ms);
    return this.closed && this.buf.length === 0;
  }

  /** What the server sent that nobody read yet. */
  pending(): string {
    return this.buf.toString('utf8');
  }

  destroy(): void {
    this.socket.destroy();
  }
}
