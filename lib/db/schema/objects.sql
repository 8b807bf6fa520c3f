-- The objects a Command Center keeps identical on its Instances, as Pandora's pandoradb.sql
-- (7.0NG.77x, MR 69) defines them, plus the node-side tables that Pandora's declared cascades
-- reach. Only the columns this package or its tests need are kept, with Pandora's real types,
-- defaults and keys. Created only by tests, benchmarks and the demo: on a real Pandora database
-- these tables already exist and this package never alters them.

-- Agent groups. parent is a logical reference to tgrupo.id_grupo (0 = top level).
CREATE TABLE IF NOT EXISTS `tgrupo` (
  `id_grupo` MEDIUMINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `nombre` VARCHAR(100) NOT NULL DEFAULT '',
  `icon` VARCHAR(50) DEFAULT 'world',
  `parent` MEDIUMINT UNSIGNED NOT NULL DEFAULT 0,
  `propagate` TINYINT UNSIGNED NOT NULL DEFAULT 0,
  `disabled` TINYINT UNSIGNED NOT NULL DEFAULT 0,
  `custom_id` VARCHAR(255) DEFAULT '',
  `id_skin` INT UNSIGNED NOT NULL DEFAULT 0,
  `description` TEXT,
  `contact` TEXT,
  `other` TEXT,
  `password` VARCHAR(45) DEFAULT '',
  `max_agents` INT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (`id_grupo`),
  KEY `parent_index` (`parent`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `ttag` (
  `id_tag` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `name` TEXT,
  `description` TEXT,
  `url` MEDIUMTEXT,
  `email` TEXT NULL,
  `phone` TEXT NULL,
  `previous_name` TEXT NULL,
  PRIMARY KEY (`id_tag`),
  INDEX `ttag_name` (`name`(15))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `tcategory` (
  `id` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `name` VARCHAR(600) NOT NULL DEFAULT '',
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `tperfil` (
  `id_perfil` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `name` TEXT,
  `agent_view` TINYINT NOT NULL DEFAULT 0,
  `agent_edit` TINYINT NOT NULL DEFAULT 0,
  `alert_edit` TINYINT NOT NULL DEFAULT 0,
  `user_management` TINYINT NOT NULL DEFAULT 0,
  `db_management` TINYINT NOT NULL DEFAULT 0,
  `alert_management` TINYINT NOT NULL DEFAULT 0,
  `pandora_management` TINYINT NOT NULL DEFAULT 0,
  `report_view` TINYINT NOT NULL DEFAULT 0,
  `report_edit` TINYINT NOT NULL DEFAULT 0,
  `report_management` TINYINT NOT NULL DEFAULT 0,
  `event_view` TINYINT NOT NULL DEFAULT 0,
  `event_edit` TINYINT NOT NULL DEFAULT 0,
  `event_management` TINYINT NOT NULL DEFAULT 0,
  `agent_disable` TINYINT NOT NULL DEFAULT 0,
  `map_view` TINYINT NOT NULL DEFAULT 0,
  `map_edit` TINYINT NOT NULL DEFAULT 0,
  `map_management` TINYINT NOT NULL DEFAULT 0,
  `vconsole_view` TINYINT NOT NULL DEFAULT 0,
  `vconsole_edit` TINYINT NOT NULL DEFAULT 0,
  `vconsole_management` TINYINT NOT NULL DEFAULT 0,
  `network_config_view` TINYINT NOT NULL DEFAULT 0,
  `network_config_edit` TINYINT NOT NULL DEFAULT 0,
  `network_config_management` TINYINT NOT NULL DEFAULT 0,
  PRIMARY KEY (`id_perfil`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Minimal: only what tusuario's foreign key needs, plus a few real columns.
CREATE TABLE IF NOT EXISTS `tevent_filter` (
  `id_filter` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `id_group_filter` INT NOT NULL DEFAULT 0,
  `id_name` VARCHAR(600) NOT NULL,
  `id_group` INT NOT NULL DEFAULT 0,
  `event_type` TEXT,
  `severity` TEXT,
  `status` INT NOT NULL DEFAULT -1,
  `search` TEXT,
  PRIMARY KEY (`id_filter`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- No PRIMARY KEY: identity is UNIQUE id_user.
CREATE TABLE IF NOT EXISTS `tusuario` (
  `id_user` VARCHAR(255) NOT NULL DEFAULT '0',
  `fullname` VARCHAR(255) NOT NULL,
  `firstname` VARCHAR(255) NOT NULL,
  `lastname` VARCHAR(255) NOT NULL,
  `middlename` VARCHAR(255) NOT NULL,
  `password` VARCHAR(60) DEFAULT NULL,
  `comments` VARCHAR(200) DEFAULT NULL,
  `last_connect` BIGINT NOT NULL DEFAULT 0,
  `registered` BIGINT NOT NULL DEFAULT 0,
  `email` VARCHAR(100) DEFAULT NULL,
  `phone` VARCHAR(100) DEFAULT NULL,
  `is_admin` TINYINT UNSIGNED NOT NULL DEFAULT 0,
  `language` VARCHAR(10) DEFAULT NULL,
  `timezone` VARCHAR(50) DEFAULT '',
  `block_size` INT NOT NULL DEFAULT 20,
  `id_skin` INT UNSIGNED NOT NULL DEFAULT 0,
  `disabled` INT NOT NULL DEFAULT 0,
  `section` TEXT,
  `data_section` TEXT,
  `metaconsole_section` VARCHAR(255) NOT NULL DEFAULT 'Default',
  `metaconsole_data_section` VARCHAR(255) NOT NULL DEFAULT '',
  `force_change_pass` TINYINT UNSIGNED NOT NULL DEFAULT 0,
  `last_pass_change` DATETIME,
  `last_failed_login` DATETIME,
  `failed_attempt` INT NOT NULL DEFAULT 0,
  `login_blocked` TINYINT UNSIGNED NOT NULL DEFAULT 0,
  `metaconsole_access` ENUM('basic','advanced') DEFAULT 'basic',
  `not_login` TINYINT UNSIGNED NOT NULL DEFAULT 0,
  `local_user` TINYINT UNSIGNED NOT NULL DEFAULT 0,
  `metaconsole_agents_manager` TINYINT UNSIGNED NOT NULL DEFAULT 0,
  `metaconsole_access_node` TINYINT UNSIGNED NOT NULL DEFAULT 0,
  `strict_acl` TINYINT UNSIGNED NOT NULL DEFAULT 0,
  `id_filter` INT UNSIGNED NULL DEFAULT NULL,
  `session_time` INT SIGNED NOT NULL DEFAULT 0,
  `default_event_filter` INT UNSIGNED NOT NULL DEFAULT 0,
  `metaconsole_default_event_filter` INT UNSIGNED NOT NULL DEFAULT 0,
  `api_token` VARCHAR(255) NOT NULL DEFAULT '',
  `allowed_ip_active` TINYINT UNSIGNED DEFAULT 0,
  `allowed_ip_list` TEXT,
  `auth_token_secret` VARCHAR(45) DEFAULT NULL,
  CONSTRAINT `fk_filter_id` FOREIGN KEY (`id_filter`) REFERENCES `tevent_filter` (`id_filter`) ON DELETE SET NULL,
  UNIQUE KEY `id_user` (`id_user`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `tusuario_perfil` (
  `id_up` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `id_usuario` VARCHAR(255) NOT NULL DEFAULT '',
  `id_perfil` INT UNSIGNED NOT NULL DEFAULT 0,
  `id_grupo` INT NOT NULL DEFAULT 0,
  `no_hierarchy` TINYINT NOT NULL DEFAULT 0,
  `assigned_by` VARCHAR(100) NOT NULL DEFAULT '',
  `id_policy` INT UNSIGNED NOT NULL DEFAULT 0,
  `tags` TEXT,
  PRIMARY KEY (`id_up`),
  INDEX `tusuario_perfil_user` (`id_usuario`),
  INDEX `tusuario_perfil_group` (`id_grupo`),
  INDEX `tusuario_perfil_profile` (`id_perfil`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Node side: two-factor secrets, taken with the user by the cascade.
CREATE TABLE IF NOT EXISTS `tuser_double_auth` (
  `id` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `id_user` VARCHAR(255) NOT NULL,
  `secret` VARCHAR(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE (`id_user`),
  FOREIGN KEY (`id_user`) REFERENCES `tusuario` (`id_user`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `talert_commands` (
  `id` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `name` VARCHAR(100) NOT NULL DEFAULT '',
  `command` TEXT,
  `id_group` MEDIUMINT UNSIGNED NULL DEFAULT 0,
  `description` TEXT,
  `internal` TINYINT DEFAULT 0,
  `fields_descriptions` TEXT,
  `fields_values` TEXT,
  `fields_hidden` TEXT,
  `previous_name` TEXT,
  PRIMARY KEY (`id`),
  UNIQUE KEY `name` (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `talert_actions` (
  `id` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `name` VARCHAR(500) NOT NULL DEFAULT '',
  `id_alert_command` INT UNSIGNED NULL DEFAULT 0,
  `field1` TEXT,
  `field2` TEXT,
  `field3` TEXT,
  `field4` TEXT,
  `field5` TEXT,
  `field6` TEXT,
  `field7` TEXT,
  `field8` TEXT,
  `field9` TEXT,
  `field10` TEXT,
  `id_group` MEDIUMINT UNSIGNED NULL DEFAULT 0,
  `action_threshold` INT NOT NULL DEFAULT 0,
  `field1_recovery` TEXT,
  `field2_recovery` TEXT,
  `field3_recovery` TEXT,
  `previous_name` TEXT,
  `create_wu_integria` TINYINT DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `name` (`name`),
  FOREIGN KEY (`id_alert_command`) REFERENCES `talert_commands` (`id`) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `talert_templates` (
  `id` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `name` TEXT,
  `description` MEDIUMTEXT,
  `id_alert_action` INT UNSIGNED NULL,
  `field1` TEXT,
  `field2` TEXT,
  `field3` TEXT,
  `type` ENUM('regex', 'max_min', 'max', 'min', 'equal', 'not_equal', 'warning', 'critical', 'onchange', 'unknown', 'always', 'not_normal', 'complex'),
  `value` VARCHAR(255) DEFAULT '',
  `matches_value` TINYINT DEFAULT 0,
  `max_value` DOUBLE DEFAULT NULL,
  `min_value` DOUBLE DEFAULT NULL,
  `time_threshold` INT NOT NULL DEFAULT 0,
  `max_alerts` INT UNSIGNED NOT NULL DEFAULT 1,
  `min_alerts` INT UNSIGNED NOT NULL DEFAULT 0,
  `time_from` TIME DEFAULT '00:00:00',
  `time_to` TIME DEFAULT '00:00:00',
  `monday` TINYINT DEFAULT 1,
  `tuesday` TINYINT DEFAULT 1,
  `wednesday` TINYINT DEFAULT 1,
  `thursday` TINYINT DEFAULT 1,
  `friday` TINYINT DEFAULT 1,
  `saturday` TINYINT DEFAULT 1,
  `sunday` TINYINT DEFAULT 1,
  `recovery_notify` TINYINT DEFAULT 0,
  `field1_recovery` TEXT,
  `priority` TINYINT DEFAULT 0,
  `id_group` MEDIUMINT UNSIGNED NULL DEFAULT 0,
  `special_day` TINYINT DEFAULT 0,
  `wizard_level` ENUM('basic','advanced','nowizard') DEFAULT 'nowizard',
  `min_alerts_reset_counter` TINYINT DEFAULT 0,
  `disable_event` TINYINT DEFAULT 0,
  `previous_name` TEXT,
  `schedule` TEXT,
  PRIMARY KEY (`id`),
  KEY `idx_template_action` (`id_alert_action`),
  FOREIGN KEY (`id_alert_action`) REFERENCES `talert_actions` (`id`) ON DELETE SET NULL ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Node side: module alerts. Pandora also declares an FK to tagente_modulo, left out here
-- because the agent tables are not part of this package.
CREATE TABLE IF NOT EXISTS `talert_template_modules` (
  `id` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `id_agent_module` INT UNSIGNED NOT NULL,
  `id_alert_template` INT UNSIGNED NOT NULL,
  `id_policy_alerts` INT UNSIGNED NOT NULL DEFAULT 0,
  `internal_counter` INT DEFAULT 0,
  `last_fired` BIGINT NOT NULL DEFAULT 0,
  `last_reference` BIGINT NOT NULL DEFAULT 0,
  `times_fired` INT NOT NULL DEFAULT 0,
  `disabled` TINYINT DEFAULT 0,
  `standby` TINYINT DEFAULT 0,
  `priority` TINYINT DEFAULT 0,
  `force_execution` TINYINT DEFAULT 0,
  PRIMARY KEY (`id`),
  KEY `idx_template_module` (`id_agent_module`),
  FOREIGN KEY (`id_alert_template`) REFERENCES `talert_templates` (`id`) ON DELETE CASCADE ON UPDATE CASCADE,
  UNIQUE (`id_agent_module`, `id_alert_template`, `id_policy_alerts`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `talert_template_module_actions` (
  `id` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `id_alert_template_module` INT UNSIGNED NOT NULL,
  `id_alert_action` INT UNSIGNED NOT NULL,
  `fires_min` INT UNSIGNED DEFAULT 0,
  `fires_max` INT UNSIGNED DEFAULT 0,
  `module_action_threshold` INT NOT NULL DEFAULT 0,
  `last_execution` BIGINT NOT NULL DEFAULT 0,
  `recovered` TINYINT NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  FOREIGN KEY (`id_alert_template_module`) REFERENCES `talert_template_modules` (`id`) ON DELETE CASCADE ON UPDATE CASCADE,
  FOREIGN KEY (`id_alert_action`) REFERENCES `talert_actions` (`id`) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
