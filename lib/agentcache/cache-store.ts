/**
 * The Command Center side: `tmetaconsole_agent` and `tmetaconsole_agent_secondary_group`, the
 * tables Pandora's console reads for its agent views. Reads as the Instance side's, and the one
 * transaction that writes a part of a plan. Pandora's tables are never created or altered.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { quoteId, quoteList } from '../db/identifier';
import type { Pool, PoolConnection } from '../db/pool';
import { inTransaction, type Fence } from '../db/transaction';
import {
  cacheColumns,
  cacheRow,
  CACHE_KEY,
  CACHE_SETUP,
  CACHE_SOURCE_ID,
  groupChecksumSql,
  rowChecksumSql,
} from './columns';
import { AgentCacheError } from './errors';
import type { CacheHash, Membership, RangeSum, RowPlan } from './planner';
import { rangeSums, type SumRow } from './sums';

interface ColumnRow extends RowDataPacket {
  t: string;
  c: string;
}

const GROUP_TABLE = 'tmetaconsole_agent_secondary_group';
const GROUP_COLUMNS = ['id_agent', 'id_tagente', 'id_tmetaconsole_setup', 'id_group'];

/** One part of a plan with what the Instance holds for it. */
export interface PartWrite {
  setupId: number;
  shared: readonly string[];
  part: RowPlan;
  /** The Instance's rows of `part.write`, by agent id (an agent gone since is not written). */
  rows: Map<string, Record<string, unknown>>;
  /** The Instance's memberships of `part.regroup`. */
  groups: Membership[];
  fence?: Fence;
}

export class CacheStore {
  constructor(private readonly pool: Pool) {}

  /** tmetaconsole_agent's columns; refuses a Command Center without the two cache tables. */
  async columns(): Promise<string[]> {
    const [rows] = await this.pool.query<ColumnRow[]>(
      "SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('tmetaconsole_agent', ?) ORDER BY ORDINAL_POSITION",
      [GROUP_TABLE],
    );
    const agent = rows.filter((r) => r.t === 'tmetaconsole_agent').map((r) => r.c);
    const groups = new Set(rows.filter((r) => r.t === GROUP_TABLE).map((r) => r.c));
    const lacks = GROUP_COLUMNS.filter((c) => !groups.has(c));
    if (agent.length === 0) {
      throw new AgentCacheError('ERR_AGENT_CACHE_SCHEMA', {
        side: 'cc',
        table: 'tmetaconsole_agent',
        missing: 'table',
      });
    }
    if (lacks.length > 0) {
      throw new AgentCacheError('ERR_AGENT_CACHE_SCHEMA', {
        side: 'cc',
        table: GROUP_TABLE,
        missing: groups.size === 0 ? 'table' : lacks.join(', '),
      });
    }
    return agent;
  }

  /** The figures of every range of one Instance's cache rows, or of the ranges in [from, to). */
  async sums(
    setupId: number,
    shared: readonly string[],
    rangeSize: number,
    span?: { from: number; to: number },
  ): Promise<RangeSum[]> {
    const within = span ? ' AND id_tagente >= ? AND id_tagente < ?' : '';
    const bounds = span ? [span.from, span.to] : [];
    const [agents] = await this.pool.query<SumRow[]>(
      `SELECT ${quoteId(CACHE_SOURCE_ID)} DIV ? AS r, COUNT(*) AS n, SUM(${rowChecksumSql(shared)}) AS s FROM tmetaconsole_agent WHERE ${quoteId(CACHE_SETUP)} = ?${within} GROUP BY r`,
      [rangeSize, setupId, ...bounds],
    );
    const [groups] = await this.pool.query<SumRow[]>(
      `SELECT id_tagente DIV ? AS r, COUNT(*) AS n, SUM(${groupChecksumSql('id_tagente')}) AS s FROM ${GROUP_TABLE} WHERE id_tmetaconsole_setup = ?${within} GROUP BY r`,
      [rangeSize, setupId, ...bounds],
    );
    return rangeSums(agents, groups);
  }

  async hashes(
    setupId: number,
    shared: readonly string[],
    from: number,
    to: number,
  ): Promise<{ rows: CacheHash[]; groups: Membership[] }> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT ${quoteId(CACHE_KEY)} AS k, ${quoteId(CACHE_SOURCE_ID)} AS id, ${rowChecksumSql(shared)} AS h FROM tmetaconsole_agent WHERE ${quoteId(CACHE_SETUP)} = ? AND ${quoteId(CACHE_SOURCE_ID)} >= ? AND ${quoteId(CACHE_SOURCE_ID)} < ?`,
      [setupId, from, to],
    );
    const [groups] = await this.pool.query<RowDataPacket[]>(
      `SELECT id_tagente AS id, id_group AS g FROM ${GROUP_TABLE} WHERE id_tmetaconsole_setup = ? AND id_tagente >= ? AND id_tagente < ?`,
      [setupId, from, to],
    );
    return {
      rows: rows.map((r) => ({ cacheId: String(r.k), id: String(r.id), hash: String(r.h) })),
      groups: groups.map((g) => ({ id: String(g.id), group: String(g.g) })),
    };
  }

  /** Writes one part of a plan in one transaction (with the fence last, when given). */
  async write(w: PartWrite): Promise<number> {
    // Each Instance writes rows of its own: READ COMMITTED spares the gap locks through which
    // Instances written side by side would deadlock each other.
    return inTransaction(this.pool, (conn) => this.writeIn(conn, w), {
      fence: w.fence,
      isolation: 'READ COMMITTED',
      attempts: 5,
    });
  }

  private async writeIn(conn: PoolConnection, w: PartWrite): Promise<number> {
    const { setupId, shared, part } = w;
    let changed = 0;
    if (part.remove.length > 0) {
      // The memberships go with their rows (ON DELETE CASCADE on id_agent).
      await conn.query(
        `DELETE FROM tmetaconsole_agent WHERE ${quoteId(CACHE_SETUP)} = ? AND ${quoteId(CACHE_KEY)} IN (?)`,
        [setupId, part.remove],
      );
      changed += part.remove.length;
    }
    const values = part.write
      .filter((x) => w.rows.has(x.id))
      .map((x) => cacheRow(w.rows.get(x.id)!, shared, setupId, x.cacheId));
    if (values.length > 0) {
      const columns = cacheColumns(shared);
      // Keyed by the cache's own id: a changed agent keeps its cache row (and its id, which the
      // console links to); a new agent (id NULL) gets one.
      const updates = columns
        .filter((c) => c !== CACHE_KEY)
        .map((c) => `${quoteId(c)} = VALUES(${quoteId(c)})`)
        .join(', ');
      // Only new agents (a first fill): a plain INSERT, no key look-up per row.
      const fresh = part.write.every((x) => x.cacheId === null);
      await conn.query(
        `INSERT INTO tmetaconsole_agent (${quoteList(columns)}) VALUES ?${fresh ? '' : ` ON DUPLICATE KEY UPDATE ${updates}`}`,
        [values],
      );
      changed += values.length;
    }
    if (part.regroup.length > 0) {
      const [keys] = await conn.query<RowDataPacket[]>(
        `SELECT ${quoteId(CACHE_KEY)} AS k, ${quoteId(CACHE_SOURCE_ID)} AS id FROM tmetaconsole_agent WHERE ${quoteId(CACHE_SETUP)} = ? AND ${quoteId(CACHE_SOURCE_ID)} IN (?) ORDER BY ${quoteId(CACHE_KEY)}`,
        [setupId, part.regroup],
      );
      const cacheIdOf = new Map<string, string>();
      for (const k of keys)
        if (!cacheIdOf.has(String(k.id))) cacheIdOf.set(String(k.id), String(k.k));
      // By the cache rows' own ids, not by id_tagente, which other Instances' agents share (the
      // memberships of a duplicate row go with it, ON DELETE CASCADE).
      // Rows this part just created have no memberships yet.
      const fresh = part.write.length > 0 && part.write.every((x) => x.cacheId === null);
      if (keys.length > 0 && !fresh) {
        await conn.query(`DELETE FROM ${GROUP_TABLE} WHERE id_agent IN (?)`, [
          keys.map((k) => k.k),
        ]);
      }
      const rows = w.groups
        .filter((g) => cacheIdOf.has(g.id))
        .map((g) => [cacheIdOf.get(g.id), g.id, setupId, g.group]);
      if (rows.length > 0) {
        await conn.query(`INSERT INTO ${GROUP_TABLE} (${quoteList(GROUP_COLUMNS)}) VALUES ?`, [
          rows,
        ]);
      }
    }
    return changed;
  }

  /** The Instances the cache holds rows of. */
  async setups(): Promise<number[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT DISTINCT ${quoteId(CACHE_SETUP)} AS id FROM tmetaconsole_agent`,
    );
    return rows.map((r) => Number(r.id));
  }

  /** Removes an Instance's rows, `batch` at a time, each batch its own transaction. */
  async purge(setupId: number, batch: number): Promise<number> {
    let removed = 0;
    for (;;) {
      const n = await inTransaction(this.pool, async (conn) => {
        const [res] = await conn.query<import('mysql2').ResultSetHeader>(
          `DELETE FROM tmetaconsole_agent WHERE ${quoteId(CACHE_SETUP)} = ? LIMIT ?`,
          [setupId, batch],
        );
        await conn.query(`DELETE FROM ${GROUP_TABLE} WHERE id_tmetaconsole_setup = ? LIMIT ?`, [
          setupId,
          batch,
        ]);
        return res.affectedRows;
      });
      removed += n;
      if (n < batch) return removed;
    }
  }
}
