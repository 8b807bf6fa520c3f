/**
 * The table source of one Instance: compare every chosen table with the Command Center, then
 * (unless planning) apply the difference in one Instance transaction.
 */
import type { Pool } from '../db/pool';
import { inTransaction } from '../db/transaction';
import { applyPlans, type ApplyResult, planCounts, planInstance, type TableCounts } from './apply';
import type { CcSnapshot } from './table-check';
import type { TableDef } from './tables';

export interface TableSyncOptions {
  ccUid: string;
  /** `tmetaconsole_setup.unified`: the Command Center is the truth and extra rows go. */
  unified: boolean;
  /** Keys compared per chunk. */
  chunk: number;
  dryRun: boolean;
  /** Merge: never delete a row that Instance data depends on through a cascade. */
  protectCascades?: boolean;
  /** Merge with removeInstanceOnly: delete every extra row. */
  removeExtra?: boolean;
  /** The Command Center as this round read it (shared by the round's Instances). */
  snapshot?: CcSnapshot;
  /** The Instance's columns per table as last read (default: read now). */
  instSchema?: Map<string, string[]>;
}

/** Counts without the tables nothing happened to. */
function nonZero(counts: Record<string, TableCounts>): Record<string, TableCounts> {
  const out: Record<string, TableCounts> = {};
  for (const [t, c] of Object.entries(counts)) {
    if (c.inserted + c.updated + c.deleted > 0) out[t] = { ...c };
  }
  return out;
}

export async function syncTables(
  tables: TableDef[],
  cc: Pool,
  inst: Pool,
  opts: TableSyncOptions,
): Promise<ApplyResult> {
  const { plans, conflicts } = await planInstance(tables, cc, inst, {
    ccUid: opts.ccUid,
    unified: opts.unified,
    chunk: opts.chunk,
    protectCascades: opts.protectCascades,
    removeExtra: opts.removeExtra,
    snapshot: opts.snapshot,
    instSchema: opts.instSchema,
  });
  const counts = planCounts(plans);
  if (opts.dryRun) return { applied: counts.applied, cascaded: {}, kept: counts.kept, conflicts };
  const res = await inTransaction(inst, (conn) => applyPlans(plans, cc, conn, opts.ccUid));
  return { applied: nonZero(res.applied), cascaded: res.cascaded, kept: counts.kept, conflicts };
}
