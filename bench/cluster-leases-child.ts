/**
 * One cluster member for bench/cluster-leases.ts: a LeaseManager in a process of its own (so that
 * the bench can SIGKILL it), offering the units it is given. It counts the statements its pool
 * sends and the time of each round, and answers the bench over IPC.
 * argv[2]: JSON of LeaseChildArgs.
 */
import { performance } from 'node:perf_hooks';
import { LeaseManager } from '../lib/cluster';
import { createPool } from '../lib/db/pool';
import type { DbFacts } from '../lib/db/pool';

export interface LeaseChildArgs {
  db: DbFacts;
  member: string;
  leaseMs: number;
  units: string[];
}

/** What the bench asks (`stats`, `close`) and what the child says. */
export type ChildReport =
  | { type: 'ready'; session: string }
  | {
      type: 'stats';
      held: number;
      /** Statements sent since the previous `stats`. */
      queries: number;
      rounds: number[];
      rssMiB: number;
    }
  | { type: 'takeovers'; count: number; maxSinceRenewalMs: number };

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2] ?? '{}') as LeaseChildArgs;
  const pool = createPool(a.db, { connectionLimit: 4 });
  // The bench's own instrument: every statement the manager sends through the pool.
  let queries = 0;
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args) => {
    queries++;
    return query(...args);
  };
  const manager = new LeaseManager({ db: pool, member: a.member, leaseMs: a.leaseMs });
  const rounds: number[] = [];
  let peak = process.memoryUsage.rss();
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 100);
  let takeovers = 0;
  let maxSince = 0;
  manager.on('takeover', (t) => {
    takeovers++;
    maxSince = Math.max(maxSince, t.sinceRenewalMs);
  });
  manager.gate().offer(a.units);
  // Rounds at the manager's own pace (what start() does: one now, one every tickMs), asked for
  // here so that each one is timed.
  const timed = async (): Promise<void> => {
    const t0 = performance.now();
    await manager.requestRound('bench');
    rounds.push(performance.now() - t0);
  };
  void timed();
  const timer = setInterval(() => void timed().catch(() => undefined), manager.tickMs);
  process.send?.({ type: 'ready', session: manager.session } satisfies ChildReport);
  process.on('message', (m: { type: string }) => {
    if (m.type === 'stats') {
      const since = queries;
      queries = 0;
      process.send?.({
        type: 'stats',
        held: manager.state().held.length,
        queries: since,
        rounds: rounds.splice(0),
        rssMiB: peak / 2 ** 20,
      } satisfies ChildReport);
    } else if (m.type === 'takeovers') {
      process.send?.({
        type: 'takeovers',
        count: takeovers,
        maxSinceRenewalMs: maxSince,
      } satisfies ChildReport);
    } else if (m.type === 'close') {
      clearInterval(timer);
      clearInterval(sample);
      void manager
        .close('bench over')
        .then(() => pool.end())
        .then(() => process.exit(0));
    }
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
