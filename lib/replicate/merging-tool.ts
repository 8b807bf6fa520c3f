/**
 * The Merging tool over every Instance of the engine (the algorithm is merge.ts): the Command
 * Center takes the union of the Instances' objects, each reachable Instance is made equal to it,
 * and an Instance that ends equal with no conflict of its own is marked `unified = 1` with the
 * node tokens that point its console at the Command Center.
 */
import type { DbFacts, Pool } from '../db/pool';
import type { Instance } from '../db/registry';
import { instanceError, ReplicateError } from './errors';
import { mergeTables, type MergeOptions, writeCommandCenter } from './merge';
import { ensureInstanceTables } from './progress';
import {
  checkReplicationFacts,
  type DbAddress,
  metaDbColumns,
  replicationFacts,
  replicationTokens,
  shownTokenValue,
} from './replication-tokens';
import { COMMAND_CENTER_TOKENS, nodeTokens, writeTokens } from './settings';
import { syncTables } from './table-sync';
import type { TableDef } from './tables';
import type { InstanceRef, MergeInstanceReport, MergeReport } from './types';
import type { RowDataPacket } from 'mysql2';

export interface MergingToolContext {
  cc: Pool;
  ccUid: string;
  tables: TableDef[];
  chunk: number;
  /** The pandora-config's database facts; merge cannot name the CC to the nodes without them. */
  ccFacts?: DbFacts;
  ccDbAddress: DbAddress | null;
}

function emptyReport(inst: Instance): MergeInstanceReport {
  return {
    instance: { id: inst.id, name: inst.name },
    applied: {},
    cascaded: {},
    conflicts: [],
    errors: [],
    unified: inst.unified,
    settings: [],
  };
}

/** Makes one reachable Instance equal to the merged Command Center; marks it unified if it is. */
async function settle(ctx: MergingToolContext, inst: Instance, r: MergeInstanceReport) {
  const { cc, ccUid, tables, chunk } = ctx;
  const res = await syncTables(tables, cc, inst.pool, {
    ccUid,
    unified: inst.unified,
    chunk,
    dryRun: false,
    protectCascades: true,
    removeExtra: true,
  });
  r.applied = res.applied;
  r.cascaded = res.cascaded;
  r.conflicts = res.conflicts;
  const left = await syncTables(tables, cc, inst.pool, {
    ccUid,
    unified: true,
    chunk,
    dryRun: true,
  });
  if (r.conflicts.length > 0 || Object.keys(left.applied).length > 0) return;
  // Where the node's console finds the Command Center, checked from here with the very values
  // written; then the node's own tokens: a node marked unified must also refuse local edits, and
  // its console connects to the Command Center from then on.
  if (!ctx.ccFacts) throw new ReplicateError('ERR_REPLICATE_NO_CC_FACTS');
  const facts = replicationFacts(await metaDbColumns(cc, inst.id), ctx.ccFacts, ctx.ccDbAddress);
  await checkReplicationFacts(facts);
  r.settings = (
    await writeTokens(inst.pool, { ...replicationTokens(facts), ...nodeTokens(inst.id) })
  ).map((c) => ({
    ...c,
    from: shownTokenValue(c.token, c.from),
    to: shownTokenValue(c.token, c.to) ?? '',
  }));
  await cc.query('UPDATE tmetaconsole_setup SET unified = 1 WHERE id = ?', [inst.id]);
  r.unified = true;
}

export async function runMergingTool(
  ctx: MergingToolContext,
  instances: Instance[],
  opts: MergeOptions,
): Promise<MergeReport> {
  const report: MergeReport = {
    commandCenter: { applied: {} },
    conflicts: [],
    instances: [],
    settings: { commandCenter: [] },
  };
  const reachable: Instance[] = [];
  for (const inst of instances) {
    try {
      await ensureInstanceTables(inst.pool);
      reachable.push(inst);
    } catch (err) {
      report.instances.push({ ...emptyReport(inst), errors: [instanceError(inst, err)] });
    }
  }
  const merged = await mergeTables(ctx.tables, ctx.cc, reachable, opts);
  report.conflicts = merged.conflicts;
  report.commandCenter.applied = await writeCommandCenter(ctx.cc, merged);
  for (const inst of reachable) {
    const r = emptyReport(inst);
    try {
      await settle(ctx, inst, r);
    } catch (err) {
      r.errors.push(instanceError(inst, err));
    }
    report.instances.push(r);
  }
  const [left] = await ctx.cc.query<({ id: number; server_name: string } & RowDataPacket)[]>(
    'SELECT id, server_name FROM tmetaconsole_setup WHERE disabled = 0 AND unified = 0 ORDER BY id',
  );
  if (left.length === 0) {
    report.settings.commandCenter = await writeTokens(ctx.cc, COMMAND_CENTER_TOKENS);
  } else {
    report.settings.notUnified = left.map((n): InstanceRef => ({
      id: Number(n.id),
      name: n.server_name,
    }));
  }
  return report;
}
