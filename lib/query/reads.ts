/** Each read's plan: its SELECT (./read-sql) and how its rows read (./read-rows, ./tactical). */
import type { ReadFilters, ReadKind } from './operations';
import {
  agentRow,
  alertRow,
  moduleRow,
  policyRow,
  type DbRow,
  type InstanceRef,
  type QueryRow,
} from './read-rows';
import { agents, alerts, modules, policies, tactical, type Statement } from './read-sql';
import { tacticalRow } from './tactical';

export type { InstanceRef, QueryRow } from './read-rows';
export { isTactical, sumTactical, type Counts, type Health, type Tactical } from './tactical';
export type { Statement } from './read-sql';

export interface ReadPlan {
  statement: Statement;
  /** One result row as the node gives it, tagged with its Instance. */
  row(r: DbRow, instance: InstanceRef): QueryRow;
}

/** The SELECT of one read and how its rows read. */
export function planRead(kind: ReadKind, filters: ReadFilters, limit: number): ReadPlan {
  switch (kind) {
    case 'agents':
      return { statement: agents(filters, limit), row: agentRow };
    case 'modules':
      return { statement: modules(filters, limit), row: moduleRow };
    case 'alerts':
      return { statement: alerts(filters, limit), row: alertRow };
    case 'policies':
      return { statement: policies(filters, limit), row: policyRow };
    case 'tactical':
      return {
        statement: tactical(filters),
        row: (r, instance) => ({ instance, ...tacticalRow(r) }),
      };
  }
}
