/**
 * What a server's own schema says, read from information_schema of the current database: which
 * tables and columns exist (so the columns copied are the ones both sides have, whatever Pandora
 * version each runs) and which foreign keys delete by cascade (so a delete's reach into the
 * Instance's own data is computed from the real schema, not from a list kept by hand).
 */
import type { RowDataPacket } from 'mysql2';
import type { Pool, PoolConnection } from '../db/pool';

export type Db = Pool | PoolConnection;

/** The columns of `table`, lower case, in the table's order; empty when there is no such table. */
export async function tableColumns(db: Db, table: string): Promise<string[]> {
  const [rows] = await db.query<({ c: string } & RowDataPacket)[]>(
    'SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    [table],
  );
  return rows.map((r) => r.c.toLowerCase());
}

export async function existingColumns(db: Db, table: string): Promise<Set<string>> {
  return new Set(await tableColumns(db, table));
}

export async function tableExists(db: Db, table: string): Promise<boolean> {
  return (await tableColumns(db, table)).length > 0;
}

/** Base tables of the current database, lower case. */
export async function presentTables(db: Db): Promise<Set<string>> {
  const [rows] = await db.query<({ t: string } & RowDataPacket)[]>(
    "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'",
  );
  return new Set(rows.map((r) => r.t.toLowerCase()));
}

/** A declared `child.column REFERENCES parent(parentColumn) ON DELETE CASCADE`. */
export interface CascadeEdge {
  child: string;
  column: string;
  parent: string;
  parentColumn: string;
}

/**
 * Every single-column ON DELETE CASCADE foreign key of the current database. Two plain reads
 * joined here: MariaDB 10.11 crashed (signal 11 in free_tmp_table) on one query that joined
 * REFERENTIAL_CONSTRAINTS with a correlated count over KEY_COLUMN_USAGE.
 */
export async function cascadeEdges(db: Db): Promise<CascadeEdge[]> {
  const [rules] = await db.query<({ name: string; child: string } & RowDataPacket)[]>(
    "SELECT CONSTRAINT_NAME AS name, TABLE_NAME AS child FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND DELETE_RULE = 'CASCADE'",
  );
  if (rules.length === 0) return [];
  const [cols] = await db.query<
    ({ name: string; child: string; col: string; parent: string; pcol: string } & RowDataPacket)[]
  >(
    'SELECT CONSTRAINT_NAME AS name, TABLE_NAME AS child, COLUMN_NAME AS col, REFERENCED_TABLE_NAME AS parent, REFERENCED_COLUMN_NAME AS pcol FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL',
  );
  const cascading = new Set(rules.map((r) => `${r.child}\u0000${r.name}`));
  const byConstraint = new Map<string, CascadeEdge[]>();
  for (const c of cols) {
    const id = `${c.child}\u0000${c.name}`;
    if (!cascading.has(id)) continue;
    const list = byConstraint.get(id) ?? [];
    list.push({
      child: c.child.toLowerCase(),
      column: c.col.toLowerCase(),
      parent: c.parent.toLowerCase(),
      parentColumn: c.pcol.toLowerCase(),
    });
    byConstraint.set(id, list);
  }
  return [...byConstraint.values()].filter((l) => l.length === 1).map((l) => l[0]);
}

/** Tables a delete from `table` reaches through cascades, transitively (not `table` itself). */
export function cascadeTargets(edges: CascadeEdge[], table: string): string[] {
  const out: string[] = [];
  const walk = (t: string): void => {
    for (const e of edges) {
      if (e.parent !== t || e.child === table || out.includes(e.child)) continue;
      out.push(e.child);
      walk(e.child);
    }
  };
  walk(table);
  return out;
}
