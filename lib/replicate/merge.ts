/**
 * The Merging tool: the first centralisation of Instances that already hold objects. The rows of
 * the Command Center and of every Instance are lined up by id; `priority` (Instance ids, 0 = the
 * Command Center) decides whose content wins for the same id and who keeps a name that two ids
 * share. The result is written to the Command Center, then every Instance is made equal to it
 * (never deleting a row whose delete would cascade into the Instance's own data: those are listed
 * as conflicts), and each Instance left with no conflict is marked `unified = 1`.
 *
 * Unlike a sync round, a merge reads whole tables: it is a one-off operation on object tables.
 */
import type { RowDataPacket } from 'mysql2';
import { quoteId as q, quoteList } from '../db/identifier';
import type { Pool } from '../db/pool';
import type { Instance } from '../db/registry';
import { inTransaction } from '../db/transaction';
import { Conflict, TableCounts } from './apply';
import { Db, existingColumns, tableColumns } from './schema-info';
import { keyColumnsOf, keyOf, keySql, TableDef } from './tables';

export interface MergeOptions {
  /** Instance ids in order of precedence; 0 stands for the Command Center. */
  priority: number[];
  /** Drop objects only Instances have instead of bringing them into the Command Center. */
  removeInstanceOnly?: boolean;
}

interface Owned {
  row: Record<string, unknown>;
  owner: number;
  rank: number;
}

export interface MergedTables {
  target: Map<TableDef, { cols: string[]; rows: Map<string, Owned> }>;
  conflicts: Conflict[];
}

/** Participants in order: the priority list, then the CC if not listed, then the rest by id. */
export function precedence(priority: number[], ids: number[]): number[] {
  const known = new Set([0, ...ids]);
  const out: number[] = [];
  for (const id of priority) if (known.has(id) && !out.includes(id)) out.push(id);
  if (!out.includes(0)) out.push(0);
  for (const id of [...ids].sort((a, b) => a - b)) if (!out.includes(id)) out.push(id);
  return out;
}

async function readAll(db: Db, def: TableDef, cols: string[]): Promise<Record<string, unknown>[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT ${quoteList(cols)} FROM ${q(def.table)} ORDER BY ${keySql(def)}`,
  );
  return rows;
}

const same = (a: Record<string, unknown>, b: Record<string, unknown>, cols: string[]): boolean =>
  cols.every((c) => JSON.stringify(a[c]) === JSON.stringify(b[c]));

/** Builds the merged content of every table. Reads only. */
export async function mergeTables(
  tables: TableDef[],
  cc: Pool,
  instances: Instance[],
  opts: MergeOptions,
): Promise<MergedTables> {
  const order = precedence(
    opts.priority,
    instances.map((i) => i.id),
  );
  const dbOf = (id: number): Db =>
    id === 0 ? cc : (instances.find((i) => i.id === id) as Instance).pool;
  const target: MergedTables['target'] = new Map();
  const conflicts: Conflict[] = [];
  for (const def of tables) {
    // The columns every participant has, in the Command Center's order, less node-local state.
    const localCols = new Set(def.local ?? []);
    let cols = (await tableColumns(cc, def.table)).filter((c) => !localCols.has(c));
    for (const i of instances) {
      const theirs = await existingColumns(i.pool, def.table);
      cols = cols.filter((c) => theirs.has(c));
    }
    const local = new Set((def.optionalRefs ?? []).map((r) => r.column));
    const compared = cols.filter((c) => !local.has(c));
    const rows = new Map<string, Owned>();
    const ccKeys = new Set<string>();
    for (const [rank, id] of order.entries()) {
      for (const row of await readAll(dbOf(id), def, cols)) {
        const key = keyOf(def, row);
        if (id === 0) ccKeys.add(key);
        const held = rows.get(key);
        if (!held) rows.set(key, { row, owner: id, rank });
        else if (!same(held.row, row, compared)) {
          conflicts.push({
            table: def.table,
            kind: 'sameId',
            keys: [key],
            winner: held.owner === 0 ? 'command center' : `instance ${held.owner}`,
            message: `${def.table} ${def.key}=${key} differs between ${held.owner === 0 ? 'the Command Center' : `instance ${held.owner}`} and ${id === 0 ? 'the Command Center' : `instance ${id}`}: the first wins by priority`,
          });
        }
      }
    }
    if (opts.removeInstanceOnly)
      for (const k of [...rows.keys()]) if (!ccKeys.has(k)) rows.delete(k);
    if (def.name) {
      const byName = new Map<string, string[]>();
      for (const [k, o] of rows) {
        const n = String(o.row[def.name] ?? '');
        byName.set(n, [...(byName.get(n) ?? []), k]);
      }
      for (const [name, keys] of byName) {
        if (keys.length < 2) continue;
        keys.sort((a, b) => (rows.get(a) as Owned).rank - (rows.get(b) as Owned).rank);
        conflicts.push({
          table: def.table,
          kind: 'sameName',
          keys,
          name,
          winner: keys[0],
          message: `${def.table}: ${keys.length} ids share the name "${name}" (${keys.join(', ')})${def.uniqueName ? `: ${def.key}=${keys[0]} wins by priority, the others are dropped` : ': all kept (the name is not unique in Pandora)'}`,
        });
        if (def.uniqueName) for (const k of keys.slice(1)) rows.delete(k);
      }
    }
    target.set(def, { cols, rows });
  }
  return { target, conflicts };
}

/** Makes the Command Center's tables equal to the merged content, in one transaction. */
export async function writeCommandCenter(
  cc: Pool,
  merged: MergedTables,
): Promise<Record<string, TableCounts>> {
  // One attempt: the Merging tool is run by hand, and its counts are of this run.
  return inTransaction(
    cc,
    async (conn) => {
      const applied: Record<string, TableCounts> = {};
      const entries = [...merged.target.entries()];
      const current = new Map<TableDef, Map<string, Record<string, unknown>>>();
      for (const [def, t] of entries) {
        const rows = await readAll(conn, def, t.cols);
        current.set(def, new Map(rows.map((r) => [keyOf(def, r), r])));
      }
      const counts = (t: string): TableCounts =>
        (applied[t] ??= { inserted: 0, updated: 0, deleted: 0 });
      for (const [def, t] of [...entries].reverse()) {
        for (const k of (current.get(def) as Map<string, unknown>).keys()) {
          if (t.rows.has(k)) continue;
          await conn.query(`DELETE FROM ${q(def.table)} WHERE ${keySql(def)} = ?`, [k]);
          counts(def.table).deleted += 1;
        }
      }
      for (const [def, t] of entries) {
        const mine = current.get(def) as Map<string, Record<string, unknown>>;
        const keyCols = keyColumnsOf(def);
        const setCols = t.cols.filter((c) => !keyCols.includes(c));
        const sorted = [...t.rows.values()];
        // A user coming from an Instance may point at an event filter the CC lacks (FK).
        for (const ref of def.optionalRefs ?? []) {
          if (!t.cols.includes(ref.column)) continue;
          const [present] = await conn.query<({ k: unknown } & RowDataPacket)[]>(
            `SELECT ${q(ref.key)} AS k FROM ${q(ref.table)}`,
          );
          const ok = new Set(present.map((r) => String(r.k)));
          for (const o of sorted) {
            const v = o.row[ref.column];
            if (v !== null && v !== undefined && !ok.has(String(v)))
              o.row = { ...o.row, [ref.column]: null };
          }
        }
        if (def.parent) {
          const p = def.parent;
          const depth = (o: Owned, seen = 0): number => {
            const parent = t.rows.get(String(o.row[p]));
            return parent && seen < t.rows.size ? 1 + depth(parent, seen + 1) : 0;
          };
          sorted.sort((a, b) => depth(a) - depth(b));
        }
        for (const o of sorted) {
          const k = keyOf(def, o.row);
          const old = mine.get(k);
          if (!old) {
            await conn.query(`INSERT INTO ${q(def.table)} (${quoteList(t.cols)}) VALUES (?)`, [
              t.cols.map((c) => o.row[c]),
            ]);
            counts(def.table).inserted += 1;
          } else if (setCols.length > 0 && !same(old, o.row, t.cols)) {
            await conn.query(
              `UPDATE ${q(def.table)} SET ${setCols.map((c) => `${q(c)} = ?`).join(', ')} WHERE ${keySql(def)} = ?`,
              [...setCols.map((c) => o.row[c]), k],
            );
            counts(def.table).updated += 1;
          }
        }
      }
      return applied;
    },
    { attempts: 1 },
  );
}
