/**
 * Many agents sending to one buffer at once: N concurrent agents, then 2N, each sending F files
 * of S KiB over its own connection to one TentacleServer. Baseline in the same run: the same
 * files written straight to a directory by the same number of concurrent writers (temp name,
 * fsync, rename, as the server does). Prints files/s, p99 per file and the growth factor.
 *
 *   node dist/bench/scale-agents.js [agents=200] [filesEach=20] [fileKiB=4]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TentacleClient } from '../lib/tentacle/client';
import { TentacleServer } from '../lib/tentacle/server';

const agents = Number(process.argv[2] ?? 200);
const each = Number(process.argv[3] ?? 20);
const body = randomBytes(Number(process.argv[4] ?? 4) * 1024);
const root = mkdtempSync(join(tmpdir(), 'bench-scale-agents-'));

interface Run {
  ms: number;
  files: number;
  p99: number;
}

function p(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function timed(n: number, work: (i: number, times: number[]) => Promise<void>): Promise<Run> {
  const times: number[] = [];
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => work(i, times)));
  const ms = performance.now() - t0;
  times.sort((a, b) => a - b);
  return { ms, files: times.length, p99: p(times, 0.99) };
}

async function baseline(n: number): Promise<Run> {
  const dir = mkdtempSync(join(root, `direct${n}-`));
  return timed(n, async (a, times) => {
    for (let i = 0; i < each; i++) {
      const s = performance.now();
      const name = join(dir, `agent${a}_${i}.data`);
      const fh = await open(`${name}~`, 'w');
      await fh.writeFile(body);
      await fh.sync();
      await fh.close();
      await rename(`${name}~`, name);
      times.push(performance.now() - s);
    }
  });
}

async function server(n: number): Promise<Run> {
  const storage = mkdtempSync(join(root, `buffer${n}-`));
  const srv = new TentacleServer({
    address: '127.0.0.1',
    port: 0,
    storage,
    maxConnections: n + 10,
    timeout: 60,
  });
  const { port } = await srv.start();
  const r = await timed(n, async (a, times) => {
    const c = await TentacleClient.connect({ host: '127.0.0.1', port, timeout: 60, retries: 3 });
    for (let i = 0; i < each; i++) {
      const s = performance.now();
      await c.send(`agent${a}_${i}.data`, body);
      times.push(performance.now() - s);
    }
    await c.quit();
  });
  await srv.close('done', 1000);
  return r;
}

function line(label: string, r: Run, base?: Run): string {
  const rate = (r.files / r.ms) * 1000;
  const rel = base ? `, ${((base.ms / r.ms) * 100).toFixed(0)}% of baseline speed` : '';
  return `${label.padEnd(44)} ${r.files} files in ${(r.ms / 1000).toFixed(2)} s = ${rate.toFixed(0)} files/s, p99 ${r.p99.toFixed(1)} ms${rel}`;
}

async function main(): Promise<void> {
  console.log(
    `scale-agents: ${each} files of ${body.length} B per agent, agents N=${agents} and 2N`,
  );
  const out: Record<number, { base: Run; ours: Run }> = {};
  for (const n of [agents, 2 * agents]) {
    const base = await baseline(n);
    const ours = await server(n);
    out[n] = { base, ours };
    console.log(line(`baseline: ${n} writers straight to disk`, base));
    console.log(line(`TentacleServer: ${n} agents on 1 buffer`, ours, base));
  }
  const g = (k: 'base' | 'ours') => out[2 * agents][k].ms / out[agents][k].ms;
  console.log(
    `growth N->2N (2x the files): time x${g('ours').toFixed(2)} (baseline x${g('base').toFixed(2)}); p99 ${out[agents].ours.p99.toFixed(1)} -> ${out[2 * agents].ours.p99.toFixed(1)} ms`,
  );
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => rmSync(root, { recursive: true, force: true }));
