/**
 * One big file through the pair: an agent SENDs it to a buffer (a TentacleServer in a child
 * process), then a Sync puller (in a child process, safe mode) drains it into incomingDir.
 * Peak RSS (VmHWM) of both child processes is read from /proc, to show that memory does not grow
 * with the file size. Runs at S MiB and at 4S MiB (default 256 MiB and 1 GiB). Baseline in the
 * same run: a streaming copy of the same file to another file plus fsync (the disk work without
 * the network and the protocol).
 *
 *   node dist/bench/scale-bigfile.js [mib=256] [safe|mv]
 */
import { ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { TentacleClient } from '../lib/tentacle/client';

const mib = Number(process.argv[2] ?? 256);
const safe = (process.argv[3] ?? 'safe') !== 'mv';
const root = mkdtempSync(join(tmpdir(), 'bench-scale-bigfile-'));
const BUFFER_CHILD = join(__dirname, '..', 'test', 'faults', 'tentacle-child.js');
const PULLER_CHILD = join(__dirname, '..', 'test', 'faults', 'pull-child.js');

function hwmMiB(pid: number | undefined): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Polls a child's peak RSS until it exits (the kernel keeps VmHWM as a high-water mark). */
function watchPeak(child: ChildProcess): { peak: () => number } {
  let peak = 0;
  const t = setInterval(() => (peak = Math.max(peak, hwmMiB(child.pid))), 50);
  child.once('exit', () => clearInterval(t));
  return { peak: () => Math.max(peak, hwmMiB(child.pid)) };
}

async function makeFile(path: string, size: number): Promise<void> {
  const block = randomBytes(1 << 20);
  const out = createWriteStream(path);
  for (let done = 0; done < size; done += block.length) {
    if (!out.write(block.subarray(0, Math.min(block.length, size - done)))) {
      await new Promise<void>((r) => out.once('drain', () => r()));
    }
  }
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
}

async function baseline(src: string): Promise<number> {
  const dst = join(root, 'copy.data');
  const t0 = performance.now();
  await pipeline(createReadStream(src), createWriteStream(dst));
  const fh = await open(dst, 'r+');
  await fh.sync();
  await fh.close();
  const ms = performance.now() - t0;
  rmSync(dst);
  return ms;
}

async function pair(
  src: string,
  size: number,
): Promise<{ sendMs: number; drainMs: number; bufferPeak: number; pullerPeak: number }> {
  const storage = join(root, `storage-${size}`);
  const incomingDir = join(root, `in-${size}`);
  mkdirSync(storage);
  const buffer = fork(BUFFER_CHILD, [JSON.stringify({ storage, maxSize: size + 1, timeout: 60 })], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const bufferPeak = watchPeak(buffer);
  const port = await new Promise<number>((resolve) =>
    buffer.on('message', (m: { type: string; port?: number }) => {
      if (m.type === 'listening') resolve(m.port!);
    }),
  );
  const c = await TentacleClient.connect({ host: '127.0.0.1', port, timeout: 60 });
  let t0 = performance.now();
  await c.send('big.data', src, size);
  const sendMs = performance.now() - t0;
  await c.quit();
  t0 = performance.now();
  const puller = fork(PULLER_CHILD, [JSON.stringify({ port, incomingDir, safe })], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pullerPeak = watchPeak(puller);
  const code = await new Promise<number | null>((r) => puller.once('exit', (c2) => r(c2)));
  const drainMs = performance.now() - t0;
  if (code !== 0) throw new Error(`puller exited ${code}`);
  const got = statSync(join(incomingDir, 'big.data')).size;
  if (got !== size) throw new Error(`delivered ${got} of ${size} bytes`);
  const result = { sendMs, drainMs, bufferPeak: bufferPeak.peak(), pullerPeak: pullerPeak.peak() };
  buffer.send('close');
  await new Promise((r) => buffer.once('exit', r));
  rmSync(storage, { recursive: true, force: true });
  rmSync(incomingDir, { recursive: true, force: true });
  return result;
}

async function main(): Promise<void> {
  console.log(
    `scale-bigfile: one file of ${mib} MiB, then ${4 * mib} MiB, agent -> buffer -> puller (${safe ? 'safe: RECV, store, MV' : 'MV only'})`,
  );
  const rows: {
    size: number;
    base: number;
    sendMs: number;
    drainMs: number;
    bufferPeak: number;
    pullerPeak: number;
  }[] = [];
  for (const m of [mib, 4 * mib]) {
    const size = m * 1024 * 1024;
    const src = join(root, `src-${m}.data`);
    await makeFile(src, size);
    const base = await baseline(src);
    const r = await pair(src, size);
    rmSync(src);
    rows.push({ size: m, base, ...r });
    const mbs = (ms: number) => (m / (ms / 1000)).toFixed(0);
    console.log(
      `baseline stream copy + fsync, ${m} MiB: ${(base / 1000).toFixed(2)} s = ${mbs(base)} MiB/s`,
    );
    console.log(
      `agent SEND ${m} MiB: ${(r.sendMs / 1000).toFixed(2)} s = ${mbs(r.sendMs)} MiB/s; puller drain: ${(r.drainMs / 1000).toFixed(2)} s = ${mbs(r.drainMs)} MiB/s (incl. process start)`,
    );
    console.log(
      `peak RSS: buffer ${r.bufferPeak.toFixed(0)} MiB, puller ${r.pullerPeak.toFixed(0)} MiB`,
    );
  }
  const [a, b] = rows;
  console.log(
    `growth ${a.size} -> ${b.size} MiB (x4): send time x${(b.sendMs / a.sendMs).toFixed(2)}, drain x${(b.drainMs / a.drainMs).toFixed(2)}, baseline x${(b.base / a.base).toFixed(2)}; peak RSS buffer ${a.bufferPeak.toFixed(0)} -> ${b.bufferPeak.toFixed(0)} MiB, puller ${a.pullerPeak.toFixed(0)} -> ${b.pullerPeak.toFixed(0)} MiB`,
  );
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => rmSync(root, { recursive: true, force: true }));
