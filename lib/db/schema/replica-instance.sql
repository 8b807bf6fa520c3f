-- Ours, on each Instance, created by metaconsole-replicate when missing. Which tsync_queue items
-- were applied: written in the same transaction as their statements, so a crash between applying
-- and dequeuing replays as "already applied, just dequeue".
CREATE TABLE IF NOT EXISTS `tsync_replica_applied` (
  `cc_uid` VARCHAR(64) NOT NULL,
  `queue_id` BIGINT UNSIGNED NOT NULL,
  `applied_at` BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (`cc_uid`, `queue_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Which rows the table comparison inserted, so that on an Instance not centralised yet only those
-- are removed when the Command Center drops them.
CREATE TABLE IF NOT EXISTS `tsync_replica_rows` (
  `cc_uid` VARCHAR(64) NOT NULL,
  `tbl` VARCHAR(64) NOT NULL,
  `row_key` VARCHAR(255) COLLATE utf8mb4_bin NOT NULL,
  PRIMARY KEY (`cc_uid`, `tbl`, `row_key`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
