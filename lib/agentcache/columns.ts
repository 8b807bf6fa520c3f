/**
 * The row mapping between an Instance's `tagente` and the Command Center's `tmetaconsole_agent`:
 * which columns are copied (every column both tables have, as each side's information_schema
 * says), and the SQL expressions both sides compute the same checksums with. Pure: no database.
 */
import { quoteId } from '../db/identifier';

/** The cache's own columns: its key, and where each row comes from. */
export const CACHE_KEY = 'id_agente';
export const CACHE_SOURCE_ID = 'id_tagente';
export const CACHE_SETUP = 'id_tmetaconsole_setup';
/** tagente's key, which becomes the cache's id_tagente. */
export const AGENT_KEY = 'id_agente';

export const CACHE_OWN = [CACHE_KEY, CACHE_SOURCE_ID, CACHE_SETUP] as const;

export interface ColumnPlan {
  /** The columns copied as they are, in the Instance's order. */
  shared: string[];
  /** Columns each side needs and lacks (empty when the copy can run). */
  missing: { side: 'instance' | 'cc'; columns: string[] }[];
}

/**
 * The copied columns: tagente's columns (its key aside) that tmetaconsole_agent also has (its own
 * key and origin columns aside). A column only one side has is left out: an Instance of another
 * Pandora version still fills the columns the two share.
 */
export function planColumns(instance: readonly string[], cc: readonly string[]): ColumnPlan {
  const ccSet = new Set(cc);
  const own = new Set<string>(CACHE_OWN);
  const shared = instance.filter((c) => c !== AGENT_KEY && !own.has(c) && ccSet.has(c));
  const missing: ColumnPlan['missing'] = [];
  if (!instance.includes(AGENT_KEY)) missing.push({ side: 'instance', columns: [AGENT_KEY] });
  const ccLacks = CACHE_OWN.filter((c) => !ccSet.has(c));
  if (ccLacks.length > 0) missing.push({ side: 'cc', columns: [...ccLacks] });
  return { shared, missing };
}

/**
 * One row's checksum in SQL: CRC32 over every copied value, each through QUOTE() so that NULL,
 * '' and 'NULL' differ and no separator inside a text can shift a value into the next one.
 * Both sides run the same expression over the same column names, so equal values give equal
 * checksums whatever the two servers' versions. CRC32 rather than a cryptographic hash: the
 * checksums only find changes (nobody forges an agent to hide one), and over 100,000 agents
 * MD5 cost five times as much as CRC32 (measured; see docs/PERFORMANCE.md).
 */
export function rowChecksumSql(columns: readonly string[]): string {
  if (columns.length === 0) return "CRC32('')";
  return `CRC32(CONCAT_WS(',', ${columns.map((c) => `QUOTE(${quoteId(c)})`).join(', ')}))`;
}

/** A secondary group membership's checksum: the agent's id on that side and the group. */
export function groupChecksumSql(agentColumn: string): string {
  return `CRC32(CONCAT(${quoteId(agentColumn)}, ',', \`id_group\`))`;
}

/** The cache row's values, in the order of cacheColumns(shared). */
export function cacheRow(
  source: Record<string, unknown>,
  shared: readonly string[],
  setupId: number,
  cacheId: string | null,
): unknown[] {
  return [cacheId, source[AGENT_KEY], setupId, ...shared.map((c) => source[c] ?? null)];
}

/** The cache's columns as cacheRow() fills them. */
export function cacheColumns(shared: readonly string[]): string[] {
  return [...CACHE_OWN, ...shared];
}
