/**
 * The cheap first look of a table comparison: each side's columns in one read of its schema, and
 * per table a row count and a sum of row hashes (the very hashes the chunked comparison of
 * diff.ts compares), all tables in one query, so an unchanged Instance costs two queries instead
 * of a schema read and a walk over the keys of every table. What the Command Center answers is read once per round for all Instances
 * (CcSnapshot): its cost does not grow with the number of Instances.
 */
import type { RowDataPacket } from 'mysql2';
import { quoteId as q } from '../db/identifier';
import { hashExpr } from './diff';
import type { Db } from './schema-info';
import type { TableDef } from './tables';

/** The columns of every table of the current database, lower case, in each table's order. */
export async function schemaColumns(db: Db): Promise<Map<string, string[]>> {
  const [rows] = await db.query<({ t: string; c: string } & RowDataPacket)[]>(
    'SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION',
  );
  const out = new Map<string, string[]>();
  for (const r of rows) {
    const t = r.t.toLowerCase();
    let list = out.get(t);
    if (!list) out.set(t, (list = []));
    list.push(r.c.toLowerCase());
  }
  return out;
}

/** What one side's tables hold under their column lists: a row count and a sum of row hashes. */
export interface SumTarget {
  def: TableDef;
  cols: string[];
}

/**
 * Each table's row count and sum of row hashes over its columns, as comparable texts, in one
 * query for all the tables (one round trip per side, however many tables).
 */
export async function tableSums(db: Db, targets: readonly SumTarget[]): Promise<string[]> {
  if (targets.length === 0) return [];
  const sql = targets
    .map(
      ({ def, cols }, i) =>
        `SELECT ${i} AS i, COUNT(*) AS n, COALESCE(SUM(CONV(SUBSTR(${hashExpr(cols)}, 1, 15), 16, 10)), 0) AS s FROM ${q(def.table)}`,
    )
    .join(' UNION ALL ');
  const [rows] =
    await db.query<
      ({ i: string | number; n: string | number; s: string | number } & RowDataPacket)[]
    >(sql);
  const out = new Array<string>(targets.length).fill('');
  for (const r of rows) out[Number(r.i)] = `${r.n}:${r.s}`;
  return out;
}

/** What one round reads of the Command Center, once for all its Instances. */
export class CcSnapshot {
  private schema: Promise<Map<string, string[]>> | null = null;
  private readonly sums = new Map<string, Promise<string[]>>();

  constructor(private readonly cc: Db) {}

  columns(): Promise<Map<string, string[]>> {
    this.schema ??= schemaColumns(this.cc).catch((err: unknown) => {
      this.schema = null;
      throw err;
    });
    return this.schema;
  }

  /** The Command Center's sums of these tables (Instances of one schema share one read). */
  tableSums(targets: readonly SumTarget[]): Promise<string[]> {
    const key = targets.map((t) => `${t.def.table}:${t.cols.join(',')}`).join('\n');
    let s = this.sums.get(key);
    if (!s) {
      s = tableSums(this.cc, targets).catch((err: unknown) => {
        this.sums.delete(key);
        throw err;
      });
      this.sums.set(key, s);
    }
    return s;
  }
}
