/**
 * Our own bookkeeping tables. On the Command Center: its identity. On each Instance: which queue
 * items were applied (written in the same transaction as the statement, so a crash between
 * applying and dequeuing replays safely) and which rows this replicator inserted (so that on an
 * Instance not yet centralised only those are removed when the CC drops them).
 */
import type { RowDataPacket } from 'mysql2';
import type { Pool, PoolConnection } from '../db/pool';
import { schemaStatements } from '../db/schema';

/** Creates (if missing) and reads the Command Center's identity. */
export async function ccIdentity(cc: Pool): Promise<string> {
  for (const ddl of schemaStatements('replica-cc')) await cc.query(ddl);
  await cc.query('INSERT IGNORE INTO tsync_replica_identity (id, uid) VALUES (1, UUID())');
  const [rows] = await cc.query<({ uid: string } & RowDataPacket)[]>(
    'SELECT uid FROM tsync_replica_identity WHERE id = 1',
  );
  return rows[0].uid;
}

export async function ensureInstanceTables(db: Pool | PoolConnection): Promise<void> {
  for (const ddl of schemaStatements('replica-instance')) await db.query(ddl);
}
