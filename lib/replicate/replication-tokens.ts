/**
 * The Merging tool's node tokens that point a centralised node's console at the Command Center
 * database. A node whose tconfig holds `node_metaconsole = 1` and `centralized_management = 1`
 * connects its console, on every page, to the database named by its `replication_dbhost`,
 * `replication_dbuser`, `replication_dbpass` and `replication_dbname` tokens (index.php, through
 * metaconsole_load_external_db, reads the Command Center's `MR` there first); empty, that console
 * breaks. `replication_dbport` is a token of the same settings page (functions_config.php), which
 * the public callers do not pass on: it is written too, and a port other than 3306 is reported.
 *
 * The values: the registry row's own `meta_dbhost` / `meta_dbport` / `meta_dbname` /
 * `meta_dbuser` / `meta_dbpass` where set (as Pandora's Metasetup stores them per node), else the
 * Command Center database as the Instances reach it (the node's `ccDbAddress`, else the
 * pandora-config's dbHost/dbPort, refused when it is a loopback address: a node would take it for
 * its own machine) with the pandora-config's database name, user and password.
 */
import type { RowDataPacket } from 'mysql2';
import { isIP } from 'node:net';
import { createPool, describeDb, DbFacts, Pool } from '../db/pool';
import { parseHostList } from '../db/host-list';
import { ReplicateError } from './errors';

export interface DbAddress {
  host: string;
  /** Absent: the port of the pandora-config's database. */
  port?: number;
}

export interface MetaDbColumns {
  meta_dbhost: string | null;
  meta_dbport: string | null;
  meta_dbname: string | null;
  meta_dbuser: string | null;
  meta_dbpass: string | null;
}

/** Parses `host`, `host:port` or `[v6]:port`; empty gives null. Throws on a bad value. */
export function parseDbAddress(text: string): DbAddress | null {
  const s = text.trim();
  if (s === '') return null;
  let host = s;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::([0-9]+))?$/.exec(s);
  if (v6) {
    host = v6[1];
    portText = v6[2];
  } else if (isIP(s) !== 6) {
    const parts = s.split(':');
    if (parts.length > 2) throw new ReplicateError('ERR_REPLICATE_ADDRESS_FORM', { text });
    [host, portText] = parts;
  }
  if (!/^[A-Za-z0-9._:-]+$/.test(host)) {
    throw new ReplicateError('ERR_REPLICATE_ADDRESS_HOST', { text, host });
  }
  if (portText === undefined) return { host };
  const port = Number(portText);
  if (!/^[0-9]+$/.test(portText) || port < 1 || port > 65535) {
    throw new ReplicateError('ERR_REPLICATE_ADDRESS_PORT', { text });
  }
  return { host, port };
}

/** True for names and addresses that mean "this machine" wherever they are read. */
export function isLoopback(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost') || h === '::1' || h === '0:0:0:0:0:0:0:1') {
    return true;
  }
  if (/^::ffff:127\./.test(h)) return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

const given = (v: string | null | undefined): string | null =>
  v === null || v === undefined || v.trim() === '' ? null : v.trim();

/**
 * The database a node's console must reach, or why none can be named. `cc` is the pandora-config's
 * database (as this Node-RED host reaches it).
 */
export function replicationFacts(
  row: Partial<MetaDbColumns>,
  cc: DbFacts,
  address: DbAddress | null,
): DbFacts {
  const metaHost = given(row.meta_dbhost);
  let host: string;
  let port: number;
  if (metaHost) {
    host = metaHost;
    const p = Number(given(row.meta_dbport) ?? 3306);
    port = Number.isInteger(p) && p > 0 && p < 65536 ? p : 3306;
  } else if (address) {
    host = address.host;
    port = address.port ?? cc.port;
  } else {
    // A Galera `dbHost` list: Pandora's replication_dbhost holds one host, the first is the
    // one the members try first.
    const first = parseHostList(cc.host, cc.port)[0];
    if (isLoopback(first.host)) {
      throw new ReplicateError('ERR_REPLICATE_CC_LOOPBACK', { host: first.host });
    }
    host = first.host;
    port = first.port;
  }
  return {
    host,
    port,
    database: given(row.meta_dbname) ?? cc.database,
    user: given(row.meta_dbuser) ?? cc.user,
    // meta_dbpass may be empty on purpose only together with its own user.
    password: given(row.meta_dbuser) ? (row.meta_dbpass ?? '') : cc.password,
  };
}

/** The tconfig tokens for those facts. */
export function replicationTokens(f: DbFacts): Record<string, string> {
  return {
    replication_dbhost: f.host,
    replication_dbport: String(f.port),
    replication_dbname: f.database,
    replication_dbuser: f.user,
    replication_dbpass: f.password,
  };
}

/** Token values shown in reports: never a password. */
export function shownTokenValue(token: string, value: string | null): string | null {
  return token === 'replication_dbpass' && value !== null && value !== '' ? '********' : value;
}

/**
 * Connects with the facts the node's console will use and reads what that console reads first
 * (the Command Center's `MR` token). Throws with the reason when it cannot.
 */
export async function checkReplicationFacts(f: DbFacts, timeoutMs = 5000): Promise<void> {
  let pool: Pool | null = null;
  try {
    pool = createPool(f, { connectionLimit: 1, connectTimeoutMs: timeoutMs });
    await pool.query<RowDataPacket[]>("SELECT `value` FROM tconfig WHERE token = 'MR' LIMIT 1");
  } catch (err) {
    const e = err as { code?: string; message?: string };
    throw new ReplicateError(
      'ERR_REPLICATE_CC_UNREACHABLE',
      { at: describeDb(f), message: `${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}` },
      { cause: err },
    );
  } finally {
    await pool?.end().catch(() => undefined);
  }
}

/** The registry row's meta_db* columns (all null when the CC's schema lacks them). */
export async function metaDbColumns(cc: Pool, id: number): Promise<Partial<MetaDbColumns>> {
  try {
    const [rows] = await cc.query<(MetaDbColumns & RowDataPacket)[]>(
      'SELECT meta_dbhost, meta_dbport, meta_dbname, meta_dbuser, meta_dbpass FROM tmetaconsole_setup WHERE id = ?',
      [id],
    );
    return rows[0] ?? {};
  } catch (err) {
    if ((err as { code?: string }).code === 'ER_BAD_FIELD_ERROR') return {};
    throw err;
  }
}
