-- Ours, on the Command Center, created by metaconsole-replicate when missing: a stable identity
-- for this Command Center, so that the progress an Instance records (tsync_replica_applied,
-- tsync_replica_rows) names the CC it came from even if the CC's address changes. One row, a
-- UUID made once.
CREATE TABLE IF NOT EXISTS `tsync_replica_identity` (
  `id` TINYINT UNSIGNED NOT NULL,
  `uid` VARCHAR(64) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
