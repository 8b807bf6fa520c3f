/**
 * One round on one Instance: compare the range figures of both sides, look row by row only at
 * the ranges that differ, read in full only the agents that differ, and write them in
 * transactions of at most `writeBatch` agents. Nothing is remembered between rounds: the tables
 * themselves are the state, so a round after a crash (or after anything else wrote the cache)
 * finds and mends whatever differs.
 */
import type { Instance } from '../db/registry';
import type { Fence } from '../db/transaction';
import type { CacheStore } from './cache-store';
import { planColumns } from './columns';
import { AgentCacheError } from './errors';
import { InstanceAgents } from './instance-agents';
import { differingRanges, planRows, spans, splitPlan } from './planner';
import { agentCount } from './sums';

export interface RoundInput {
  instance: Pick<Instance, 'id' | 'name' | 'pool'>;
  store: CacheStore;
  /** tmetaconsole_agent's columns (read once per Command Center connection). */
  ccColumns: readonly string[];
  rangeSize: number;
  writeBatch: number;
  fence?: Fence;
}

/** What one Instance's round did. */
export interface RoundCounts {
  /** The Instance's agents (as its figures counted them at the start of the round). */
  agents: number;
  /** Ranges of ids whose figures differed. */
  ranges: number;
  /** Cache rows written (new or changed agents). */
  written: number;
  /** Cache rows removed (agents gone, duplicates). */
  removed: number;
  /** Agents whose secondary groups were rewritten. */
  regrouped: number;
}

export async function cacheRound(input: RoundInput): Promise<RoundCounts> {
  const { instance, store, rangeSize, writeBatch, fence } = input;
  const side = new InstanceAgents(instance.pool);
  const columns = planColumns(await side.columns(), input.ccColumns);
  for (const m of columns.missing) {
    throw new AgentCacheError('ERR_AGENT_CACHE_SCHEMA', {
      side: m.side,
      table: m.side === 'cc' ? 'tmetaconsole_agent' : 'tagente',
      missing: m.columns.join(', '),
    });
  }
  const shared = columns.shared;
  const [mine, theirs] = await Promise.all([
    side.sums(shared, rangeSize),
    store.sums(instance.id, shared, rangeSize),
  ]);
  const ranges = differingRanges(mine, theirs);
  const counts: RoundCounts = {
    agents: agentCount(mine),
    ranges: ranges.length,
    written: 0,
    removed: 0,
    regrouped: 0,
  };
  for (const span of spans(ranges, rangeSize)) {
    const [source, cache] = await Promise.all([
      side.hashes(shared, span.from, span.to),
      store.hashes(instance.id, shared, span.from, span.to),
    ]);
    const plan = planRows(source.rows, cache.rows, source.groups, cache.groups);
    for (const part of splitPlan(plan, writeBatch)) {
      const rows = await side.rows(
        shared,
        part.write.map((w) => w.id),
      );
      const groups = await side.groups(part.regroup);
      await store.write({ setupId: instance.id, shared, part, rows, groups, fence });
      counts.written += part.write.filter((w) => rows.has(w.id)).length;
      counts.removed += part.remove.length;
      counts.regrouped += part.regroup.length;
    }
  }
  return counts;
}
