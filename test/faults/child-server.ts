/** The parent side of tentacle-child: starts the server in a child process and watches it. */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { TentacleServerOptions } from '../../lib/tentacle/server';
import type { ChildReport } from './tentacle-child';

export class ChildServer {
  readonly crashes: string[] = [];
  port = 0;
  private rssWaiters: ((rss: number) => void)[] = [];
  private exited = false;

  private constructor(readonly child: ChildProcess) {
    child.on('message', (m: ChildReport) => {
      if (m.type === 'crash') this.crashes.push(m.error);
      if (m.type === 'rss') for (const w of this.rssWaiters.splice(0)) w(m.rss);
    });
    child.once('exit', () => {
      this.exited = true;
      for (const w of this.rssWaiters.splice(0)) w(NaN);
    });
  }

  static async start(opts: TentacleServerOptions): Promise<ChildServer> {
    const child = fork(join(__dirname, 'tentacle-child.js'), [JSON.stringify(opts)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const cs = new ChildServer(child);
    cs.port = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('tentacle child did not start')), 20_000);
      child.on('message', (m: ChildReport) => {
        if (m.type === 'listening') {
          clearTimeout(t);
          resolve(m.port);
        }
      });
      child.once('exit', (code) => reject(new Error(`tentacle child exited (${code})`)));
    });
    return cs;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** The child's RSS in bytes (NaN once it is dead). */
  rss(): Promise<number> {
    if (this.exited) return Promise.resolve(NaN);
    return new Promise((resolve) => {
      this.rssWaiters.push(resolve);
      this.child.send('rss');
    });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.send('close');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  }
}
