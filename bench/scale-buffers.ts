/**
 * One puller draining many buffers: N TentacleServers in this process on 127.0.0.1 random ports,
 * then 2N, each holding F files; one SyncPuller (safe mode) drains them all in one round.
 * Baseline in the same run: the raw client LS + MV every file of every buffer (bytes thrown
 * away, no fsync), with the same number of buffers at a time.
 *
 *   node dist/bench/scale-buffers.js [buffers=100] [filesEach=50] [size=2048] [concurrency=8]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BufferEndpoint } from '../lib/conf/pandora-conf';
import { compilePattern, takeableNames } from '../lib/sync/names';
import { SyncPuller } from '../lib/sync/puller';
import { TentacleClient } from '../lib/tentacle/client';
import { TentacleServer } from '../lib/tentacle/server';

const buffers = Number(process.argv[2] ?? 100);
const each = Number(process.argv[3] ?? 50);
const size = Number(process.argv[4] ?? 2048);
const concurrency = Number(process.argv[5] ?? 8);
const root = mkdtempSync(join(tmpdir(), 'bench-scale-buffers-'));
const pattern = compilePattern('');

async function start(
  n: number,
  tag: string,
): Promise<{ servers: TentacleServer[]; ends: BufferEndpoint[] }> {
  const servers: TentacleServer[] = [];
  const ends: BufferEndpoint[] = [];
  const body = Buffer.alloc(size, 0x61);
  for (let b = 0; b < n; b++) {
    const storage = join(root, `${tag}-${b}`);
    mkdirSync(storage, { recursive: true });
    for (let i = 0; i < each; i++)
      writeFileSync(join(storage, `agent${b}.${100000 + i}.data`), body);
    const s = new TentacleServer({
      address: '127.0.0.1',
      port: 0,
      storage,
      maxConnections: 16,
      timeout: 30,
    });
    const { port } = await s.start();
    servers.push(s);
    ends.push({ host: '127.0.0.1', port, address: `127.0.0.1:${port}` });
  }
  return { servers, ends };
}

async function pool<T>(items: T[], width: number, work: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

async function baseline(n: number): Promise<{ ms: number; files: number }> {
  const b = await start(n, `raw${n}`);
  let files = 0;
  const t0 = performance.now();
  await pool(b.ends, concurrency, async (e) => {
    const c = await TentacleClient.connect({ host: e.host, port: e.port, timeout: 30 });
    for (const name of takeableNames(await c.ls(''), pattern)) {
      await c.mv(name, async (data) => {
        for await (const chunk of data) void chunk;
      });
      files++;
    }
    await c.quit();
  });
  const ms = performance.now() - t0;
  await Promise.all(b.servers.map((s) => s.close('done', 100)));
  return { ms, files };
}

async function puller(n: number): Promise<{ ms: number; files: number }> {
  const b = await start(n, `pull${n}`);
  const incomingDir = join(root, `in${n}`);
  const p = new SyncPuller({
    buffers: b.ends,
    incomingDir,
    pattern,
    safe: true,
    concurrency,
    connections: 2,
    timeout: 30,
    retries: 3,
  });
  const t0 = performance.now();
  const sums = await p.requestRound();
  const ms = performance.now() - t0;
  const errors = sums.filter((s) => s.error);
  if (errors.length) console.error(`${errors.length} buffers failed: ${errors[0].error}`);
  await p.close();
  await Promise.all(b.servers.map((s) => s.close('done', 100)));
  return { ms, files: sums.reduce((x, s) => x + s.files, 0) };
}

async function main(): Promise<void> {
  console.log(
    `scale-buffers: ${each} files of ${size} B per buffer, buffers N=${buffers} and 2N, ${concurrency} buffers at a time`,
  );
  const ms: Record<string, number> = {};
  for (const n of [buffers, 2 * buffers]) {
    const base = await baseline(n);
    const ours = await puller(n);
    ms[`b${n}`] = base.ms;
    ms[`o${n}`] = ours.ms;
    const rate = (r: { ms: number; files: number }) => ((r.files / r.ms) * 1000).toFixed(0);
    console.log(
      `baseline raw LS+MV, ${n} buffers: ${base.files} files in ${(base.ms / 1000).toFixed(2)} s = ${rate(base)} files/s`,
    );
    console.log(
      `SyncPuller safe, ${n} buffers:     ${ours.files} files in ${(ours.ms / 1000).toFixed(2)} s = ${rate(ours)} files/s (${((base.ms / ours.ms) * 100).toFixed(0)}% of baseline speed)`,
    );
  }
  console.log(
    `growth N->2N buffers: puller time x${(ms[`o${2 * buffers}`] / ms[`o${buffers}`]).toFixed(2)} (baseline x${(ms[`b${2 * buffers}`] / ms[`b${buffers}`]).toFixed(2)})`,
  );
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => rmSync(root, { recursive: true, force: true }));
