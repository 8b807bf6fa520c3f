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
