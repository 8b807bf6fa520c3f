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
import type { RowDataPacket } from 'mysql2/promise';
import {
  differingRanges,
  knownAfter,
  planRows,
  rangesToCheck,
  spans,
  splitPlan,
  type KnownRanges,
  type Membership,
  type RangeSum,
  type RowPlan,
} from './planner';
import { agentCount } from './sums';

export interface RoundInput {
  instance: Pick<Instance, 'id' | 'name' | 'pool'>;
  store: CacheStore;
  /** tmetaconsole_agent's columns (read once per Command Center connection). */
  ccColumns: readonly string[];
  rangeSize: number;
  writeBatch: number;
  fence?: Fence;
  /** What the last round left equal (null: compare every range on both sides). */
  known: KnownRanges | null;
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

export interface RoundResult extends RoundCounts {
  /** For the next round's `known`. */
  known: KnownRanges;
}

export async function cacheRound(input: RoundInput): Promise<RoundResult> {
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
  let all: RangeSum[];
  let mine: RangeSum[];
  let theirs: RangeSum[];
  if (!input.known) {
    [all, theirs] = await Promise.all([
      side.sums(shared, rangeSize),
      store.sums(instance.id, shared, rangeSize),
    ]);
    mine = all;
  } else {
    // The Command Center's side only where the Instance moved: an unchanged round reads no
    // cache row at all.
    mine = all = await side.sums(shared, rangeSize);
    const check = rangesToCheck(mine, input.known) as Set<number>;
    mine = mine.filter((r) => check.has(r.range));
    theirs = [];
    for (const span of spans(
      [...check].sort((a, b) => a - b),
      rangeSize,
    )) {
      theirs.push(...(await store.sums(instance.id, shared, rangeSize, span)));
    }
  }
  const ranges = differingRanges(mine, theirs);
  const counts: RoundCounts = {
    agents: agentCount(all),
    ranges: ranges.length,
    written: 0,
    removed: 0,
    regrouped: 0,
  };
  const cached = new Set(theirs.filter((r) => r.agents > 0 || r.groups > 0).map((r) => r.range));
  for (const span of spans(ranges, rangeSize)) {
    const write = async (part: RowPlan, rows: Map<string, RowDataPacket>, groups: Membership[]) => {
      await store.write({ setupId: instance.id, shared, part, rows, groups, fence });
      counts.written += part.write.filter((w) => rows.has(w.id)).length;
      counts.removed += part.remove.length;
      counts.regrouped += part.regroup.length;
    };
    let empty = true;
    for (let r = span.from / rangeSize; r < span.to / rangeSize; r++)
      if (cached.has(r)) empty = false;
    if (empty) {
      // Nothing of this span is cached (a first fill): every agent is new, read in full at once.
      const all = await side.range(shared, span.from, span.to);
      const withGroups = new Set(all.groups.map((g) => g.id));
      const plan: RowPlan = {
        write: [...all.rows.keys()].map((id) => ({ id, cacheId: null })),
        remove: [],
        regroup: [...all.rows.keys()].filter((id) => withGroups.has(id)),
      };
      for (const part of splitPlan(plan, writeBatch)) await write(part, all.rows, all.groups);
      continue;
    }
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
      await write(part, rows, await side.groups(part.regroup));
    }
  }
  return { ...counts, known: knownAfter(all, ranges) };
}
