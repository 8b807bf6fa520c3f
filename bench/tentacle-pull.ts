/**
 * Sync server drain speed: N files of S bytes from one buffer and from four buffers, by the
 * puller in safe mode (RECV, store, MV) and MV-direct mode, beside a baseline measured in the
 * same run: the raw engine client, LS + MV loop on one connection, bytes kept in memory, no fsync.
 *
 *   node dist/bench/tentacle-pull.js [files=10000] [size=4096] [connections=4]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BufferEndpoint } from '../lib/conf/pandora-conf';
import { compilePattern, takeableNames } from '../lib/sync/names';
import { SyncPuller } from '../lib/sync/puller';
import { TentacleClient } from '../lib/tentacle/client';
import { TentacleServer } from '../lib/tentacle/server';

const files = Number(process.argv[2] ?? process.env.FILES ?? 10_000);
const size = Number(process.argv[3] ?? process.env.SIZE ?? 4096);
const connections = Number(process.argv[4] ?? process.env.CONNECTIONS ?? 4);
const root = mkdtempSync(join(tmpdir(), 'bench-pull-'));
const pattern = compilePattern('');

interface Buffers {
  servers: TentacleServer[];
  endpoints: BufferEndpoint[];
}

async function startBuffers(count: number, total: number, tag: string): Promise<Buffers> {
  const servers: TentacleServer[] = [];
  const endpoints: BufferEndpoint[] = [];
  const body = Buffer.alloc(size, 0x61);
  for (let b = 0; b < count; b++) {
    const storage = join(root, `${tag}-buffer-${b}`);
    mkdirSync(storage, { recursive: true });
    for (let i = b; i < total; i += count) {
      writeFileSync(join(storage, `agent${b}.${100000 + i}.data`), body);
    }
    const server = new TentacleServer({
      address: '127.0.0.1',
      port: 0,
      storage,
      insecure: true,
      maxConnections: 32,
      timeout: 5,
      retries: 3,
    });
    const { port } = await server.listen();
    servers.push(server);
    endpoints.push({ host: '127.0.0.1', port, address: `127.0.0.1:${port}` });
  }
  return { servers, endpoints };
}

async function stop(b: Buffers): Promise<void> {
  await Promise.all(b.servers.map((s) => s.close(100)));
}

interface Figure {
  label: string;
  files: number;
  ms: number;
}

async function baseline(count: number): Promise<Figure> {
  const b = await startBuffers(count, files, `raw${count}`);
  const t0 = performance.now();
  let n = 0;
  await Promise.all(
    b.endpoints.map(async (e) => {
      const c = await TentacleClient.connect({ host: e.host, port: e.port, timeout: 5 });
      const names = takeableNames(await c.ls(''), pattern);
      for (const name of names) {
        await c.mv(name, async (data) => {
          for await (const chunk of data) void chunk;
        });
        n++;
      }
      await c.quit();
    }),
  );
  const ms = performance.now() - t0;
  await stop(b);
  return { label: `raw client LS+MV, 1 conn/buffer, ${count} buffer(s)`, files: n, ms };
}

async function puller(count: number, safe: boolean): Promise<Figure> {
  const b = await startBuffers(count, files, `${safe ? 'safe' : 'mv'}${count}`);
  const incomingDir = join(root, `in-${safe ? 'safe' : 'mv'}-${count}`);
  const p = new SyncPuller({
    buffers: b.endpoints,
    incomingDir,
    pattern,
    safe,
    connections,
    concurrency: 4,
    timeout: 5,
    retries: 3,
  });
  const t0 = performance.now();
  const summaries = await p.requestRound();
  const ms = performance.now() - t0;
  const n = summaries.reduce((x, s) => x + s.files, 0);
  const errors = summaries.filter((s) => s.error).map((s) => s.error);
  if (errors.length) console.error(errors.join('\n'));
  await p.close();
  await stop(b);
  rmSync(incomingDir, { recursive: true, force: true });
  return {
    label: `puller ${safe ? 'safe (RECV+fsync+MV)' : 'MV-direct (+fsync)'}, ${connections} conn/buffer, ${count} buffer(s)`,
    files: n,
    ms,
  };
}

function show(f: Figure, base?: Figure): void {
  const perS = (f.files / f.ms) * 1000;
  const mbS = (f.files * size) / 1_048_576 / (f.ms / 1000);
  const rel = base ? `  (${((base.ms / f.ms) * 100).toFixed(0)}% of baseline speed)` : '';
  console.log(
    `${f.label.padEnd(70)} ${String(f.files).padStart(6)} files ${(f.ms / 1000).toFixed(2).padStart(7)} s ` +
      `${perS.toFixed(0).padStart(6)} files/s ${mbS.toFixed(2).padStart(7)} MB/s${rel}`,
  );
}

async function main(): Promise<void> {
  console.log(
    `tentacle-pull bench: ${files} files of ${size} bytes, ${connections} connections per buffer`,
  );
  try {
    for (const count of [1, 4]) {
      const base = await baseline(count);
      show(base);
      const safe = await puller(count, true);
      show(safe, base);
      const direct = await puller(count, false);
      show(direct, base);
      console.log(
        `  cost of safe mode with ${count} buffer(s): ${((safe.ms / direct.ms - 1) * 100).toFixed(0)}% more time than MV-direct`,
      );
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
