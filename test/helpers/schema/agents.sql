-- Instance-side agent tables exactly as Pandora's pandoradb.sql defines them: what agent-cache reads
-- (every column of tagente, and the secondary groups). Created only by tests, benchmarks and the
-- demo: on a real Instance these tables exist and this package never alters them. Apply after
-- objects.sql (tgrupo).

CREATE TABLE IF NOT EXISTS `tagente` (
  `id_agente` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `nombre` VARCHAR(600) NOT NULL DEFAULT '',
  `direccion` VARCHAR(100) DEFAULT NULL,
  `comentarios` VARCHAR(255) DEFAULT '',
  `id_grupo` INT UNSIGNED NOT NULL DEFAULT 0,
  `ultimo_contacto` DATETIME NOT NULL DEFAULT '1970-01-01 00:00:00',
  `modo` TINYINT NOT NULL DEFAULT 0,
  `intervalo` INT UNSIGNED NOT NULL DEFAULT 300,
  `id_os` INT UNSIGNED DEFAULT 0,
  `os_version` VARCHAR(100) DEFAULT '',
  `agent_version` VARCHAR(100) DEFAULT '',
  `ultimo_contacto_remoto` DATETIME DEFAULT '1970-01-01 00:00:00',
  `disabled` TINYINT NOT NULL DEFAULT 0,
  `remote` TINYINT NOT NULL DEFAULT 0,
  `id_parent` INT UNSIGNED DEFAULT 0,
  `custom_id` VARCHAR(255) DEFAULT '',
  `server_name` VARCHAR(100) DEFAULT '',
  `cascade_protection` TINYINT NOT NULL DEFAULT 0,
  `cascade_protection_module` INT UNSIGNED NOT NULL DEFAULT 0,
  `timezone_offset` TINYINT NULL DEFAULT 0 COMMENT 'nuber of hours of diference with the server timezone',
  `icon_path` VARCHAR(127) NULL DEFAULT NULL COMMENT 'path in the server to the image of the icon representing the agent' ,
  `update_gis_data` TINYINT NOT NULL DEFAULT 1 COMMENT 'set it to one to update the position data (altitude, longitude, latitude) when getting information from the agent or to 0 to keep the last value and do not update it',
  `url_address` MEDIUMTEXT NULL,
  `quiet` TINYINT NOT NULL DEFAULT 0,
  `normal_count` BIGINT NOT NULL DEFAULT 0,
  `warning_count` BIGINT NOT NULL DEFAULT 0,
  `critical_count` BIGINT NOT NULL DEFAULT 0,
  `unknown_count` BIGINT NOT NULL DEFAULT 0,
  `notinit_count` BIGINT NOT NULL DEFAULT 0,
  `total_count` BIGINT NOT NULL DEFAULT 0,
  `fired_count` BIGINT NOT NULL DEFAULT 0,
  `update_module_count` TINYINT NOT NULL DEFAULT 0,
  `update_alert_count` TINYINT NOT NULL DEFAULT 0,
  `update_secondary_groups` TINYINT NOT NULL DEFAULT 0,
  `alias` VARCHAR(600) NOT NULL DEFAULT '',
  `alias_as_name` TINYINT NOT NULL DEFAULT 0,
  `safe_mode_module` INT UNSIGNED NOT NULL DEFAULT 0,
  `cps` INT NOT NULL DEFAULT 0,
  `satellite_server` INT NOT NULL DEFAULT 0,
  `fixed_ip` TINYINT NOT NULL DEFAULT 0,
  `disabled_by_downtime` TINYINT NOT NULL DEFAULT 0,
  `vul_scan_enabled` TINYINT NOT NULL DEFAULT 2,
  `ignore_unknown` TINYINT NOT NULL DEFAULT 0,
  PRIMARY KEY  (`id_agente`),
  KEY `nombre` (`nombre`(255)),
  KEY `direccion` (`direccion`),
  KEY `disabled` (`disabled`),
  KEY `id_grupo` (`id_grupo`)
) ENGINE=InnoDB  DEFAULT CHARSET=UTF8MB4 ;

CREATE TABLE IF NOT EXISTS `tagent_secondary_group`(
  `id` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `id_agent` INT UNSIGNED NOT NULL,
  `id_group` MEDIUMINT UNSIGNED NOT NULL,
  PRIMARY KEY(`id`),
  FOREIGN KEY(`id_agent`) REFERENCES tagente(`id_agente`)
    ON DELETE CASCADE,
  FOREIGN KEY(`id_group`) REFERENCES tgrupo(`id_grupo`)
    ON DELETE CASCADE
) engine=InnoDB DEFAULT CHARSET=UTF8MB4;

