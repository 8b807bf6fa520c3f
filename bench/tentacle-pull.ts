/**
 * Sync server drain speed: N files of S bytes from one buffer and from four buffers, by the
 * puller in safe mode (RECV, store, MV; pipelined) and MV-direct mode, beside a baseline
 * measured in the same run: the raw engine client, LS + MV loop on one connection, bytes thrown
 * away, nothing written.
 *
 * The buffers run in child processes with their storage on BENCH_BUFFER_DIR (default /dev/shm
 * when present): a buffer is another host, its disk is not the centre's. The incoming
 * directories go under BENCH_DIR (default the temp directory) and are removed only at the end,
 * so that no run pays for the deletions of the one before (on an ext4 without a journal, a new
 * inode is searched past every inode deleted in the last half minute or so).
 *
 *   BENCH_DIR=/mnt/ext4 node dist/bench/tentacle-pull.js [files=10000] [size=4096] [connections=8]
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BufferEndpoint } from '../lib/conf/pandora-conf';
import { compilePattern, takeableNames } from '../lib/sync/names';
import { SyncPuller } from '../lib/sync/puller';
import { TentacleClient } from '../lib/tentacle/client';
import { ChildServer } from '../test/faults/child-server';
import { agentXml } from '../test/helpers/agent-xml';

const files = Number(process.argv[2] ?? process.env.FILES ?? 10_000);
const size = Number(process.argv[3] ?? process.env.SIZE ?? 4096);
const connections = Number(process.argv[4] ?? process.env.CONNECTIONS ?? 8);
const bufferRoot = mkdtempSync(
  join(process.env.BENCH_BUFFER_DIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir()), 'bp-'),
);
const root = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'bench-pull-'));
const pattern = compilePattern('');

interface Buffers {
  servers: ChildServer[];
  endpoints: BufferEndpoint[];
}

async function startBuffers(count: number, total: number, tag: string): Promise<Buffers> {
  const servers: ChildServer[] = [];
  const endpoints: BufferEndpoint[] = [];
  for (let b = 0; b < count; b++) {
    const storage = join(bufferRoot, `${tag}-buffer-${b}`);
    mkdirSync(storage, { recursive: true });
    for (let i = b; i < total; i += count) {
      writeFileSync(join(storage, `agent${b}.${100000 + i}.data`), agentXml(`agent${b}`, i, size));
    }
    const server = await ChildServer.start({
      address: '127.0.0.1',
      port: 0,
      storage,
      insecure: true,
      maxConnections: 32,
      timeout: 5,
      retries: 3,
    });
    servers.push(server);
    endpoints.push({ host: '127.0.0.1', port: server.port, address: `127.0.0.1:${server.port}` });
  }
  return { servers, endpoints };
}

async function stop(b: Buffers): Promise<void> {
  await Promise.all(b.servers.map((s) => s.stop()));
}

interface Figure {
  label: string;
  files: number;
  ms: number;
  /** This process's CPU (ms): user, system. */
  user: number;
  sys: number;
  /** The buffer processes' CPU (ms), user + system. */
  buffers: number;
}

/** CPU ms (user + system) of a process, from /proc (0 where there is none). */
function cpuOf(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

async function measure(label: string, b: Buffers, work: () => Promise<number>): Promise<Figure> {
  const buffersCpu = () => b.servers.reduce((x, s) => x + cpuOf(s.child.pid), 0);
  const before = process.resourceUsage();
  const bufBefore = buffersCpu();
  const t0 = performance.now();
  const n = await work();
  const ms = performance.now() - t0;
  const after = process.resourceUsage();
  return {
    label,
    files: n,
    ms,
    user: (after.userCPUTime - before.userCPUTime) / 1000,
    sys: (after.systemCPUTime - before.systemCPUTime) / 1000,
    buffers: buffersCpu() - bufBefore,
  };
}

async function baseline(count: number): Promise<Figure> {
  const b = await startBuffers(count, files, `raw${count}`);
  const f = await measure(`raw client LS+MV, 1 conn/buffer, ${count} buffer(s)`, b, async () => {
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
    return n;
  });
  await stop(b);
  return f;
}

async function puller(count: number, safe: boolean): Promise<Figure> {
  const tag = `${safe ? 'safe' : 'mv'}${count}`;
  const b = await startBuffers(count, files, tag);
  const p = new SyncPuller({
    buffers: b.endpoints,
    incomingDir: join(root, `in-${tag}`),
    pattern,
    safe,
    connections,
    concurrency: 4,
    timeout: 5,
    retries: 3,
  });
  const label = `puller ${safe ? 'safe (RECV+fsync+MV)' : 'MV-direct (+fsync)'}, ${connections} conn/buffer, ${count} buffer(s)`;
  const f = await measure(label, b, async () => {
    const summaries = await p.requestRound();
    const errors = summaries.filter((s) => s.error).map((s) => s.error);
    if (errors.length) console.error(errors.join('\n'));
    return summaries.reduce((x, s) => x + s.files, 0);
  });
  await p.close();
  await stop(b);
  return f;
}

function show(f: Figure, base?: Figure): void {
  const perS = (f.files / f.ms) * 1000;
  const rel = base ? `  ${((base.ms / f.ms) * 100).toFixed(0)}% of baseline speed` : '';
  const us = (ms: number) => ((ms / f.files) * 1000).toFixed(0);
  const cpu = `CPU/file: here ${us(f.user)} us user + ${us(f.sys)} us sys, buffers ${us(f.buffers)} us`;
  console.log(
    `${f.label.padEnd(62)} ${String(f.files).padStart(6)} files ${(f.ms / 1000).toFixed(2).padStart(6)} s ` +
      `${perS.toFixed(0).padStart(6)} files/s  ${cpu}${rel}`,
  );
}

async function main(): Promise<void> {
  console.log(
    `tentacle-pull bench: ${files} agent files of ${size} bytes, ${connections} connections per buffer; ` +
      `buffers in child processes on ${bufferRoot}, incoming under ${root}`,
  );
  try {
    for (const count of [1, 4]) {
      const base = await baseline(count);
      show(base);
      const safe = await puller(count, true);
      show(safe, base);
      const direct = await puller(count, false);
      show(direct, base);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(bufferRoot, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
