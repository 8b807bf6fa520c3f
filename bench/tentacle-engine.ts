/**
 * Tentacle engine throughput on loopback, beside a raw TCP copy of the same bytes:
 *   node dist/bench/tentacle-engine.js [files=5000] [fileKiB=4] [bigMiB=1024]
 * The server runs in a child process so its peak RSS during the big transfer can be sampled.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { TentacleClient, TentacleServer } from '../lib/tentacle';

const MiB = 1024 * 1024;

function rssKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

function chunks(total: number, block: Buffer): Readable {
  let left = total;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, block.length);
      left -= n;
      this.push(n === block.length ? block : block.subarray(0, n));
    },
  });
}

/** Seconds to push `total` bytes through a plain loopback socket to a sink. */
async function rawCopy(total: number, block: Buffer): Promise<number> {
  const sink = net.createServer((s) => s.resume());
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const { port } = sink.address() as net.AddressInfo;
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      const src = chunks(total, block);
      src.pipe(s);
      s.on('close', () => resolve());
    });
    s.on('error', reject);
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  sink.close();
  return secs;
}

async function serverChild(storage: string): Promise<void> {
  const server = new TentacleServer({
    address: '127.0.0.1',
    port: 0,
    storage,
    maxSize: Number.MAX_SAFE_INTEGER,
    timeout: 10,
    retries: 3,
  });
  const { port } = await server.start();
  process.send?.({ port });
  process.on('message', () => void server.close('done', 0).then(() => process.exit(0)));
}

async function main(): Promise<void> {
  const files = Number(process.argv[2] ?? 5000);
  const fileKiB = Number(process.argv[3] ?? 4);
  const bigMiB = Number(process.argv[4] ?? 1024);
  const storage = await mkdtemp(join(tmpdir(), 'tentacle-bench-'));
  const child: ChildProcess = fork(__filename, ['--server', storage], { stdio: 'inherit' });
  const port = await new Promise<number>((resolve) =>
    child.once('message', (m: { port: number }) => resolve(m.port)),
  );
  const pid = child.pid as number;
  const small = randomBytes(fileKiB * 1024);
  const client = await TentacleClient.connect({ host: '127.0.0.1', port, timeout: 10 });

  let t0 = Date.now();
  for (let i = 0; i < files; i++) await client.send(`agent_${i}.data`, small);
  const sendSecs = (Date.now() - t0) / 1000;
  t0 = Date.now();
  const listed = (await client.ls('')).filter((n) => n.endsWith('.data'));
  for (const name of listed) {
    await client.mv(name, async (d) => {
      for await (const _ of d) void _;
    });
  }
  const pullSecs = (Date.now() - t0) / 1000;
  const rawSmall = await rawCopy(files * small.length, small);
  const rssAfterSmall = rssKiB(pid, 'VmRSS');

  const block = randomBytes(MiB);
  const bigBytes = bigMiB * MiB;
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssKiB(pid, 'VmRSS'))), 20);
  t0 = Date.now();
  await client.send('big.data', chunks(bigBytes, block), bigBytes);
  const bigSendSecs = (Date.now() - t0) / 1000;
  t0 = Date.now();
  let got = 0;
  await client.mv('big.data', async (d) => {
    for await (const c of d) got += (c as Buffer).length;
  });
  const bigMvSecs = (Date.now() - t0) / 1000;
  clearInterval(sampler);
  if (got !== bigBytes) throw new Error(`MV returned ${got} of ${bigBytes} bytes`);
  await client.quit();
  const rawBig = await rawCopy(bigBytes, block);

  const mbs = (bytes: number, s: number) => (bytes / MiB / s).toFixed(1);
  console.log(
    `tentacle engine, loopback, ${files} files of ${fileKiB} KiB, one ${bigMiB} MiB file`,
  );
  console.log(`  SEND small files     ${(files / sendSecs).toFixed(0)} files/s`);
  console.log(`  LS + MV small files  ${(listed.length / pullSecs).toFixed(0)} files/s`);
  console.log(
    `  raw TCP same bytes   ${(files / rawSmall).toFixed(0)} files/s equivalent (${mbs(files * small.length, rawSmall)} MB/s)`,
  );
  console.log(`  SEND big file        ${mbs(bigBytes, bigSendSecs)} MB/s (fsync included)`);
  console.log(`  MV big file          ${mbs(bigBytes, bigMvSecs)} MB/s`);
  console.log(`  raw TCP same bytes   ${mbs(bigBytes, rawBig)} MB/s`);
  console.log(
    `  server RSS: ${(rssAfterSmall / 1024).toFixed(0)} MiB before, peak ${(peak / 1024).toFixed(0)} MiB during the big transfer (VmHWM ${(rssKiB(pid, 'VmHWM') / 1024).toFixed(0)} MiB)`,
  );
  child.send('stop');
  await new Promise((r) => child.once('exit', r));
  await rm(storage, { recursive: true, force: true });
}

if (process.argv[2] === '--server') {
  void serverChild(process.argv[3]);
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
