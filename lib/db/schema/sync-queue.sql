-- The Command Center's synchronization queue, as Pandora defines it (MR 48, `result` from MR 51).
-- Pandora's console (db_sync / Synchronizer->queue) and pandora_manage.pl (db_synch_*) fill it,
-- one row per target node. Created only by tests, benchmarks and the demo: on a real Command
-- Center it exists, and this package never alters it (backoff state is kept in memory).
CREATE TABLE IF NOT EXISTS `tsync_queue` (
  `id` SERIAL,
  `sql` MEDIUMTEXT,
  `target` BIGINT UNSIGNED NOT NULL,
  `utimestamp` BIGINT UNSIGNED NOT NULL DEFAULT 0,
  `operation` TEXT,
  `table` TEXT,
  `error` MEDIUMTEXT,
  `result` TEXT,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Ours, on the Command Center: a stable identity for this Command Center, so that the progress
-- an Instance records (tsync_replica_applied, tsync_replica_rows) names the CC it came from even
-- if the CC's address changes. One row, a UUID made once.
CREATE TABLE IF NOT EXISTS `tsync_replica_identity` (
  `id` TINYINT UNSIGNED NOT NULL,
  `uid` VARCHAR(64) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
