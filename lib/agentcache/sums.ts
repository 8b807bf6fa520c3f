/** Reading per-range figures (rows of `range, n, s`) into the planner's RangeSum, the same on both sides. */
import type { RowDataPacket } from 'mysql2/promise';
import type { RangeSum } from './planner';

export interface SumRow extends RowDataPacket {
  r: string | number;
  n: string | number;
  s: string | number | null;
}

/** Joins the agents' and the memberships' figures of each range. */
export function rangeSums(agents: SumRow[], groups: SumRow[]): RangeSum[] {
  const out = new Map<number, RangeSum>();
  const at = (r: number): RangeSum => {
    let x = out.get(r);
    if (!x) out.set(r, (x = { range: r, agents: 0, agentSum: '0', groups: 0, groupSum: '0' }));
    return x;
  };
  for (const a of agents) {
    const x = at(Number(a.r));
    x.agents = Number(a.n);
    x.agentSum = String(a.s ?? '0');
  }
  for (const g of groups) {
    const x = at(Number(g.r));
    x.groups = Number(g.n);
    x.groupSum = String(g.s ?? '0');
  }
  return [...out.values()];
}

/** How many agents the figures count. */
export function agentCount(sums: RangeSum[]): number {
  return sums.reduce((n, r) => n + r.agents, 0);
}
