-- The Command Center's node registry, as Pandora's pandoradb.sql defines it (MR 21, 36, 48;
-- last_event_replication was dropped in MR 55). Created only by tests and the demo: on a real
-- Command Center the table exists and this package never alters it.
CREATE TABLE IF NOT EXISTS `tmetaconsole_setup` (
  `id` INT NOT NULL AUTO_INCREMENT,
  `server_name` TEXT,
  `server_url` TEXT,
  `dbuser` TEXT,
  `dbpass` TEXT,
  `dbhost` TEXT,
  `dbport` TEXT,
  `dbname` TEXT,
  `meta_dbuser` TEXT,
  `meta_dbpass` TEXT,
  `meta_dbhost` TEXT,
  `meta_dbport` TEXT,
  `meta_dbname` TEXT,
  `auth_token` TEXT,
  `id_group` INT UNSIGNED NOT NULL DEFAULT 0,
  `api_password` TEXT,
  `disabled` TINYINT UNSIGNED NOT NULL DEFAULT 0,
  `unified` TINYINT UNSIGNED NOT NULL DEFAULT 0,
  `info` TEXT,
  `server_uid` TEXT,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
