/**
 * tentacle-pull at the size of a large Sync server (issue 26): 100, 500 and 1,000 buffers, 10 of
 * them busy, a tenth unreachable (half refused ports, half blackholed: they accept and never
 * answer), served by 4 child processes. Each size runs in its own process (scale-pull-size-child)
 * so its peak RSS is its own. Figures beside the same run's baseline (the raw client doing the
 * same listings and moves, nothing stored, unreachable buffers left out) and the `interval`
 * default (5 s) as the goal. Writes docs/plots/scale-pull-*.svg.
 *
 * A last phase puts every reachable buffer behind a proxy delaying each chunk `delayMs` each
 * way (a 50 ms round trip by default), where a listing costs its round trips, not CPU.
 *
 * The shape before across that link runs up to 500 buffers (it grows linearly: ~75 s at 1,000)
 * unless `full` is given, so that a run stays within 5 minutes.
 *
 *   node dist/bench/scale-pull.js [sizes=100,500,1000] [busy=10] [filesEach=20] [size=4096] [delayMs=25] [full]
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { SizeArgs, SizeResult } from './scale-pull-size-child';
import { percentile } from './support/measure';
import { writePlot } from './support/plot';

const sizes = (process.argv[2] ?? '100,500,1000').split(',').map(Number);
const busy = Number(process.argv[3] ?? 10);
const filesEach = Number(process.argv[4] ?? 20);
const size = Number(process.argv[5] ?? 4096);
const delayMs = Number(process.argv[6] ?? 25);
/** `full`: the shape before across the WAN link at every size (about 75 s more at 1,000). */
const full = process.argv[7] === 'full';
const INTERVAL_MS = 5000;

function runSize(n: number): SizeResult {
  const args: SizeArgs = {
    n,
    busy,
    filesEach,
    size,
    unreachable: 0.1,
    children: 4,
    before: true,
    wanBefore: full || n <= 500,
    delayMs,
  };
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', join(__dirname, 'scale-pull-size-child.js'), JSON.stringify(args)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 240_000 },
  );
  if (r.status !== 0) throw new Error(`size ${n} failed (${r.status ?? r.signal})`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as SizeResult;
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function main(): void {
  console.log(
    `scale-pull: ${busy} busy buffers x ${filesEach} files of ${size} B, 10% unreachable, interval goal ${s(INTERVAL_MS)}`,
  );
  const results: SizeResult[] = [];
  for (const n of sizes) {
    const r = runSize(n);
    results.push(r);
    const median = percentile(r.roundMs, 50);
    console.log(
      [
        `N=${n} (${r.reachable} reachable, ${r.refused} refused, ${r.holes} blackholed):`,
        `  baseline raw client over the reachable ones: ${s(r.baselineMs)}`,
        `  puller, reachable ones only:               ${s(r.reachableOnlyMs)}`,
        `  puller, all N, first round:                ${s(r.firstRoundMs)}`,
        `  puller, all N, later rounds (median):      ${s(median)} (${r.roundMs.map(s).join(', ')}), CPU ${r.roundCpuMs.toFixed(0)} ms/round`,
        `  shape before, sync_timeout 2 s x 2, first round: ${s(r.beforeFirstRoundMs ?? NaN)}; now with the same timeouts: ${s(r.nowFirstRoundShortMs ?? NaN)}`,
        `  across a ${2 * delayMs} ms round trip: later rounds ${s(r.wanRoundMs ?? NaN)}; the shape before: ${s(r.wanBeforeRoundMs ?? NaN)}`,
        `  every file once: ${r.filesOk}; RSS ${r.rssBeforeMiB.toFixed(0)} MiB before the puller, peak ${r.rssPeakMiB.toFixed(0)} MiB; heap held ${r.heapKiB.toFixed(0)} KiB`,
      ].join('\n'),
    );
  }
  // Per buffer: the slope between the smallest and the largest size (fixed costs cancel out).
  const [lo, hi] = [results[0], results[results.length - 1]];
  if (hi.n > lo.n) {
    const span = hi.n - lo.n;
    console.log(
      `per buffer (slope ${lo.n} -> ${hi.n}): heap ${((hi.heapKiB - lo.heapKiB) / span).toFixed(2)} KiB, peak RSS ${(((hi.rssPeakMiB - lo.rssPeakMiB) * 1024) / span).toFixed(1)} KiB`,
    );
  }
  const pts = (f: (r: SizeResult) => number): [number, number][] => results.map((r) => [r.n, f(r)]);
  const files = [
    writePlot({
      file: 'scale-pull-round.svg',
      title: 'tentacle-pull: a round over N buffers (10 busy)',
      xLabel: 'buffers',
      yLabel: 'round, ms',
      series: [
        { name: 'puller, all N', points: pts((r) => percentile(r.roundMs, 50)) },
        { name: 'puller, reachable only', points: pts((r) => r.reachableOnlyMs) },
        { name: 'raw client (baseline)', points: pts((r) => r.baselineMs) },
      ],
      goal: { value: INTERVAL_MS, label: 'interval 5 s' },
    }),
    writePlot({
      file: 'scale-pull-unreachable.svg',
      title: 'tentacle-pull: first round, 10% unreachable (sync_timeout x retries)',
      xLabel: 'buffers',
      yLabel: 'first round, ms',
      series: [
        { name: 'before, 2 s x 2', points: pts((r) => r.beforeFirstRoundMs ?? 0) },
        { name: 'now, 2 s x 2', points: pts((r) => r.nowFirstRoundShortMs ?? 0) },
        { name: 'now, defaults', points: pts((r) => r.firstRoundMs) },
      ],
      goal: { value: INTERVAL_MS, label: 'interval 5 s' },
    }),
    writePlot({
      file: 'scale-pull-wan.svg',
      title: `tentacle-pull: a round across a ${2 * delayMs} ms round trip`,
      xLabel: 'buffers',
      yLabel: 'round, ms',
      series: [
        {
          name: 'before',
          points: results
            .filter((r) => r.wanBeforeRoundMs !== undefined)
            .map((r): [number, number] => [r.n, r.wanBeforeRoundMs as number]),
        },
        { name: 'now', points: pts((r) => r.wanRoundMs ?? 0) },
      ],
      goal: { value: INTERVAL_MS, label: 'interval 5 s' },
    }),
    writePlot({
      file: 'scale-pull-rss.svg',
      title: 'tentacle-pull: peak RSS of the puller process',
      xLabel: 'buffers',
      yLabel: 'MiB',
      series: [
        { name: 'peak during rounds', points: pts((r) => r.rssPeakMiB) },
        { name: 'before the puller', points: pts((r) => r.rssBeforeMiB) },
      ],
    }),
  ];
  console.log(`plots: ${files.join(', ')}`);
}

main();
