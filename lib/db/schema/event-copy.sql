-- Command Center side of event-pull. The engine runs these when the tables are missing and never
-- alters an existing table: on a Command Center that still has Pandora's legacy tmetaconsole_event
-- (5.0 - 7.0NG.762), the engine checks for the UNIQUE key below and explains how to add it.

-- Pandora's legacy copy of Instance events: the columns of tevento under the same names, plus the
-- Instance's id (id_source_event), the Instance's registry id (server_id), the names the Command
-- Center cannot join for itself, and user_comment (the Instance's tevent_comment rows as a JSON
-- array, the format Pandora used before MR 66). UNIQUE(server_id, id_source_event) is what makes the
-- copy exactly-once; Pandora's own table never had it.
CREATE TABLE IF NOT EXISTS `tmetaconsole_event` (
  `id_evento` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `id_source_event` BIGINT UNSIGNED NOT NULL,
  `id_agente` INT NOT NULL DEFAULT 0,
  `agent_name` VARCHAR(600) NOT NULL DEFAULT '',
  `id_usuario` VARCHAR(255) NOT NULL DEFAULT '0',
  `id_grupo` MEDIUMINT NOT NULL DEFAULT 0,
  `group_name` VARCHAR(100) NOT NULL DEFAULT '',
  `estado` TINYINT UNSIGNED NOT NULL DEFAULT 0,
  `timestamp` DATETIME NOT NULL DEFAULT '1970-01-01 00:00:00',
  `evento` TEXT,
  `utimestamp` BIGINT NOT NULL DEFAULT 0,
  `event_type` ENUM('going_unknown','unknown','alert_fired','alert_recovered','alert_ceased','alert_manual_validation','recon_host_detected','system','error','new_agent','going_up_warning','going_up_critical','going_down_warning','going_down_normal','going_down_critical','going_up_normal','configuration_change','ncm') DEFAULT 'unknown',
  `id_agentmodule` INT NOT NULL DEFAULT 0,
  `module_name` VARCHAR(600) NOT NULL DEFAULT '',
  `id_alert_am` INT NOT NULL DEFAULT 0,
  `alert_template_name` TEXT,
  `criticity` INT UNSIGNED NOT NULL DEFAULT 0,
  `user_comment` MEDIUMTEXT,
  `tags` TEXT,
  `source` TINYTEXT,
  `id_extra` TINYTEXT,
  `critical_instructions` TEXT,
  `warning_instructions` TEXT,
  `unknown_instructions` TEXT,
  `owner_user` VARCHAR(255) NOT NULL DEFAULT '',
  `ack_utimestamp` BIGINT NOT NULL DEFAULT 0,
  `server_id` INT NOT NULL,
  `custom_data` TEXT,
  `data` TINYTEXT,
  `module_status` INT NOT NULL DEFAULT 0,
  `event_custom_id` TEXT,
  PRIMARY KEY (`id_evento`),
  UNIQUE KEY `server_source_event` (`server_id`, `id_source_event`),
  KEY `idx_server_ack` (`server_id`, `ack_utimestamp`),
  KEY `idx_utimestamp` (`utimestamp`),
  KEY `idx_agentmodule` (`id_agentmodule`),
  KEY `estado` (`estado`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- event-pull's own progress per Instance, written in the same transaction as the events it covers.
-- last_id: every tevento row up to this id has been considered (copied, or skipped by mode).
-- last_ack / last_comment_id: how far the re-poll of validations and comments has looked.
-- last_cc_ack: how far the write-back has looked at validations made on the copy.
CREATE TABLE IF NOT EXISTS `tevent_pull_checkpoint` (
  `server_id` INT NOT NULL,
  `last_id` BIGINT UNSIGNED NOT NULL DEFAULT 0,
  `last_ack` BIGINT NOT NULL DEFAULT 0,
  `last_comment_id` BIGINT UNSIGNED NOT NULL DEFAULT 0,
  `last_cc_ack` BIGINT NOT NULL DEFAULT 0,
  `mode` VARCHAR(20) NOT NULL DEFAULT 'all',
  `updated_utimestamp` BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (`server_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
