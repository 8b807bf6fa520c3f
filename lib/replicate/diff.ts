/**
 * Chunked comparison of one synchronized table between the Command Center and an Instance:
 * row hashes are computed by each server in SQL, a chunk of keys at a time, so no table is ever
 * pulled into memory; only the keys that differ are kept.
 */
import { ReplicateError } from './errors';
import type { RowDataPacket } from 'mysql2';
import { quoteId as q, quoteList } from '../db/identifier';
import type { Db } from './schema-info';
import { keySql, TableDef } from './tables';

export type { Db } from './schema-info';

export interface TableColumns {
  /** Written to the Instance. */
  copy: string[];
  /** Compared (copy minus optional references). */
  hash: string[];
}

export interface TableDiff {
  def: TableDef;
  cols: TableColumns;
  insert: string[];
  update: string[];
  /** Keys the Instance has and the CC has not. */
  extra: string[];
}

/**
 * The columns both sides have (from each one's information_schema), in the Command Center's
 * order, less the node-local ones: what is copied, and what is compared.
 */
export function commonColumns(def: TableDef, a: string[], b: string[]): TableColumns {
  if (!a.includes(def.key))
    throw new ReplicateError('ERR_REPLICATE_TABLE_MISSING', { table: def.table, side: 'cc' });
  const theirs = new Set(b);
  if (!theirs.has(def.key))
    throw new ReplicateError('ERR_REPLICATE_TABLE_MISSING', { table: def.table, side: 'instance' });
  const local = new Set(def.local ?? []);
  const copy = a.filter((c) => theirs.has(c) && !local.has(c));
  const optional = new Set((def.optionalRefs ?? []).map((r) => r.column));
  return { copy, hash: copy.filter((c) => !optional.has(c)) };
}

export function keyParam(def: TableDef): string {
  return def.keyType === 'int' ? 'CAST(? AS UNSIGNED)' : '?';
}

/**
 * Each column as `length:value` or `N` for NULL, so NULL, '' and values holding the separator
 * can never hash alike.
 */
export function hashExpr(cols: string[]): string {
  const parts = cols.map((c) => `IFNULL(CONCAT(LENGTH(${q(c)}), ':', ${q(c)}), 'N')`);
  return `MD5(CONCAT_WS(',', ${parts.join(', ')}))`;
}

interface HashRow {
  k: string | number;
  h: string;
}

async function hashes(
  db: Db,
  def: TableDef,
  cols: TableColumns,
  after: string | null,
  upTo: string | null,
  limit: number,
): Promise<HashRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (after !== null) {
    where.push(`${keySql(def)} > ${keyParam(def)}`);
    params.push(after);
  }
  if (upTo !== null) {
    where.push(`${keySql(def)} <= ${keyParam(def)}`);
    params.push(upTo);
  }
  params.push(limit);
  const sql =
    `SELECT ${keySql(def)} AS k, ${hashExpr(cols.hash)} AS h FROM ${q(def.table)}` +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY ${keySql(def)} LIMIT ?`;
  const [rows] = await db.query<(HashRow & RowDataPacket)[]>(sql, params);
  return rows;
}

/**
 * Walks the CC's keys in chunks; for each chunk, reads the Instance's hashes of the same key range
 * (the server compares the keys, so both sides use the table's own collation), and keeps the keys
 * that are new, changed or only on the Instance.
 */
export async function diffTable(
  def: TableDef,
  cols: TableColumns,
  cc: Db,
  inst: Db,
  chunk = 1000,
): Promise<TableDiff> {
  const out: TableDiff = { def, cols, insert: [], update: [], extra: [] };
  let after: string | null = null;
  for (let round = 0; round < 10_000_000; round++) {
    const ccRows = await hashes(cc, def, cols, after, null, chunk);
    const full = ccRows.length === chunk;
    const upTo = full ? String(ccRows[ccRows.length - 1].k) : null;
    const mine = new Map<string, string>();
    for (const r of ccRows) mine.set(String(r.k), r.h);
    // The Instance may hold many more keys in the same range: read them in chunks too.
    let instAfter = after;
    for (let page = 0; page < 10_000_000; page++) {
      const instRows = await hashes(inst, def, cols, instAfter, upTo, chunk);
      for (const r of instRows) {
        const k = String(r.k);
        const h = mine.get(k);
        if (h === undefined) out.extra.push(k);
        else {
          if (h !== r.h) out.update.push(k);
          mine.delete(k);
        }
      }
      if (instRows.length < chunk) break;
      instAfter = String(instRows[instRows.length - 1].k);
    }
    for (const k of mine.keys()) out.insert.push(k);
    if (!full) break;
    after = upTo;
  }
  return out;
}

/** Full rows for some keys, in batches. */
export async function fetchRows(
  db: Db,
  def: TableDef,
  columns: string[],
  keys: string[],
  batch = 500,
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += batch) {
    const part = keys.slice(i, i + batch);
    const [rows] = await db.query<RowDataPacket[]>(
      `SELECT ${quoteList(columns)} FROM ${q(def.table)} WHERE ${keySql(def)} IN (?)`,
      [part],
    );
    out.push(...rows);
  }
  return out;
}
