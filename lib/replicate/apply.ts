/**
 * Plans and applies the difference between the Command Center and one Instance, in the catalogue's
 * dependency order (tables.ts): deletes children first (reverse order, child groups before parents),
 * then inserts and updates parents first; one transaction per Instance.
 */
import type { ResultSetHeader, RowDataPacket } from 'mysql2';
import { quoteId as q, quoteList } from '../db/identifier';
import type { Pool, PoolConnection } from '../db/pool';
import { commonColumns, Db, diffTable, fetchRows, TableDiff } from './diff';
import { CcSnapshot, schemaColumns, tableSums } from './table-check';
import { CascadeEdge, cascadeEdges, cascadeTargets, tableExists } from './schema-info';
import { keyColumnsOf, keyOf, keySql, SYNCHRONIZED, TableDef } from './tables';

export interface TableCounts {
  inserted: number;
  updated: number;
  deleted: number;
}

export interface TablePlan extends TableDiff {
  /** Extra keys that will be deleted. */
  remove: string[];
  /** Extra keys kept: the Instance's own rows (not centralised yet), or protected from a cascade. */
  keep: string[];
}

export interface Conflict {
  table: string;
  kind: 'cascade' | 'sameName' | 'sameId' | 'error';
  keys: string[];
  name?: string;
  winner?: string;
  message: string;
}

export interface ApplyResult {
  applied: Record<string, TableCounts>;
  cascaded: Record<string, number>;
  kept: Record<string, number>;
  conflicts: Conflict[];
}

export interface PlanOptions {
  ccUid: string;
  /** `tmetaconsole_setup.unified = 1`: the CC is the truth and extra rows go. */
  unified: boolean;
  chunk?: number;
  /** Never delete a row that instance data depends on through a cascade (merge). */
  protectCascades?: boolean;
  /** Delete every extra row (merge with removeInstanceOnly); default: by `unified`. */
  removeExtra?: boolean;
  /** The Command Center as this round read it (shared by the round's Instances). */
  snapshot?: CcSnapshot;
  /** The Instance's columns per table as last read (default: read now). */
  instSchema?: Map<string, string[]>;
}

async function trackedKeys(
  inst: Db,
  ccUid: string,
  table: string,
  keys: string[],
): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < keys.length; i += 500) {
    const [rows] = await inst.query<({ row_key: string } & RowDataPacket)[]>(
      'SELECT row_key FROM tsync_replica_rows WHERE cc_uid = ? AND tbl = ? AND row_key IN (?)',
      [ccUid, table, keys.slice(i, i + 500)],
    );
    for (const r of rows) found.add(r.row_key);
  }
  return found;
}

const CASCADE_DEPTH = 8;

async function countIn(db: Db, table: string, column: string, values: unknown[]): Promise<number> {
  let n = 0;
  for (let i = 0; i < values.length; i += 1000) {
    const [rows] = await db.query<({ n: string | number } & RowDataPacket)[]>(
      `SELECT COUNT(*) AS n FROM ${q(table)} WHERE ${q(column)} IN (?)`,
      [values.slice(i, i + 1000)],
    );
    n += Number(rows[0].n);
  }
  return n;
}

async function valuesOf(
  db: Db,
  table: string,
  want: string,
  column: string,
  values: unknown[],
): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < values.length; i += 1000) {
    const [rows] = await db.query<({ v: unknown } & RowDataPacket)[]>(
      `SELECT DISTINCT ${q(want)} AS v FROM ${q(table)} WHERE ${q(column)} IN (?) AND ${q(want)} IS NOT NULL`,
      [values.slice(i, i + 1000)],
    );
    for (const r of rows) out.push(r.v);
  }
  return out;
}

/**
 * Rows that a delete of these keys would take with it through the Instance's declared ON DELETE
 * CASCADE keys, transitively, per table; with `ownOnly`, only tables that are not synchronized
 * (the Instance's own data: module alerts, 2FA settings…).
 */
export async function cascadeReach(
  inst: Db,
  edges: CascadeEdge[],
  def: TableDef,
  keys: string[],
  ownOnly = false,
): Promise<Record<string, number>> {
  const reach: Record<string, number> = {};
  const visit = async (
    table: string,
    column: string,
    values: unknown[],
    depth: number,
  ): Promise<void> => {
    if (values.length === 0 || depth > CASCADE_DEPTH) return;
    for (const e of edges) {
      if (e.parent !== table) continue;
      const referenced =
        e.parentColumn === column
          ? values
          : await valuesOf(inst, table, e.parentColumn, column, values);
      if (referenced.length === 0) continue;
      const n = await countIn(inst, e.child, e.column, referenced);
      if (n === 0) continue;
      reach[e.child] = (reach[e.child] ?? 0) + n;
      await visit(e.child, e.column, referenced, depth + 1);
    }
  };
  // A key of several columns is referenced by no foreign key (ttag_policy_module): nothing cascades.
  if (!def.keyColumns) await visit(def.table, def.key, keys, 0);
  if (ownOnly) for (const t of Object.keys(reach)) if (SYNCHRONIZED.has(t)) delete reach[t];
  return reach;
}

/** Compares every chosen table; decides which extra rows go. Writes nothing. */
export async function planInstance(
  tables: TableDef[],
  cc: Db,
  inst: Db,
  opts: PlanOptions,
): Promise<{ plans: TablePlan[]; conflicts: Conflict[] }> {
  const plans: TablePlan[] = [];
  const conflicts: Conflict[] = [];
  const removeAll = opts.removeExtra ?? opts.unified;
  const edges = opts.protectCascades ? await cascadeEdges(inst) : [];
  const snapshot = opts.snapshot ?? new CcSnapshot(cc);
  const [ccSchema, instSchema] = await Promise.all([
    snapshot.columns(),
    opts.instSchema ?? schemaColumns(inst),
  ]);
  const columns = tables.map((def) =>
    commonColumns(def, ccSchema.get(def.table) ?? [], instSchema.get(def.table) ?? []),
  );
  const targets = tables.map((def, i) => ({ def, cols: columns[i].hash }));
  const [ccSums, instSums] = await Promise.all([
    snapshot.tableSums(targets),
    tableSums(inst, targets),
  ]);
  for (const [i, def] of tables.entries()) {
    const cols = columns[i];
    // Same rows on both sides (count and hash sum): nothing to walk.
    if (ccSums[i] === instSums[i]) {
      plans.push({ def, cols, insert: [], update: [], extra: [], remove: [], keep: [] });
      continue;
    }
    const diff = await diffTable(def, cols, cc, inst, opts.chunk);
    let remove: string[];
    let keep: string[];
    if (removeAll) {
      remove = diff.extra;
      keep = [];
    } else {
      const tracked = await trackedKeys(inst, opts.ccUid, def.table, diff.extra);
      remove = diff.extra.filter((k) => tracked.has(k));
      keep = diff.extra.filter((k) => !tracked.has(k));
    }
    if (opts.protectCascades && remove.length > 0) {
      const safe: string[] = [];
      for (const k of remove) {
        const reach = await cascadeReach(inst, edges, def, [k], true);
        if (Object.keys(reach).length > 0) {
          keep.push(k);
          conflicts.push({
            table: def.table,
            kind: 'cascade',
            keys: [k],
            message: `${def.table} ${def.key}=${k} exists only on the instance and its delete would cascade into ${Object.entries(
              reach,
            )
              .map(([t, n]) => `${n} row(s) of ${t}`)
              .join(', ')}: kept`,
          });
        } else safe.push(k);
      }
      remove = safe;
    }
    plans.push({ ...diff, remove, keep });
  }
  return { plans, conflicts };
}

export function planCounts(plans: TablePlan[]): {
  applied: Record<string, TableCounts>;
  kept: Record<string, number>;
} {
  const applied: Record<string, TableCounts> = {};
  const kept: Record<string, number> = {};
  for (const p of plans) {
    if (p.insert.length || p.update.length || p.remove.length) {
      applied[p.def.table] = {
        inserted: p.insert.length,
        updated: p.update.length,
        deleted: p.remove.length,
      };
    }
    if (p.keep.length) kept[p.def.table] = p.keep.length;
  }
  return { applied, kept };
}

/** Orders group ids so that every parent comes before its children (within the given set). */
export function parentsFirst(rows: { key: string; parent: string }[]): string[] {
  const inSet = new Map(rows.map((r) => [r.key, r.parent]));
  const out: string[] = [];
  const done = new Set<string>();
  const visit = (k: string, depth: number): void => {
    if (done.has(k) || depth > rows.length) return;
    const p = inSet.get(k);
    if (p !== undefined && p !== k && inSet.has(p)) visit(p, depth + 1);
    if (!done.has(k)) {
      done.add(k);
      out.push(k);
    }
  };
  for (const r of rows) visit(r.key, 0);
  return out;
}

async function existingRefs(
  inst: Db,
  table: string,
  key: string,
  values: unknown[],
): Promise<Set<string>> {
  const wanted = [...new Set(values.filter((v) => v !== null && v !== undefined).map(String))];
  const found = new Set<string>();
  if (wanted.length === 0 || !(await tableExists(inst, table))) return found;
  const [rows] = await inst.query<({ k: string | number } & RowDataPacket)[]>(
    `SELECT ${q(key)} AS k FROM ${q(table)} WHERE ${q(key)} IN (?)`,
    [wanted],
  );
  for (const r of rows) found.add(String(r.k));
  return found;
}

async function countRows(conn: PoolConnection, table: string): Promise<number> {
  const [rows] = await conn.query<({ n: string | number } & RowDataPacket)[]>(
    `SELECT COUNT(*) AS n FROM ${q(table)}`,
  );
  return Number(rows[0].n);
}

/**
 * Counts, around `work`, the rows that cascades take out of the tables a delete from `table`
 * reaches (read from the Instance's schema).
 */
export async function countCascades(
  conn: PoolConnection,
  edges: CascadeEdge[],
  table: string,
  cascaded: Record<string, number>,
  work: () => Promise<void>,
): Promise<void> {
  const targets = cascadeTargets(edges, table);
  const before = new Map<string, number>();
  for (const t of targets) before.set(t, await countRows(conn, t));
  await work();
  for (const t of targets) {
    const gone = (before.get(t) ?? 0) - (await countRows(conn, t));
    if (gone > 0) cascaded[t] = (cascaded[t] ?? 0) + gone;
  }
}

/**
 * Applies the plans on one Instance connection, inside the caller's transaction: deletes first
 * (children before parents), then inserts and updates in dependency order.
 */
export async function applyPlans(
  plans: TablePlan[],
  cc: Pool,
  conn: PoolConnection,
  ccUid: string,
): Promise<Pick<ApplyResult, 'applied' | 'cascaded'>> {
  const applied: Record<string, TableCounts> = {};
  const cascaded: Record<string, number> = {};
  const counts = (t: string): TableCounts =>
    (applied[t] ??= { inserted: 0, updated: 0, deleted: 0 });
  const edges = plans.some((p) => p.remove.length > 0) ? await cascadeEdges(conn) : [];

  for (const p of [...plans].reverse()) {
    if (p.remove.length === 0) continue;
    const { def } = p;
    let order = p.remove;
    if (def.parent) {
      const rows = await fetchRows(conn, def, [def.key, def.parent], p.remove);
      order = parentsFirst(
        rows.map((r) => ({ key: String(r[def.key]), parent: String(r[def.parent as string]) })),
      ).reverse();
    }
    await countCascades(conn, edges, def.table, cascaded, async () => {
      for (let i = 0; i < order.length; i += 500) {
        const part = order.slice(i, i + 500);
        // One by one for groups, so children really go before their parents.
        const batches = def.parent ? part.map((k) => [k]) : [part];
        for (const b of batches) {
          const [res] = await conn.query<ResultSetHeader>(
            `DELETE FROM ${q(def.table)} WHERE ${keySql(def)} IN (?)`,
            [b],
          );
          counts(def.table).deleted += res.affectedRows;
        }
        await conn.query(
          'DELETE FROM tsync_replica_rows WHERE cc_uid = ? AND tbl = ? AND row_key IN (?)',
          [ccUid, def.table, part],
        );
      }
    });
  }

  for (const p of plans) {
    const { def, cols } = p;
    const keys = [...p.insert, ...p.update];
    if (keys.length === 0) continue;
    const inserting = new Set(p.insert);
    for (let i = 0; i < keys.length; i += 500) {
      let rows = await fetchRows(cc, def, cols.copy, keys.slice(i, i + 500));
      for (const ref of def.optionalRefs ?? []) {
        if (!cols.copy.includes(ref.column)) continue;
        const present = await existingRefs(
          conn,
          ref.table,
          ref.key,
          rows.map((r) => r[ref.column]),
        );
        for (const r of rows) {
          const v = r[ref.column];
          if (v !== null && v !== undefined && !present.has(String(v))) r[ref.column] = null;
        }
      }
      if (def.parent) {
        const byKey = new Map(rows.map((r) => [keyOf(def, r), r]));
        rows = parentsFirst(
          rows.map((r) => ({ key: String(r[def.key]), parent: String(r[def.parent as string]) })),
        ).map((k) => byKey.get(k) as Record<string, unknown>);
      }
      const ins = rows.filter((r) => inserting.has(keyOf(def, r)));
      const upd = rows.filter((r) => !inserting.has(keyOf(def, r)));
      if (ins.length > 0) {
        const [res] = await conn.query<ResultSetHeader>(
          `INSERT INTO ${q(def.table)} (${quoteList(cols.copy)}) VALUES ?`,
          [ins.map((r) => cols.copy.map((c) => r[c]))],
        );
        counts(def.table).inserted += res.affectedRows;
        await conn.query('INSERT IGNORE INTO tsync_replica_rows (cc_uid, tbl, row_key) VALUES ?', [
          ins.map((r) => [ccUid, def.table, keyOf(def, r)]),
        ]);
      }
      const keyCols = keyColumnsOf(def);
      const setCols = cols.copy.filter((c) => !keyCols.includes(c));
      for (const r of setCols.length > 0 ? upd : []) {
        await conn.query(
          `UPDATE ${q(def.table)} SET ${setCols.map((c) => `${q(c)} = ?`).join(', ')} WHERE ${keySql(def)} = ?`,
          [...setCols.map((c) => r[c]), keyOf(def, r)],
        );
        counts(def.table).updated += 1;
      }
    }
  }
  return { applied, cascaded };
}
