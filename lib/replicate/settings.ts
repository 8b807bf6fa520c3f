/**
 * Pandora's own settings (tconfig tokens) that replication reads and the Merging tool writes.
 *
 * When an environment is centralised, Pandora's console works from these tokens: on the Command
 * Center `centralized_management = 1` makes every change of a shared object go to tsync_queue
 * (db_sync in include/functions_db.php); on a node `node_metaconsole = 1` and
 * `metaconsole_node_id = <its tmetaconsole_setup.id>` mean "joined to a Command Center"
 * (has_metaconsole in include/functions.php), and `centralized_management = 1` makes its console
 * refuse local edits of those objects (is_management_allowed). The Merging tool itself is in
 * Pandora's closed enterprise tree; these are the tokens its public callers read.
 */
import type { RowDataPacket } from 'mysql2';
import type { Pool, PoolConnection } from '../db/pool';
import { ReplicateError } from './errors';
import { tableExists } from './schema-info';

/** ConsoleSupervisor::MIN_SYNC_QUEUE_LENGTH: the backlog warning's fallback threshold. */
export const DEFAULT_QUEUE_ITEMS_MAX = 200;

type Db = Pool | PoolConnection;

export interface SettingChange {
  token: string;
  /** The value before (null: the token was not set). */
  from: string | null;
  to: string;
  changed: boolean;
}

async function readToken(db: Db, token: string): Promise<string | null> {
  const [rows] = await db.query<({ value: string | null } & RowDataPacket)[]>(
    'SELECT `value` FROM tconfig WHERE token = ? ORDER BY id_config DESC LIMIT 1',
    [token],
  );
  return rows.length > 0 ? (rows[0].value ?? '') : null;
}

/**
 * The backlog at which the console warns about a node's queue: tconfig `sync_queue_items_max`
 * when it holds a positive number, else 200.
 */
export async function queueItemsMax(cc: Db): Promise<number> {
  if (!(await tableExists(cc, 'tconfig'))) return DEFAULT_QUEUE_ITEMS_MAX;
  const n = Number(await readToken(cc, 'sync_queue_items_max'));
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : DEFAULT_QUEUE_ITEMS_MAX;
}

/** Sets each token (updating every row of it, or adding one); says what each was. */
export async function writeTokens(
  db: Db,
  tokens: Record<string, string>,
  dryRun = false,
): Promise<SettingChange[]> {
  if (!(await tableExists(db, 'tconfig'))) {
    throw new ReplicateError('ERR_REPLICATE_NOT_PANDORA');
  }
  const out: SettingChange[] = [];
  for (const [token, to] of Object.entries(tokens)) {
    const from = await readToken(db, token);
    const changed = from !== to;
    if (changed && !dryRun) {
      if (from === null) {
        await db.query('INSERT INTO tconfig (token, `value`) VALUES (?, ?)', [token, to]);
      } else {
        await db.query('UPDATE tconfig SET `value` = ? WHERE token = ?', [to, token]);
      }
    }
    out.push({ token, from, to, changed });
  }
  return out;
}

/** What a node holds once it is centralised under the Command Center's registry row `id`. */
export function nodeTokens(id: number): Record<string, string> {
  return { node_metaconsole: '1', metaconsole_node_id: String(id), centralized_management: '1' };
}

/** What the Command Center holds once every enabled node is unified. */
export const COMMAND_CENTER_TOKENS: Record<string, string> = { centralized_management: '1' };
