/**
 * The cluster's tables in the Command Center database, in one place. Created only when a
 * pandora-config has `cluster` on. InnoDB with primary keys and no LOCK TABLES / GET_LOCK, so that
 * they behave the same on a single MariaDB and on a Galera cluster (Galera replicates only InnoDB
 * rows and needs a primary key on every table).
 */
import { quoteId } from '../db/identifier';
import type { Queryable } from '../db/schema';

const LEASE_TABLE = 'tsync_cluster_lease';
const MEMBER_TABLE = 'tsync_cluster_member';
const DELIVERY_TABLE = 'tsync_cluster_delivery';

/** The same names quoted for SQL text. */
export const quoted = {
  lease: quoteId(LEASE_TABLE),
  member: quoteId(MEMBER_TABLE),
  delivery: quoteId(DELIVERY_TABLE),
} as const;

const STATEMENTS = [
  // One row per unit of work. `holder` is '' when free. `token` grows by one at every take: the
  // fencing token. `prev_holder` / `prev_expires` describe the take (a takeover when the previous
  // holder had not let go). Times are the database's (NOW(6)), never a member's clock.
  `CREATE TABLE IF NOT EXISTS ${quoted.lease} (
  \`unit\` VARCHAR(191) NOT NULL,
  \`holder\` VARCHAR(191) NOT NULL DEFAULT '',
  \`token\` BIGINT UNSIGNED NOT NULL DEFAULT 0,
  \`expires\` DATETIME(6) NOT NULL,
  \`taken\` DATETIME(6) NULL,
  \`prev_holder\` VARCHAR(191) NOT NULL DEFAULT '',
  \`prev_expires\` DATETIME(6) NULL,
  \`fenced\` BIGINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (\`unit\`),
  KEY \`holder\` (\`holder\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  // One row per running member (a process: `session` is new at every start), so members see
  // each other without knowing each other's addresses. `kinds`: the kinds of unit it works
  // (`pull,events`), so that a member whose flow has no event-pull gets no share of instances.
  `CREATE TABLE IF NOT EXISTS ${quoted.member} (
  \`session\` VARCHAR(191) NOT NULL,
  \`member\` VARCHAR(191) NOT NULL,
  \`kinds\` VARCHAR(255) NOT NULL DEFAULT '',
  \`seen\` DATETIME(6) NOT NULL,
  \`expires\` DATETIME(6) NOT NULL,
  PRIMARY KEY (\`session\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  // Files members stored from a buffer and have not yet seen leave it. `stored` is written in a
  // transaction fenced by the buffer's lease while the file is durable under its temp name,
  // before its rename (the point of no return); `placed` once it is in place. A member taking
  // the buffer over only removes a recorded file from the buffer, and delivers again one
  // without a record. A `stored` record outlives the buffer's listing until its member has
  // renamed the file (at its restart if it died in between). (`storing`: earlier versions.)
  `CREATE TABLE IF NOT EXISTS ${quoted.delivery} (
  \`unit\` VARCHAR(191) NOT NULL,
  \`name\` VARCHAR(255) NOT NULL,
  \`size\` BIGINT UNSIGNED NOT NULL,
  \`sha1\` CHAR(40) NOT NULL,
  \`state\` ENUM('storing', 'stored', 'placed') NOT NULL,
  \`member\` VARCHAR(191) NOT NULL,
  \`session\` VARCHAR(191) NOT NULL,
  \`token\` BIGINT UNSIGNED NOT NULL,
  \`stored\` DATETIME(6) NOT NULL,
  PRIMARY KEY (\`unit\`, \`name\`, \`size\`, \`sha1\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
];

/** Creates the cluster tables when missing (and adds `placed` to a delivery table without it). */
export async function ensureClusterSchema(db: Queryable): Promise<void> {
  for (const s of STATEMENTS) await db.query(s);
  const [rows] = (await db.query(
    `SELECT COLUMN_TYPE AS t FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${DELIVERY_TABLE}' AND COLUMN_NAME = 'state'`,
  )) as unknown as [{ t: string }[]];
  if (rows[0] && !rows[0].t.includes("'placed'")) {
    await db.query(
      `ALTER TABLE ${quoted.delivery} MODIFY \`state\` ENUM('storing', 'stored', 'placed') NOT NULL`,
    );
  }
}
