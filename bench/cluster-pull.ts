/**
 * What `cluster` costs tentacle-pull: B buffers of F files each, drained in one safe-mode round
 * by one SyncPuller, with `cluster` off (the baseline, same run, same sizes) and on (a lease
 * manager on a private MariaDB, one member holding every buffer; each file then costs a state
 * read, the fenced `stored` transaction before its rename and a `placed` update after it).
 *
 *   node dist/bench/cluster-pull.js [buffers=20] [filesEach=100] [size=2048]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DbDeliveries, LeaseManager, units } from '../lib/cluster';
import type { BufferEndpoint } from '../lib/conf/pandora-conf';
import { createPool } from '../lib/db/pool';
import { compilePattern } from '../lib/sync/names';
import { SyncPuller } from '../lib/sync/puller';
import { TentacleServer } from '../lib/tentacle/server';
import { startMariaDb } from '../test/helpers/mariadb';

const buffers = Number(process.argv[2] ?? 20);
const each = Number(process.argv[3] ?? 100);
const size = Number(process.argv[4] ?? 2048);
const root = mkdtempSync(join(tmpdir(), 'bench-cluster-pull-'));
const pattern = compilePattern('');

async function start(tag: string): Promise<{ servers: TentacleServer[]; ends: BufferEndpoint[] }> {
  const servers: TentacleServer[] = [];
  const ends: BufferEndpoint[] = [];
  const body = Buffer.alloc(size, 0x61);
  for (let b = 0; b < buffers; b++) {
    const storage = join(root, `${tag}-${b}`);
    mkdirSync(storage, { recursive: true });
    for (let i = 0; i < each; i++) {
      writeFileSync(join(storage, `agent${b}.${100000 + i}.data`), body);
    }
    const s = new TentacleServer({ address: '127.0.0.1', port: 0, storage, timeout: 30 });
    const { port } = await s.start();
    servers.push(s);
    ends.push({ host: '127.0.0.1', port, address: `127.0.0.1:${port}` });
  }
  return { servers, ends };
}

async function main(): Promise<void> {
  const db = await startMariaDb();
  await db.freshDatabase('cc');
  const pool = createPool({ ...db.facts, database: 'cc' }, { connectionLimit: 8 });
  console.log(`cluster-pull: ${buffers} buffers x ${each} files of ${size} B, safe mode`);
  try {
    const rates: Record<string, number[]> = { off: [], on: [] };
    // Alternated, three times each: the machine is shared, one pair alone says little.
    for (const [k, mode] of (['off', 'on', 'off', 'on', 'off', 'on'] as const).entries()) {
      const b = await start(`${mode}${k}`);
      let manager: LeaseManager | null = null;
      let extra = {};
      if (mode === 'on') {
        manager = new LeaseManager({ db: pool, member: 'bench', leaseMs: 30_000 });
        const gate = manager.gate();
        gate.offer(b.ends.map((e) => units.pull(e.address)));
        await manager.requestRound('bench');
        if (!b.ends.every((e) => gate.holds(units.pull(e.address)))) {
          throw new Error('the lone member does not hold every buffer');
        }
        extra = { gate, shared: new DbDeliveries(pool, manager) };
      }
      const p = new SyncPuller({
        buffers: b.ends,
        incomingDir: join(root, `in-${mode}${k}`),
        pattern,
        safe: true,
        concurrency: 4,
        connections: 2,
        timeout: 30,
        ...extra,
      });
      const t0 = performance.now();
      const sums = await p.requestRound();
      const ms = performance.now() - t0;
      const files = sums.reduce((n, s) => n + s.files, 0);
      const errors = sums.filter((s) => s.error);
      if (errors.length) console.error(`${errors.length} buffers failed: ${errors[0].error}`);
      rates[mode].push((files / ms) * 1000);
      console.log(
        `cluster ${mode === 'off' ? 'off (baseline)' : 'on, one member'}: ${files} files in ` +
          `${(ms / 1000).toFixed(2)} s = ${((files / ms) * 1000).toFixed(0)} files/s`,
      );
      await p.close();
      await manager?.close();
      await Promise.all(b.servers.map((s) => s.close('done', 100)));
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1];
    console.log(
      `median: off ${median(rates.off).toFixed(0)} files/s, on ${median(rates.on).toFixed(0)} files/s ` +
        `(${((median(rates.on) / median(rates.off)) * 100).toFixed(0)}% of the baseline)`,
    );
  } finally {
    await pool.end();
    await db.destroy();
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
