/** Buffers (our engine's TentacleServer) and files for the Sync server tests. */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { TentacleServer, type TentacleServerOptions } from '../../lib/tentacle/server';
import type { BufferEndpoint } from '../../lib/conf/pandora-conf';

export interface TestBuffer {
  server: TentacleServer;
  storage: string;
  endpoint: BufferEndpoint;
}

import { tempDir } from '../helpers/files';

export { sha1, tempDir } from '../helpers/files';

/** Starts a buffer on 127.0.0.1, a random port, holding `files` (name -> content). */
export async function startBuffer(
  files: Record<string, Buffer | string> = {},
  opts: Partial<TentacleServerOptions> = {},
): Promise<TestBuffer> {
  const storage = opts.storage ?? tempDir('sync-buffer-');
  mkdirSync(storage, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(storage, name), content);
  const server = new TentacleServer({
    address: '127.0.0.1',
    port: 0,
    insecure: true,
    timeout: 2,
    retries: 3,
    ...opts,
    storage,
  });
  const { port } = await server.start();
  return { server, storage, endpoint: { host: '127.0.0.1', port, address: `127.0.0.1:${port}` } };
}

/** A port where nothing listens (connections refused). */
export async function refusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** `count` agent data files of `size` bytes, with distinct contents. */
export function dataFiles(prefix: string, count: number, size = 512): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (let i = 0; i < count; i++) {
    const head = Buffer.from(`<agent_data agent_name="${prefix}" seq="${i}">`);
    const body = Buffer.alloc(Math.max(0, size - head.length), 0x61 + (i % 26));
    out[`${prefix}.${1000 + i}.data`] = Buffer.concat([head, body]).subarray(0, size);
  }
  return out;
}

/** Regular files of a directory (not subdirectories), name -> sha1. */
export function filesIn(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (!statSync(p).isFile()) continue;
    out.set(name, createHash('sha1').update(readFileSync(p)).digest('hex'));
  }
  return out;
}

export { waitFor as until } from '../helpers/wait';
