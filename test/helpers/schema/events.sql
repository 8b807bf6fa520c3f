-- Instance-side event tables, as Pandora's pandoradb.sql (7.0NG.77x, MR 69) defines them, with the
-- columns event-pull reads. Created only by tests, benchmarks and the demo: on a real Instance these
-- tables exist and this package never alters them. Apply after objects.sql, which holds tgrupo,
-- talert_templates and talert_template_modules (the alert template name is reached through them).

-- Agents: only the name event-pull copies into tmetaconsole_event.agent_name.
CREATE TABLE IF NOT EXISTS `tagente` (
  `id_agente` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `nombre` VARCHAR(600) NOT NULL DEFAULT '',
  `alias` VARCHAR(600) NOT NULL DEFAULT '',
  `direccion` VARCHAR(100) DEFAULT NULL,
  `id_grupo` INT UNSIGNED NOT NULL DEFAULT 0,
  `disabled` TINYINT NOT NULL DEFAULT 0,
  PRIMARY KEY (`id_agente`),
  KEY `nombre` (`nombre`(255)),
  KEY `id_grupo` (`id_grupo`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Modules: only the name event-pull copies into tmetaconsole_event.module_name.
CREATE TABLE IF NOT EXISTS `tagente_modulo` (
  `id_agente_modulo` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `id_agente` INT UNSIGNED NOT NULL DEFAULT 0,
  `id_tipo_modulo` INT UNSIGNED NOT NULL DEFAULT 0,
  `descripcion` TEXT,
  `nombre` TEXT,
  `disabled` TINYINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (`id_agente_modulo`),
  KEY `main_idx` (`id_agente_modulo`, `id_agente`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Events (MR 69: user_comment moved to tevent_comment; event_custom_id added).
CREATE TABLE IF NOT EXISTS `tevento` (
  `id_evento` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `id_agente` INT NOT NULL DEFAULT 0,
  `id_usuario` VARCHAR(255) NOT NULL DEFAULT '0',
  `id_grupo` MEDIUMINT NOT NULL DEFAULT 0,
  `estado` TINYINT UNSIGNED NOT NULL DEFAULT 0,
  `timestamp` DATETIME NOT NULL DEFAULT '1970-01-01 00:00:00',
  `evento` TEXT,
  `utimestamp` BIGINT NOT NULL DEFAULT 0,
  `event_type` ENUM('going_unknown','unknown','alert_fired','alert_recovered','alert_ceased','alert_manual_validation','recon_host_detected','system','error','new_agent','going_up_warning','going_up_critical','going_down_warning','going_down_normal','going_down_critical','going_up_normal','configuration_change','ncm') DEFAULT 'unknown',
  `id_agentmodule` INT NOT NULL DEFAULT 0,
  `id_alert_am` INT NOT NULL DEFAULT 0,
  `criticity` INT UNSIGNED NOT NULL DEFAULT 0,
  `tags` TEXT,
  `source` TINYTEXT,
  `id_extra` TINYTEXT,
  `critical_instructions` TEXT,
  `warning_instructions` TEXT,
  `unknown_instructions` TEXT,
  `owner_user` VARCHAR(255) NOT NULL DEFAULT '',
  `ack_utimestamp` BIGINT NOT NULL DEFAULT 0,
  `custom_data` TEXT,
  `data` TINYTEXT,
  `module_status` INT NOT NULL DEFAULT 0,
  `event_custom_id` TEXT,
  PRIMARY KEY (`id_evento`),
  KEY `idx_agente` (`id_agente`),
  KEY `idx_agentmodule` (`id_agentmodule`),
  KEY `idx_utimestamp` USING BTREE (`utimestamp`),
  INDEX `agente_modulo_estado` (`estado`, `id_agentmodule`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Event comments (MR 66). Pandora also declares id_user -> tusuario ON DELETE SET NULL; left out
-- here so that tests need not create users.
CREATE TABLE IF NOT EXISTS `tevent_comment` (
  `id` SERIAL PRIMARY KEY,
  `id_event` BIGINT UNSIGNED NOT NULL,
  `utimestamp` BIGINT NOT NULL DEFAULT 0,
  `comment` TEXT,
  `id_user` VARCHAR(255) DEFAULT NULL,
  `action` TEXT,
  FOREIGN KEY (`id_event`) REFERENCES `tevento` (`id_evento`) ON UPDATE CASCADE ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
