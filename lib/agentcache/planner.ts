/**
 * The range-checksum planner: which agents to write, rewrite or remove so that one Instance's
 * part of the cache equals its agents, found cheaply. Both sides give, per range of agent ids,
 * a count and a sum of row checksums (agents and secondary groups apart); only ranges whose
 * figures differ are looked at row by row, and only rows whose checksums differ are read in full.
 * Pure: no database.
 */

/** One range's figures on one side (`range` = agent id DIV rangeSize). */
export interface RangeSum {
  range: number;
  agents: number;
  agentSum: string;
  groups: number;
  groupSum: string;
}

/** A range's figures as one comparable text. */
export function rangeKey(r: RangeSum): string {
  return `${r.agents}/${r.agentSum}/${r.groups}/${r.groupSum}`;
}

/**
 * The Instance's figures of the ranges a round left equal on both sides, by range: the next
 * round need not compute the Command Center's side of a range whose Instance figures are still
 * these (only this engine writes the cache, and it writes only ranges that differed).
 */
export type KnownRanges = Map<number, string>;

/**
 * The ranges whose Command Center side must be computed: all of them without `known` (a first
 * round, an audit, after a failure), else those whose Instance figures moved since, and those
 * the Instance no longer has (their cached rows must go).
 */
export function rangesToCheck(
  instance: RangeSum[],
  known: KnownRanges | null,
): Set<number> | 'all' {
  if (!known) return 'all';
  const out = new Set<number>();
  const present = new Set<number>();
  for (const r of instance) {
    present.add(r.range);
    if (known.get(r.range) !== rangeKey(r)) out.add(r.range);
  }
  for (const range of known.keys()) if (!present.has(range)) out.add(range);
  return out;
}

/** What the next round may trust: the Instance's figures of every range not written this round. */
export function knownAfter(instance: RangeSum[], differing: number[]): KnownRanges {
  const written = new Set(differing);
  return new Map(instance.filter((r) => !written.has(r.range)).map((r) => [r.range, rangeKey(r)]));
}

/** The ranges whose figures differ, ascending. */
export function differingRanges(instance: RangeSum[], cc: RangeSum[]): number[] {
  const key = rangeKey;
  const mine = new Map(instance.map((r) => [r.range, key(r)]));
  const theirs = new Map(cc.map((r) => [r.range, key(r)]));
  const out = new Set<number>();
  for (const [range, k] of mine) if (theirs.get(range) !== k) out.add(range);
  for (const range of theirs.keys()) if (!mine.has(range)) out.add(range);
  return [...out].sort((a, b) => a - b);
}

/** Agent id spans [from, to) covering the ranges, neighbours joined, at most `maxRanges` each. */
export function spans(
  ranges: number[],
  rangeSize: number,
  maxRanges = 20,
): { from: number; to: number }[] {
  const out: { from: number; to: number; n: number }[] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && last.to === r * rangeSize && last.n < maxRanges) {
      last.to += rangeSize;
      last.n++;
    } else out.push({ from: r * rangeSize, to: (r + 1) * rangeSize, n: 1 });
  }
  return out.map(({ from, to }) => ({ from, to }));
}

/** An agent's checksum on the Instance (`id` = tagente.id_agente). */
export interface SourceHash {
  id: string;
  hash: string;
}

/** A cache row's checksum (`cacheId` = tmetaconsole_agent.id_agente, `id` = its id_tagente). */
export interface CacheHash {
  cacheId: string;
  id: string;
  hash: string;
}

/** A secondary group membership (`id` = the agent's Instance id). */
export interface Membership {
  id: string;
  group: string;
}

export interface RowPlan {
  /** Agents to write: new ones (cacheId null) and changed ones (their cache row's id). */
  write: { id: string; cacheId: string | null }[];
  /** Cache rows to remove: agents gone from the Instance, and duplicates of one agent. */
  remove: string[];
  /** Agents whose secondary groups are rewritten (a subset of the Instance's agents). */
  regroup: string[];
}

function groupsById(list: Membership[]): Map<string, string> {
  const by = new Map<string, string[]>();
  for (const m of list) {
    const g = by.get(m.id);
    if (g) g.push(m.group);
    else by.set(m.id, [m.group]);
  }
  // A multiset: Pandora's table has no unique key, so a membership may be there twice.
  return new Map([...by].map(([id, g]) => [id, g.sort((a, b) => Number(a) - Number(b)).join(',')]));
}

/** What makes the cache rows of one span equal the Instance's rows of that span. */
export function planRows(
  source: SourceHash[],
  cache: CacheHash[],
  sourceGroups: Membership[],
  cacheGroups: Membership[],
): RowPlan {
  const plan: RowPlan = { write: [], remove: [], regroup: [] };
  const cached = new Map<string, CacheHash>();
  const byNumber = (a: CacheHash, b: CacheHash) => Number(a.cacheId) - Number(b.cacheId);
  const duplicated = new Set<string>();
  for (const row of [...cache].sort(byNumber)) {
    if (cached.has(row.id)) {
      plan.remove.push(row.cacheId);
      duplicated.add(row.id);
    } else cached.set(row.id, row);
  }
  const present = new Set(source.map((s) => s.id));
  for (const [id, row] of cached) if (!present.has(id)) plan.remove.push(row.cacheId);
  const mine = groupsById(sourceGroups);
  const theirs = groupsById(cacheGroups);
  for (const s of source) {
    const c = cached.get(s.id);
    if (!c) plan.write.push({ id: s.id, cacheId: null });
    else if (c.hash !== s.hash) plan.write.push({ id: s.id, cacheId: c.cacheId });
    // A removed duplicate takes its groups along (ON DELETE CASCADE): the kept row's are rewritten.
    const same = (mine.get(s.id) ?? '') === (c ? (theirs.get(s.id) ?? '') : '');
    if (!same || duplicated.has(s.id)) {
      plan.regroup.push(s.id);
    }
  }
  return plan;
}

/** A plan cut into parts of at most `size` agents written, each one transaction. */
export function splitPlan(plan: RowPlan, size: number): RowPlan[] {
  const parts: RowPlan[] = [];
  const regroup = new Set(plan.regroup);
  const written = new Set(plan.write.map((w) => w.id));
  for (let i = 0; i < plan.write.length; i += size) {
    const write = plan.write.slice(i, i + size);
    parts.push({
      write,
      remove: [],
      regroup: write.map((w) => w.id).filter((id) => regroup.has(id)),
    });
  }
  const onlyGroups = plan.regroup.filter((id) => !written.has(id));
  for (let i = 0; i < onlyGroups.length; i += size) {
    parts.push({ write: [], remove: [], regroup: onlyGroups.slice(i, i + size) });
  }
  for (let i = 0; i < plan.remove.length; i += size) {
    parts.push({ write: [], remove: plan.remove.slice(i, i + size), regroup: [] });
  }
  return parts;
}
