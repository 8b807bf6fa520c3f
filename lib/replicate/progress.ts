/**
 * Our own bookkeeping tables. On the Command Center: its identity. On each Instance: which queue
 * items were applied (written in the same transaction as the statement, so a crash between
 * applying and dequeuing replays safely) and which rows this replicator inserted (so that on an
 * Instance not yet centralised only those are removed when the CC drops them).
 */
import type { RowDataPacket } from 'mysql2';
import type { Pool, PoolConnection } from '../db/pool';
import { schemaStatements } from '../db/schema';

export const INSTANCE_DDL = [
  `CREATE TABLE IF NOT EXISTS \`tsync_replica_applied\` (
  \`cc_uid\` VARCHAR(64) NOT NULL,
  \`queue_id\` BIGINT UNSIGNED NOT NULL,
  \`applied_at\` BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (\`cc_uid\`, \`queue_id\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE IF NOT EXISTS \`tsync_replica_rows\` (
  \`cc_uid\` VARCHAR(64) NOT NULL,
  \`tbl\` VARCHAR(64) NOT NULL,
  \`row_key\` VARCHAR(255) COLLATE utf8mb4_bin NOT NULL,
  PRIMARY KEY (\`cc_uid\`, \`tbl\`, \`row_key\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
];

/** Creates (if missing) and reads the Command Center's identity. */
export async function ccIdentity(cc: Pool): Promise<string> {
  const identityDdl = schemaStatements('sync-queue').find((s) =>
    s.includes('tsync_replica_identity'),
  );
  if (identityDdl) await cc.query(identityDdl);
  await cc.query('INSERT IGNORE INTO tsync_replica_identity (id, uid) VALUES (1, UUID())');
  const [rows] = await cc.query<({ uid: string } & RowDataPacket)[]>(
    'SELECT uid FROM tsync_replica_identity WHERE id = 1',
  );
  return rows[0].uid;
}

export async function ensureInstanceTables(db: Pool | PoolConnection): Promise<void> {
  for (const ddl of INSTANCE_DDL) await db.query(ddl);
}
