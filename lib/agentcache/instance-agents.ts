/**
 * The Instance side of the cache: reads of `tagente` and `tagent_secondary_group`, nothing
 * written. Every read is one statement, so each sees one consistent state of the Instance.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { quoteId, quoteList } from '../db/identifier';
import type { Pool } from '../db/pool';
import { AGENT_KEY, groupChecksumSql, rowChecksumSql } from './columns';
import type { Membership, RangeSum, SourceHash } from './planner';
import { rangeSums, type SumRow } from './sums';

interface ColumnRow extends RowDataPacket {
  c: string;
}

export class InstanceAgents {
  constructor(private readonly pool: Pool) {}

  /** tagente's columns, in the table's order. */
  async columns(): Promise<string[]> {
    const [rows] = await this.pool.query<ColumnRow[]>(
      "SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'tagente' ORDER BY ORDINAL_POSITION",
    );
    return rows.map((r) => r.c);
  }

  /** Count and checksum sum of every range of agent ids, agents and memberships apart. */
  async sums(shared: readonly string[], rangeSize: number): Promise<RangeSum[]> {
    const key = quoteId(AGENT_KEY);
    const [agents] = await this.pool.query<SumRow[]>(
      `SELECT ${key} DIV ? AS r, COUNT(*) AS n, SUM(${rowChecksumSql(shared)}) AS s FROM tagente GROUP BY r`,
      [rangeSize],
    );
    const [groups] = await this.pool.query<SumRow[]>(
      `SELECT id_agent DIV ? AS r, COUNT(*) AS n, SUM(${groupChecksumSql('id_agent')}) AS s FROM tagent_secondary_group GROUP BY r`,
      [rangeSize],
    );
    return rangeSums(agents, groups);
  }

  /** Each agent's checksum and memberships in [from, to). */
  async hashes(
    shared: readonly string[],
    from: number,
    to: number,
  ): Promise<{ rows: SourceHash[]; groups: Membership[] }> {
    const key = quoteId(AGENT_KEY);
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT ${key} AS id, ${rowChecksumSql(shared)} AS h FROM tagente WHERE ${key} >= ? AND ${key} < ?`,
      [from, to],
    );
    const [groups] = await this.pool.query<RowDataPacket[]>(
      'SELECT id_agent AS id, id_group AS g FROM tagent_secondary_group WHERE id_agent >= ? AND id_agent < ?',
      [from, to],
    );
    return {
      rows: rows.map((r) => ({ id: String(r.id), hash: String(r.h) })),
      groups: groups.map((g) => ({ id: String(g.id), group: String(g.g) })),
    };
  }

  /** The named agents' copied columns (ids as strings), those that still exist. */
  async rows(shared: readonly string[], ids: string[]): Promise<Map<string, RowDataPacket>> {
    const out = new Map<string, RowDataPacket>();
    if (ids.length === 0) return out;
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT ${quoteList([AGENT_KEY, ...shared])} FROM tagente WHERE ${quoteId(AGENT_KEY)} IN (?)`,
      [ids],
    );
    for (const r of rows) out.set(String(r[AGENT_KEY]), r);
    return out;
  }

  /** Every agent of [from, to) in full, with its memberships (a span the cache has nothing of). */
  async range(
    shared: readonly string[],
    from: number,
    to: number,
  ): Promise<{ rows: Map<string, RowDataPacket>; groups: Membership[] }> {
    const key = quoteId(AGENT_KEY);
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT ${quoteList([AGENT_KEY, ...shared])} FROM tagente WHERE ${key} >= ? AND ${key} < ?`,
      [from, to],
    );
    const [groups] = await this.pool.query<RowDataPacket[]>(
      'SELECT id_agent AS id, id_group AS g FROM tagent_secondary_group WHERE id_agent >= ? AND id_agent < ?',
      [from, to],
    );
    return {
      rows: new Map(rows.map((r) => [String(r[AGENT_KEY]), r])),
      groups: groups.map((g) => ({ id: String(g.id), group: String(g.g) })),
    };
  }

  /** The named agents' memberships as they are now. */
  async groups(ids: string[]): Promise<Membership[]> {
    if (ids.length === 0) return [];
    const [rows] = await this.pool.query<RowDataPacket[]>(
      'SELECT id_agent AS id, id_group AS g FROM tagent_secondary_group WHERE id_agent IN (?)',
      [ids],
    );
    return rows.map((g) => ({ id: String(g.id), group: String(g.g) }));
  }
}
