/**
 * A buffer cut off for a week (issue 26): one tentacle-buffer holding B files (a 1,000-agent site
 * at a 5-minute interval sends 288,000 a day), then drained by a SyncPuller while the site's
 * agents keep sending. For each size B:
 *   - LS: time of one LS with the default lsLimit, beside the stock whole-directory LS (lsLimit 0)
 *     of the same directory;
 *   - the server's peak RSS (VmHWM of its own process: start with the recount of what it holds,
 *     LS, drain), with the default lsLimit and with the whole-directory LS;
 *   - drain: files per second a SyncPuller (defaults: 8 connections, RECV + MV) takes;
 *   - agents: SENDs per second of AGENTS agent loops (connect, SEND, QUIT, as agents do) during
 *     the drain, beside the same loops with no puller (the baseline, same run, same backlog).
 * The files held are hard links to a few templates, made straight into the storage directory.
 *
 *   node dist/bench/scale-backlog.js [sizes=10000,100000,1000000] [drainSeconds=10] [agents=4]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compilePattern } from '../lib/sync/names';
import { SyncPuller } from '../lib/sync/puller';
import { TentacleClient } from '../lib/tentacle/client';
import { TENTACLE_BUFFER_PROPERTIES } from '../lib/tentacle/options';
import { TentacleServer } from '../lib/tentacle/server';
import { percentile } from './support/measure';
import { writePlot } from './support/plot';

const FILE_BYTES = 600;
/** ext4 allows 65,000 links to one inode. */
const LINKS_PER_TEMPLATE = 50_000;
const AGENT_SECONDS = 8;
/** Files the reference buffer holds (the MV path's baseline, measured in the same minutes). */
const REFERENCE = 10_000;

interface ChildReady {
  port: number;
  /** Until it listens, and until it has counted what it holds. */
  startMs: number;
  countMs: number;
}
interface ChildRss {
  rssMiB: number;
  peakMiB: number;
}

function statusKiB(field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** The buffer in a process of its own, so that its RSS is its own. */
async function child(storage: string, lsLimit: number): Promise<void> {
  const t0 = Date.now();
  const server = new TentacleServer({
    address: '127.0.0.1',
    port: 0,
    storage,
    lsLimit,
    timeout: 30,
  });
  const { port } = await server.start();
  const startMs = Date.now() - t0;
  // The measurements start on a quiet server: the count at start has ended.
  await server.requestRound('bench');
  process.send?.({ port, startMs, countMs: Date.now() - t0 } satisfies ChildReady);
  process.on('message', (m: string) => {
    if (m === 'rss') {
      process.send?.({
        rssMiB: statusKiB('VmRSS') / 1024,
        peakMiB: statusKiB('VmHWM') / 1024,
      } satisfies ChildRss);
    } else if (m === 'stop') {
      void server.close('bench', 1000).then(() => process.exit(0));
    }
  });
}

class Buffer1 {
  private constructor(
    private readonly proc: ChildProcess,
    readonly port: number,
    readonly startMs: number,
    readonly countMs: number,
  ) {}

  static async start(storage: string, lsLimit: number): Promise<Buffer1> {
    const proc = fork(__filename, ['--child', storage, String(lsLimit)], { stdio: 'inherit' });
    const ready = await new Promise<ChildReady>((resolve, reject) => {
      proc.once('message', (m) => resolve(m as ChildReady));
      proc.once('exit', (code) => reject(new Error(`buffer exited (${code})`)));
    });
    return new Buffer1(proc, ready.port, ready.startMs, ready.countMs);
  }

  rss(): Promise<ChildRss> {
    return new Promise((resolve) => {
      this.proc.once('message', (m) => resolve(m as ChildRss));
      this.proc.send('rss');
    });
  }

  async stop(): Promise<void> {
    const gone = new Promise((r) => this.proc.once('exit', r));
    this.proc.send('stop');
    await gone;
  }
}

/** Hard links named as agents name their files, until `dir` holds `total`. */
function fill(dir: string, templates: string, from: number, total: number): void {
  const body = Buffer.alloc(FILE_BYTES, 0x61);
  let template = '';
  for (let i = from; i < total; i++) {
    if (template === '' || i % LINKS_PER_TEMPLATE === 0) {
      template = join(templates, `t${i}`);
      writeFileSync(template, body);
    }
    linkSync(template, join(dir, `agent${i % 1000}.${1_000_000_000 + i}.data`));
  }
}

async function lsMs(port: number, times: number): Promise<{ ms: number; names: number }> {
  const c = await TentacleClient.connect({ host: '127.0.0.1', port, timeout: 60 });
  const ms: number[] = [];
  let names = 0;
  try {
    for (let i = 0; i < times; i++) {
      const t0 = process.hrtime.bigint();
      names = (await c.ls('')).length - 2;
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  } finally {
    await c.quit().catch(() => c.destroy());
  }
  return { ms: percentile(ms, 50), names };
}

/** MV/s of one plain client over `batch` listed files, alternately on `ports`, `rounds` times. */
async function interleavedMv(ports: number[], rounds: number, batch: number): Promise<number[]> {
  const rates: number[][] = ports.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (const [i, port] of ports.entries()) {
      const c = await TentacleClient.connect({ host: '127.0.0.1', port, timeout: 60 });
      const names = (await c.ls('')).slice(2, 2 + batch);
      const t0 = process.hrtime.bigint();
      for (const name of names) {
        await c.mv(name, async (d) => {
          for await (const chunk of d) void chunk;
        });
      }
      await c.quit();
      rates[i].push(names.length / (Number(process.hrtime.bigint() - t0) / 1e9));
    }
  }
  return rates.map((list) => percentile(list, 50));
}

/** `loops` agents sending one file per connection until `until()`; SENDs/s and p99 ms. */
async function agents(
  port: number,
  loops: number,
  tag: string,
  until: () => boolean,
): Promise<{ perSecond: number; p99: number; errors: number }> {
  const body = Buffer.alloc(FILE_BYTES, 0x62);
  const took: number[] = [];
  let errors = 0;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: loops }, async (_, k) => {
      for (let seq = 0; !until(); seq++) {
        const s0 = process.hrtime.bigint();
        let c: TentacleClient | null = null;
        try {
          c = await TentacleClient.connect({ host: '127.0.0.1', port, timeout: 30 });
          await c.send(`site${k}.${tag}${seq}.data`, body);
          await c.quit();
          took.push(Number(process.hrtime.bigint() - s0) / 1e6);
        } catch {
          errors++;
        } finally {
          c?.destroy();
        }
      }
    }),
  );
  return {
    perSecond: took.length / ((Date.now() - t0) / 1000),
    p99: percentile(took, 99),
    errors,
  };
}

interface Row {
  size: number;
  lsMs: number;
  lsNames: number;
  lsWholeMs: number;
  startMs: number;
  countMs: number;
  peakMiB: number;
  peakWholeMiB: number;
  drainPerSecond: number;
  sendAlone: number;
  sendDuring: number;
  sendAloneP99: number;
  sendDuringP99: number;
  sendErrors: number;
  /** MV/s of a plain client here and on the reference buffer, interleaved. */
  mvHere: number;
  mvReference: number;
  left: number;
}

async function measure(
  storage: string,
  incoming: string,
  size: number,
  drainSeconds: number,
  loops: number,
  referencePort: number,
): Promise<Row> {
  // The stock LS: the whole directory in one answer.
  const whole = await Buffer1.start(storage, 0);
  const wholeLs = await lsMs(whole.port, 3);
  const wholeRss = await whole.rss();
  await whole.stop();

  const buf = await Buffer1.start(storage, TENTACLE_BUFFER_PROPERTIES.lsLimit.default);
  const ls = await lsMs(buf.port, 5);
  // The MV path against the backlog, alternately with a buffer of REFERENCE files: the machine's
  // load drifts, so each side is measured in the same minutes as the other.
  const [mvHere, mvReference] = await interleavedMv([buf.port, referencePort], 4, 400);
  // Agents alone: the baseline.
  let end = Date.now() + AGENT_SECONDS * 1000;
  const alone = await agents(buf.port, loops, `a${size}-`, () => Date.now() > end);

  // The drain, with the agents sending all along.
  const puller = new SyncPuller({
    buffers: [{ host: '127.0.0.1', port: buf.port, address: `127.0.0.1:${buf.port}` }],
    incomingDir: incoming,
    pattern: compilePattern(''),
    timeout: 30,
  });
  let pulledInWindow = 0;
  const t0 = Date.now();
  end = t0 + drainSeconds * 1000;
  puller.on('file', () => {
    if (Date.now() <= end) pulledInWindow++;
  });
  const during = agents(buf.port, loops, `d${size}-`, () => Date.now() > end);
  let left = 0;
  while (Date.now() < end) {
    const [summary] = await puller.requestRound();
    if (summary.error) throw new Error(`round: ${summary.error}`);
    left = summary.left ?? 0;
    if (summary.files === 0) break;
  }
  const drainMs = Math.min(Date.now(), end) - t0;
  const sending = await during;
  await puller.close();
  const rss = await buf.rss();
  await buf.stop();
  await rm(incoming, { recursive: true, force: true });
  return {
    size,
    lsMs: ls.ms,
    lsNames: ls.names,
    lsWholeMs: wholeLs.ms,
    startMs: buf.startMs,
    countMs: buf.countMs,
    peakMiB: rss.peakMiB,
    peakWholeMiB: wholeRss.peakMiB,
    drainPerSecond: pulledInWindow / (drainMs / 1000),
    sendAlone: alone.perSecond,
    sendDuring: sending.perSecond,
    sendAloneP99: alone.p99,
    sendDuringP99: sending.p99,
    sendErrors: alone.errors + sending.errors,
    mvHere,
    mvReference,
    left,
  };
}

async function main(): Promise<void> {
  const sizes = (process.argv[2] ?? '10000,100000,1000000').split(',').map(Number);
  const drainSeconds = Number(process.argv[3] ?? 10);
  const loops = Number(process.argv[4] ?? 4);
  const root = mkdtempSync(join(tmpdir(), 'bench-backlog-'));
  const storage = join(root, 'storage');
  const templates = join(root, 'templates');
  const reference = join(root, 'reference');
  mkdirSync(storage);
  mkdirSync(templates);
  mkdirSync(reference);
  const rows: Row[] = [];
  let next = 0;
  const t0 = Date.now();
  fill(reference, templates, 0, REFERENCE);
  let referenceNext = REFERENCE;
  const ref = await Buffer1.start(reference, TENTACLE_BUFFER_PROPERTIES.lsLimit.default);
  try {
    for (const size of sizes) {
      const refHeld = (await readdir(reference)).length;
      fill(reference, templates, referenceNext, referenceNext + REFERENCE - refHeld);
      referenceNext += REFERENCE - refHeld;
      const held = (await readdir(storage)).length;
      const f0 = Date.now();
      const more = Math.max(0, size - held);
      fill(storage, templates, next, next + more);
      next += more;
      const fillS = (Date.now() - f0) / 1000;
      const row = await measure(
        storage,
        join(root, 'incoming'),
        size,
        drainSeconds,
        loops,
        ref.port,
      );
      rows.push(row);
      console.log(
        `${size} held (made in ${fillS.toFixed(0)} s): listening after ${row.startMs} ms, counted after ${row.countMs} ms; ` +
          `LS ${row.lsMs.toFixed(1)} ms for ${row.lsNames} names (whole directory ${row.lsWholeMs.toFixed(0)} ms); ` +
          `peak RSS ${row.peakMiB.toFixed(0)} MiB (whole-directory LS ${row.peakWholeMiB.toFixed(0)} MiB); ` +
          `drain ${row.drainPerSecond.toFixed(0)} files/s; agents ${row.sendDuring.toFixed(0)} SEND/s ` +
          `during (p99 ${row.sendDuringP99.toFixed(0)} ms), ${row.sendAlone.toFixed(0)} alone ` +
          `(p99 ${row.sendAloneP99.toFixed(0)} ms), ${row.sendErrors} failed SENDs; ` +
          `plain MV ${row.mvHere.toFixed(0)}/s here, ${row.mvReference.toFixed(0)}/s on ${REFERENCE} files (interleaved)`,
      );
    }
  } finally {
    await ref.stop();
    const r0 = Date.now();
    rmSync(root, { recursive: true, force: true });
    console.log(
      `removed in ${((Date.now() - r0) / 1000).toFixed(0)} s; whole run ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    );
  }
  const x = (f: (r: Row) => number): [number, number][] => rows.map((r) => [r.size, f(r)]);
  const lsLimit = TENTACLE_BUFFER_PROPERTIES.lsLimit.default;
  writePlot({
    file: 'tentacle-backlog-ls.svg',
    title: 'LS time against the files a buffer holds',
    xLabel: 'files held',
    yLabel: 'ms per LS (median)',
    series: [
      { name: `lsLimit ${lsLimit} (default)`, points: x((r) => r.lsMs) },
      { name: 'whole directory (stock, lsLimit 0)', points: x((r) => r.lsWholeMs) },
    ],
  });
  writePlot({
    file: 'tentacle-backlog-rss.svg',
    title: "The buffer's peak RSS against the files it holds",
    xLabel: 'files held',
    yLabel: 'MiB (VmHWM)',
    series: [
      { name: `start + LS + drain, lsLimit ${lsLimit}`, points: x((r) => r.peakMiB) },
      { name: 'start + whole-directory LS', points: x((r) => r.peakWholeMiB) },
    ],
  });
  writePlot({
    file: 'tentacle-backlog-mv.svg',
    title: 'MV rate of one plain client against the files held',
    xLabel: 'files held',
    yLabel: 'MV per second (median of 4 × 400)',
    series: [
      { name: 'this buffer', points: x((r) => r.mvHere) },
      { name: `reference (${REFERENCE} held), interleaved`, points: x((r) => r.mvReference) },
    ],
  });
  writePlot({
    file: 'tentacle-backlog-rates.svg',
    title: 'Drain and agents against the files held',
    xLabel: 'files held',
    yLabel: 'files per second',
    series: [
      { name: 'drain (SyncPuller)', points: x((r) => r.drainPerSecond) },
      { name: 'agents SEND, during the drain', points: x((r) => r.sendDuring) },
      { name: 'agents SEND, alone (baseline)', points: x((r) => r.sendAlone) },
    ],
    goal: { value: 1000 / 300, label: '1,000 agents / 5 min' },
  });
}

if (process.argv[2] === '--child') {
  void child(process.argv[3], Number(process.argv[4]));
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
