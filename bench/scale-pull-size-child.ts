/**
 * One size of bench/scale-pull, in its own process (so that its peak RSS is its own): N buffers
 * served by a few child processes (scale-pull-buffers-child), `busy` of them holding files, a
 * tenth unreachable (half refused ports, half blackholed: they accept and never answer). Prints
 * one JSON line with the figures.
 *
 *   node --expose-gc dist/bench/scale-pull-size-child.js '{"n":1000,...}'
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BufferEndpoint } from '../lib/conf/pandora-conf';
import { compilePattern, takeableNames } from '../lib/sync/names';
import type { SyncPullerOptions } from '../lib/sync/options';
import { SyncPuller } from '../lib/sync/puller';
import { runInSlots } from '../lib/sync/slots';
import type { BufferSummary } from '../lib/sync/types';
import { TentacleClient } from '../lib/tentacle/client';
import { agentXml } from '../test/helpers/agent-xml';
import { cpuMs, percentile, rssPeak } from './support/measure';

export interface SizeArgs {
  n: number;
  busy: number;
  filesEach: number;
  size: number;
  /** Fraction of the buffers that cannot be reached. */
  unreachable: number;
  children: number;
  /** Also run the shape before issue 26 (one pool of `concurrency` waiting for every listing). */
  before: boolean;
  /** Also the shape before across the WAN link. */
  wanBefore: boolean;
  /** Milliseconds each way of the simulated WAN link (0: none). */
  delayMs: number;
}

export interface SizeResult {
  n: number;
  reachable: number;
  refused: number;
  holes: number;
  /** Raw client, same buffers: connect, LS, MV the busy files (thrown away), QUIT; 64 at a time. */
  baselineMs: number;
  /** The puller over the reachable buffers only, a round with `busy` of them holding files. */
  reachableOnlyMs: number;
  /** The puller over all N: the first round (unreachable ones not known yet), and later ones. */
  firstRoundMs: number;
  roundMs: number[];
  /** CPU of this process per round over all N (later rounds), ms. */
  roundCpuMs: number;
  /** Files taken per busy round, against the files put there. */
  filesOk: boolean;
  /** The shape before, sync_timeout 2 s x 2: the first round over all N (only with `before`). */
  beforeFirstRoundMs?: number;
  /** The shape now with the same timeouts, for that comparison. */
  nowFirstRoundShortMs?: number;
  /** Across the simulated WAN link (round trip 2 x delayMs): later rounds now, median. */
  wanRoundMs?: number;
  /** The same, the shape before (one round). */
  wanBeforeRoundMs?: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  /** Heap held after the rounds (GC'd), against before the puller, KiB. */
  heapKiB: number;
}

const pattern = compilePattern('');
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

/** A deterministic shuffle, so unreachable buffers are spread through the list. */
function shuffle<T>(items: T[], seed = 7): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

async function refusedPort(): Promise<number> {
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

const endpoint = (port: number): BufferEndpoint => ({
  host: '127.0.0.1',
  port,
  address: `127.0.0.1:${port}`,
});

async function startChild(
  dirs: string[],
  holes: number,
  delayMs: number,
): Promise<{
  child: ChildProcess;
  ports: number[];
  far: number[];
  holes: number[];
}> {
  const child = spawn(
    process.execPath,
    [join(__dirname, 'scale-pull-buffers-child.js'), JSON.stringify({ dirs, holes, delayMs })],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let text = '';
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      text += d.toString();
      const at = text.indexOf('\n');
      if (at >= 0) resolve(text.slice(0, at));
    });
    child.once('exit', (code) => reject(new Error(`buffers child exited ${code}`)));
  });
  const got = JSON.parse(line) as { ports: number[]; far: number[]; holes: number[] };
  return { child, ...got };
}

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2]) as SizeArgs;
  const shm = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const bufferRoot = mkdtempSync(join(shm, 'bsp-'));
  const root = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'bench-scale-pull-'));
  const unreachable = Math.round(a.n * a.unreachable);
  const holeCount = Math.floor(unreachable / 2);
  const refusedCount = unreachable - holeCount;
  const reachable = a.n - unreachable;
  const dirs = Array.from({ length: reachable }, (_, i) => join(bufferRoot, `b${i}`));
  for (const d of dirs) mkdirSync(d);
  // Busy buffers spread over the children.
  const busyDirs = dirs.filter((_, i) => i % Math.ceil(reachable / a.busy) === 0).slice(0, a.busy);
  let seq = 0;
  const refill = (): number => {
    let put = 0;
    for (const [b, d] of busyDirs.entries()) {
      for (let i = 0; i < a.filesEach; i++, put++) {
        writeFileSync(join(d, `agent${b}.${++seq}.data`), agentXml(`agent${b}`, seq, a.size));
      }
    }
    return put;
  };
  const children: ChildProcess[] = [];
  const reachableEnds: BufferEndpoint[] = [];
  const holeEnds: BufferEndpoint[] = [];
  const farEnds: BufferEndpoint[] = [];
  const per = Math.ceil(reachable / a.children);
  for (let c = 0; c < a.children; c++) {
    const slice = dirs.slice(c * per, (c + 1) * per);
    const holes = Math.floor(holeCount / a.children) + (c < holeCount % a.children ? 1 : 0);
    const s = await startChild(slice, holes, a.delayMs);
    children.push(s.child);
    farEnds.push(...s.far.map(endpoint));
    reachableEnds.push(...s.ports.map(endpoint));
    holeEnds.push(...s.holes.map(endpoint));
  }
  const refusedEnds: BufferEndpoint[] = [];
  for (let i = 0; i < refusedCount; i++) refusedEnds.push(endpoint(await refusedPort()));
  const all = shuffle([...reachableEnds, ...holeEnds, ...refusedEnds]);

  // --- Baseline: the same buffers' work with the raw client, nothing stored (64 at a time, as
  // the puller lists). A first pass warms the children up; the median of three counts. ---
  const rawRound = async (): Promise<number> => {
    const t0 = performance.now();
    await runInSlots(reachableEnds, 64, async (e) => {
      const c = await TentacleClient.connect({ host: e.host, port: e.port, timeout: 10 });
      for (const name of takeableNames(await c.ls(''), pattern)) {
        await c.mv(name, async (data) => {
          for await (const chunk of data) void chunk;
        });
      }
      await c.quit();
    }).all;
    return performance.now() - t0;
  };
  await rawRound();
  const raw: number[] = [];
  for (let i = 0; i < 3; i++) {
    refill();
    raw.push(await rawRound());
  }
  const baselineMs = percentile(raw, 50);

  let incoming = 0;
  const puller = (buffers: BufferEndpoint[], extra: Partial<SyncPullerOptions> = {}) =>
    new SyncPuller({ buffers, incomingDir: join(root, `in${++incoming}`), pattern, ...extra });
  const timed = async (p: SyncPuller): Promise<{ ms: number; s: BufferSummary[] }> => {
    const t = performance.now();
    const s = await p.requestRound('timer');
    return { ms: performance.now() - t, s };
  };
  const filesOf = (s: BufferSummary[]) => s.reduce((n, x) => n + x.files, 0);
  let filesOk = true;

  // --- The reachable buffers alone. ---
  {
    const p = puller(reachableEnds);
    const put = refill();
    const r = await timed(p);
    filesOk &&= filesOf(r.s) === put;
    await p.close('bench');
  }
  const reachableOnly = puller(reachableEnds);
  const alone: number[] = [];
  for (let r = 0; r < 3; r++) {
    const put = refill();
    const t = await timed(reachableOnly);
    filesOk &&= filesOf(t.s) === put;
    alone.push(t.ms);
  }
  await reachableOnly.close('bench');

  // --- All N: the first round, then rounds with the unreachable ones known. ---
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const rssBeforeMiB = process.memoryUsage.rss() / 2 ** 20;
  const peak = rssPeak();
  const p = puller(all);
  const files = new Set<string>();
  p.on('file', (f) => files.add(`${f.address} ${f.filename}`));
  let put = refill();
  const first = await timed(p);
  const roundMs: number[] = [];
  let cpu = 0;
  for (let r = 0; r < 5; r++) {
    const more = refill();
    put += more;
    const c0 = process.cpuUsage();
    const t = await timed(p);
    cpu += cpuMs(c0);
    roundMs.push(t.ms);
  }
  // Files of the first rounds may still be arriving from a buffer listed late: wait for them.
  for (let i = 0; i < 100 && files.size < put; i++) await new Promise((r) => setTimeout(r, 100));
  filesOk &&= files.size === put;
  gc();
  const heapKiB = (process.memoryUsage().heapUsed - heap0) / 1024;
  await p.close('bench');
  const rssPeakMiB = peak.stop();

  const out: SizeResult = {
    n: a.n,
    reachable,
    refused: refusedCount,
    holes: holeCount,
    baselineMs,
    reachableOnlyMs: percentile(alone, 50),
    firstRoundMs: first.ms,
    roundMs,
    roundCpuMs: cpu / roundMs.length,
    filesOk,
    rssBeforeMiB,
    rssPeakMiB,
    heapKiB,
  };

  // --- The shape before against the shape now, with short timeouts so the old one ends. ---
  if (a.before) {
    const short = { timeout: 2, retries: 1 };
    const old = puller(all, { ...short, listConcurrency: 4, listWaitMs: 3_600_000 });
    refill();
    out.beforeFirstRoundMs = (await timed(old)).ms;
    await old.close('bench');
    const now = puller(all, short);
    refill();
    out.nowFirstRoundShortMs = (await timed(now)).ms;
    await now.close('bench');
  }

  // --- Across a WAN link: every listing pays its round trips. ---
  if (a.delayMs > 0) {
    const wanAll = shuffle([...farEnds, ...holeEnds, ...refusedEnds]);
    const wan = puller(wanAll);
    refill();
    await timed(wan);
    const wanRounds: number[] = [];
    for (let r = 0; r < 3; r++) {
      refill();
      wanRounds.push((await timed(wan)).ms);
    }
    await wan.close('bench');
    out.wanRoundMs = percentile(wanRounds, 50);
    if (a.wanBefore) {
      // Refused ones fail at once and blackholed ones hold a slot for 2 x 2 s, as above.
      const old = puller(wanAll, {
        timeout: 2,
        retries: 1,
        listConcurrency: 4,
        listWaitMs: 3_600_000,
      });
      refill();
      out.wanBeforeRoundMs = (await timed(old)).ms;
      await old.close('bench');
    }
  }

  for (const c of children) c.kill('SIGTERM');
  await Promise.all(
    children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))),
  );
  rmSync(bufferRoot, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
