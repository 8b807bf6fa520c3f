-- The objects a Command Center keeps identical on its Instances, with every column, type,
-- default, key and declared foreign key of Pandora FMS 7.0NG.77x (pandoradb.sql, MR 69), as
-- MariaDB reports them once that schema is loaded; plus the node-side tables that those
-- foreign keys reach (module alerts, 2FA secrets, collections, inventory modules) and tconfig.
-- Foreign keys to tables outside this file (agents, modules, notifications…) are left out.
-- Created only by tests, benchmarks and the demo: on a real Pandora database these tables
-- already exist and this package never alters them.

-- Agent groups. parent is a logical reference to tgrupo.id_grupo (0 = top level).
CREATE TABLE IF NOT EXISTS `tgrupo` (
  `id_grupo` mediumint(8) unsigned NOT NULL AUTO_INCREMENT,
  `nombre` varchar(100) NOT NULL DEFAULT '',
  `icon` varchar(50) DEFAULT 'world',
  `parent` mediumint(8) unsigned NOT NULL DEFAULT 0,
  `propagate` tinyint(3) unsigned NOT NULL DEFAULT 0,
  `disabled` tinyint(3) unsigned NOT NULL DEFAULT 0,
  `custom_id` varchar(255) DEFAULT '',
  `id_skin` int(10) unsigned NOT NULL DEFAULT 0,
  `description` text DEFAULT NULL,
  `contact` text DEFAULT NULL,
  `other` text DEFAULT NULL,
  `password` varchar(45) DEFAULT '',
  `max_agents` int(10) unsigned NOT NULL DEFAULT 0,
  PRIMARY KEY (`id_grupo`),
  KEY `parent_index` (`parent`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `ttag` (
  `id_tag` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` text DEFAULT NULL,
  `description` text DEFAULT NULL,
  `url` mediumtext DEFAULT NULL,
  `email` text DEFAULT NULL,
  `phone` text DEFAULT NULL,
  `previous_name` text DEFAULT NULL,
  PRIMARY KEY (`id_tag`),
  KEY `ttag_name` (`name`(15))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `tcategory` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(600) NOT NULL DEFAULT '',
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `tmodule_group` (
  `id_mg` smallint(5) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(150) NOT NULL DEFAULT '',
  PRIMARY KEY (`id_mg`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `tconfig_os` (
  `id_os` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(100) NOT NULL DEFAULT '',
  `description` varchar(250) DEFAULT '',
  `icon_name` varchar(100) DEFAULT '',
  `previous_name` text DEFAULT NULL,
  PRIMARY KEY (`id_os`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `tconfig_os_version` (
  `id_os_version` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `product` text DEFAULT NULL,
  `version` text DEFAULT NULL,
  `end_of_support` varchar(10) DEFAULT NULL,
  PRIMARY KEY (`id_os_version`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- parent is a logical reference to another component group (0 = top level).
CREATE TABLE IF NOT EXISTS `tnetwork_component_group` (
  `id_sg` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(200) NOT NULL DEFAULT '',
  `parent` mediumint(8) unsigned NOT NULL DEFAULT 0,
  PRIMARY KEY (`id_sg`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `tperfil` (
  `id_perfil` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` text DEFAULT NULL,
  `agent_view` tinyint(4) NOT NULL DEFAULT 0,
  `agent_edit` tinyint(4) NOT NULL DEFAULT 0,
  `alert_edit` tinyint(4) NOT NULL DEFAULT 0,
  `user_management` tinyint(4) NOT NULL DEFAULT 0,
  `db_management` tinyint(4) NOT NULL DEFAULT 0,
  `alert_management` tinyint(4) NOT NULL DEFAULT 0,
  `pandora_management` tinyint(4) NOT NULL DEFAULT 0,
  `report_view` tinyint(4) NOT NULL DEFAULT 0,
  `report_edit` tinyint(4) NOT NULL DEFAULT 0,
  `report_management` tinyint(4) NOT NULL DEFAULT 0,
  `event_view` tinyint(4) NOT NULL DEFAULT 0,
  `event_edit` tinyint(4) NOT NULL DEFAULT 0,
  `event_management` tinyint(4) NOT NULL DEFAULT 0,
  `agent_disable` tinyint(4) NOT NULL DEFAULT 0,
  `map_view` tinyint(4) NOT NULL DEFAULT 0,
  `map_edit` tinyint(4) NOT NULL DEFAULT 0,
  `map_management` tinyint(4) NOT NULL DEFAULT 0,
  `vconsole_view` tinyint(4) NOT NULL DEFAULT 0,
  `vconsole_edit` tinyint(4) NOT NULL DEFAULT 0,
  `vconsole_management` tinyint(4) NOT NULL DEFAULT 0,
  `network_config_view` tinyint(4) NOT NULL DEFAULT 0,
  `network_config_edit` tinyint(4) NOT NULL DEFAULT 0,
  `network_config_management` tinyint(4) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id_perfil`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Referenced by tusuario.id_filter (FK).
CREATE TABLE IF NOT EXISTS `tevent_filter` (
  `id_filter` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `id_group_filter` int(11) NOT NULL DEFAULT 0,
  `id_name` varchar(600) NOT NULL,
  `id_group` int(11) NOT NULL DEFAULT 0,
  `event_type` text DEFAULT NULL,
  `severity` text DEFAULT NULL,
  `status` int(11) NOT NULL DEFAULT -1,
  `search` text DEFAULT NULL,
  `not_search` int(11) NOT NULL DEFAULT 0,
  `text_agent` text DEFAULT NULL,
  `id_agent` int(11) DEFAULT 0,
  `id_agent_module` int(11) DEFAULT 0,
  `pagination` int(11) NOT NULL DEFAULT 25,
  `event_view_hr` int(11) NOT NULL DEFAULT 8,
  `id_user_ack` text DEFAULT NULL,
  `group_rep` int(11) NOT NULL DEFAULT 0,
  `tag_with` text DEFAULT NULL,
  `tag_without` text DEFAULT NULL,
  `filter_only_alert` int(11) NOT NULL DEFAULT -1,
  `search_secondary_groups` int(11) NOT NULL DEFAULT 0,
  `search_recursive_groups` int(11) NOT NULL DEFAULT 0,
  `date_from` date DEFAULT NULL,
  `date_to` date DEFAULT NULL,
  `source` tinytext DEFAULT NULL,
  `id_extra` tinytext DEFAULT NULL,
  `user_comment` text DEFAULT NULL,
  `id_source_event` int(11) DEFAULT 0,
  `server_id` text DEFAULT NULL,
  `time_from` time DEFAULT NULL,
  `time_to` time DEFAULT NULL,
  `custom_data` varchar(500) DEFAULT '',
  `custom_data_filter_type` tinyint(3) unsigned DEFAULT 0,
  `owner_user` text DEFAULT NULL,
  `private_filter_user` text DEFAULT NULL,
  `regex` tinyint(3) unsigned NOT NULL DEFAULT 0,
  PRIMARY KEY (`id_filter`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- No PRIMARY KEY: identity is UNIQUE id_user.
CREATE TABLE IF NOT EXISTS `tusuario` (
  `id_user` varchar(255) NOT NULL DEFAULT '0',
  `fullname` varchar(255) NOT NULL,
  `firstname` varchar(255) NOT NULL,
  `lastname` varchar(255) NOT NULL,
  `middlename` varchar(255) NOT NULL,
  `password` varchar(60) DEFAULT NULL,
  `comments` varchar(200) DEFAULT NULL,
  `last_connect` bigint(20) NOT NULL DEFAULT 0,
  `registered` bigint(20) NOT NULL DEFAULT 0,
  `email` varchar(100) DEFAULT NULL,
  `phone` varchar(100) DEFAULT NULL,
  `is_admin` tinyint(3) unsigned NOT NULL DEFAULT 0,
  `language` varchar(10) DEFAULT NULL,
  `timezone` varchar(50) DEFAULT '',
  `block_size` int(11) NOT NULL DEFAULT 20,
  `id_skin` int(10) unsigned NOT NULL DEFAULT 0,
  `disabled` int(11) NOT NULL DEFAULT 0,
  `shortcut` tinyint(4) DEFAULT 0,
  `shortcut_data` text DEFAULT NULL,
  `section` text DEFAULT NULL,
  `data_section` text DEFAULT NULL,
  `metaconsole_section` varchar(255) NOT NULL DEFAULT 'Default',
  `metaconsole_data_section` text DEFAULT NULL,
  `force_change_pass` tinyint(3) unsigned NOT NULL DEFAULT 0,
  `last_pass_change` datetime DEFAULT NULL,
  `last_failed_login` datetime DEFAULT NULL,
  `failed_attempt` int(11) NOT NULL DEFAULT 0,
  `login_blocked` tinyint(3) unsigned NOT NULL DEFAULT 0,
  `metaconsole_access` enum('basic','advanced') DEFAULT 'basic',
  `not_login` tinyint(3) unsigned NOT NULL DEFAULT 0,
  `local_user` tinyint(3) unsigned NOT NULL DEFAULT 0,
  `metaconsole_agents_manager` tinyint(3) unsigned NOT NULL DEFAULT 0,
  `metaconsole_access_node` tinyint(3) unsigned NOT NULL DEFAULT 0,
  `strict_acl` tinyint(3) unsigned NOT NULL DEFAULT 0,
  `id_filter` int(10) unsigned DEFAULT NULL,
  `session_time` int(11) NOT NULL DEFAULT 0,
  `default_event_filter` int(10) unsigned NOT NULL DEFAULT 0,
  `metaconsole_default_event_filter` int(10) unsigned NOT NULL DEFAULT 0,
  `show_tips_startup` tinyint(3) unsigned NOT NULL DEFAULT 1,
  `autorefresh_white_list` text DEFAULT NULL,
  `time_autorefresh` int(10) unsigned NOT NULL DEFAULT 30,
  `default_custom_view` int(10) unsigned DEFAULT 0,
  `ehorus_user_level_user` varchar(60) DEFAULT NULL,
  `ehorus_user_level_pass` varchar(45) DEFAULT NULL,
  `ehorus_user_level_enabled` tinyint(4) DEFAULT NULL,
  `integria_user_level_user` varchar(60) DEFAULT NULL,
  `integria_user_level_pass` text DEFAULT NULL,
  `api_token` varchar(255) NOT NULL DEFAULT '',
  `allowed_ip_active` tinyint(3) unsigned DEFAULT 0,
  `allowed_ip_list` text DEFAULT NULL,
  `auth_token_secret` varchar(45) DEFAULT NULL,
  `session_max_time_expire` int(11) NOT NULL DEFAULT 0,
  `stop_lts_modal` tinyint(4) NOT NULL DEFAULT 0,
  UNIQUE KEY `id_user` (`id_user`),
  KEY `fk_filter_id` (`id_filter`),
  CONSTRAINT `fk_filter_id` FOREIGN KEY (`id_filter`) REFERENCES `tevent_filter` (`id_filter`) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `tusuario_perfil` (
  `id_up` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `id_usuario` varchar(255) NOT NULL DEFAULT '',
  `id_perfil` int(10) unsigned NOT NULL DEFAULT 0,
  `id_grupo` int(11) NOT NULL DEFAULT 0,
  `no_hierarchy` tinyint(4) NOT NULL DEFAULT 0,
  `assigned_by` varchar(100) NOT NULL DEFAULT '',
  `id_policy` int(10) unsigned NOT NULL DEFAULT 0,
  `tags` text DEFAULT NULL,
  PRIMARY KEY (`id_up`),
  KEY `tusuario_perfil_user` (`id_usuario`),
  KEY `tusuario_perfil_group` (`id_grupo`),
  KEY `tusuario_perfil_profile` (`id_perfil`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Node side: two-factor secrets, taken with the user by the cascade.
CREATE TABLE IF NOT EXISTS `tuser_double_auth` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `id_user` varchar(255) NOT NULL,
  `secret` varchar(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `id_user` (`id_user`),
  CONSTRAINT `tuser_double_auth_ibfk_1` FOREIGN KEY (`id_user`) REFERENCES `tusuario` (`id_user`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `talert_commands` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(100) NOT NULL DEFAULT '',
  `command` text DEFAULT NULL,
  `id_group` mediumint(8) unsigned DEFAULT 0,
  `description` text DEFAULT NULL,
  `internal` tinyint(4) DEFAULT 0,
  `fields_descriptions` text DEFAULT NULL,
  `fields_values` text DEFAULT NULL,
  `fields_hidden` text DEFAULT NULL,
  `previous_name` text DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `name` (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `talert_actions` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(500) DEFAULT NULL,
  `id_alert_command` int(10) unsigned DEFAULT 0,
  `field1` text DEFAULT NULL,
  `field2` text DEFAULT NULL,
  `field3` text DEFAULT NULL,
  `field4` text DEFAULT NULL,
  `field5` text DEFAULT NULL,
  `field6` text DEFAULT NULL,
  `field7` text DEFAULT NULL,
  `field8` text DEFAULT NULL,
  `field9` text DEFAULT NULL,
  `field10` text DEFAULT NULL,
  `field11` text DEFAULT NULL,
  `field12` text DEFAULT NULL,
  `field13` text DEFAULT NULL,
  `field14` text DEFAULT NULL,
  `field15` text DEFAULT NULL,
  `field16` text DEFAULT NULL,
  `field17` text DEFAULT NULL,
  `field18` text DEFAULT NULL,
  `field19` text DEFAULT NULL,
  `field20` text DEFAULT NULL,
  `id_group` mediumint(8) unsigned DEFAULT 0,
  `action_threshold` int(11) NOT NULL DEFAULT 0,
  `field1_recovery` text DEFAULT NULL,
  `field2_recovery` text DEFAULT NULL,
  `field3_recovery` text DEFAULT NULL,
  `field4_recovery` text DEFAULT NULL,
  `field5_recovery` text DEFAULT NULL,
  `field6_recovery` text DEFAULT NULL,
  `field7_recovery` text DEFAULT NULL,
  `field8_recovery` text DEFAULT NULL,
  `field9_recovery` text DEFAULT NULL,
  `field10_recovery` text DEFAULT NULL,
  `field11_recovery` text DEFAULT NULL,
  `field12_recovery` text DEFAULT NULL,
  `field13_recovery` text DEFAULT NULL,
  `field14_recovery` text DEFAULT NULL,
  `field15_recovery` text DEFAULT NULL,
  `field16_recovery` text DEFAULT NULL,
  `field17_recovery` text DEFAULT NULL,
  `field18_recovery` text DEFAULT NULL,
  `field19_recovery` text DEFAULT NULL,
  `field20_recovery` text DEFAULT NULL,
  `previous_name` text DEFAULT NULL,
  `create_wu_integria` tinyint(4) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `name` (`name`),
  KEY `id_alert_command` (`id_alert_command`),
  CONSTRAINT `talert_actions_ibfk_1` FOREIGN KEY (`id_alert_command`) REFERENCES `talert_commands` (`id`) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `talert_templates` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` text DEFAULT NULL,
  `description` mediumtext DEFAULT NULL,
  `id_alert_action` int(10) unsigned DEFAULT NULL,
  `field1` text DEFAULT NULL,
  `field2` text DEFAULT NULL,
  `field3` text DEFAULT NULL,
  `field4` text DEFAULT NULL,
  `field5` text DEFAULT NULL,
  `field6` text DEFAULT NULL,
  `field7` text DEFAULT NULL,
  `field8` text DEFAULT NULL,
  `field9` text DEFAULT NULL,
  `field10` text DEFAULT NULL,
  `field11` text DEFAULT NULL,
  `field12` text DEFAULT NULL,
  `field13` text DEFAULT NULL,
  `field14` text DEFAULT NULL,
  `field15` text DEFAULT NULL,
  `field16` text DEFAULT NULL,
  `field17` text DEFAULT NULL,
  `field18` text DEFAULT NULL,
  `field19` text DEFAULT NULL,
  `field20` text DEFAULT NULL,
  `type` enum('regex','max_min','max','min','equal','not_equal','warning','critical','onchange','unknown','always','not_normal','complex') DEFAULT NULL,
  `value` varchar(255) DEFAULT '',
  `matches_value` tinyint(4) DEFAULT 0,
  `max_value` double DEFAULT NULL,
  `min_value` double DEFAULT NULL,
  `time_window` enum('thirty_days','this_month','seven_days','this_week','one_day','today') DEFAULT NULL,
  `math_function` enum('avg','min','max','sum') DEFAULT NULL,
  `condition` enum('lower','greater','equal') DEFAULT NULL,
  `time_threshold` int(11) NOT NULL DEFAULT 0,
  `max_alerts` int(10) unsigned NOT NULL DEFAULT 1,
  `min_alerts` int(10) unsigned NOT NULL DEFAULT 0,
  `time_from` time DEFAULT '00:00:00',
  `time_to` time DEFAULT '00:00:00',
  `monday` tinyint(4) DEFAULT 1,
  `tuesday` tinyint(4) DEFAULT 1,
  `wednesday` tinyint(4) DEFAULT 1,
  `thursday` tinyint(4) DEFAULT 1,
  `friday` tinyint(4) DEFAULT 1,
  `saturday` tinyint(4) DEFAULT 1,
  `sunday` tinyint(4) DEFAULT 1,
  `recovery_notify` tinyint(4) DEFAULT 0,
  `field1_recovery` text DEFAULT NULL,
  `field2_recovery` text DEFAULT NULL,
  `field3_recovery` text DEFAULT NULL,
  `field4_recovery` text DEFAULT NULL,
  `field5_recovery` text DEFAULT NULL,
  `field6_recovery` text DEFAULT NULL,
  `field7_recovery` text DEFAULT NULL,
  `field8_recovery` text DEFAULT NULL,
  `field9_recovery` text DEFAULT NULL,
  `field10_recovery` text DEFAULT NULL,
  `field11_recovery` text DEFAULT NULL,
  `field12_recovery` text DEFAULT NULL,
  `field13_recovery` text DEFAULT NULL,
  `field14_recovery` text DEFAULT NULL,
  `field15_recovery` text DEFAULT NULL,
  `field16_recovery` text DEFAULT NULL,
  `field17_recovery` text DEFAULT NULL,
  `field18_recovery` text DEFAULT NULL,
  `field19_recovery` text DEFAULT NULL,
  `field20_recovery` text DEFAULT NULL,
  `priority` tinyint(4) DEFAULT 0,
  `id_group` mediumint(8) unsigned DEFAULT 0,
  `special_day` tinyint(4) DEFAULT 0,
  `wizard_level` enum('basic','advanced','nowizard') DEFAULT 'nowizard',
  `min_alerts_reset_counter` tinyint(4) DEFAULT 0,
  `disable_event` tinyint(4) DEFAULT 0,
  `previous_name` text DEFAULT NULL,
  `schedule` text DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `idx_template_action` (`id_alert_action`),
  CONSTRAINT `talert_templates_ibfk_1` FOREIGN KEY (`id_alert_action`) REFERENCES `talert_actions` (`id`) ON DELETE SET NULL ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Node side: module alerts. Pandora also declares an FK to tagente_modulo, left out here
-- because the agent tables are not part of this package.
CREATE TABLE IF NOT EXISTS `talert_template_modules` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `id_agent_module` int(10) unsigned NOT NULL,
  `id_alert_template` int(10) unsigned NOT NULL,
  `id_policy_alerts` int(10) unsigned NOT NULL DEFAULT 0,
  `internal_counter` int(11) DEFAULT 0,
  `last_fired` bigint(20) NOT NULL DEFAULT 0,
  `last_reference` bigint(20) NOT NULL DEFAULT 0,
  `times_fired` int(11) NOT NULL DEFAULT 0,
  `disabled` tinyint(4) DEFAULT 0,
  `standby` tinyint(4) DEFAULT 0,
  `priority` tinyint(4) DEFAULT 0,
  `force_execution` tinyint(4) DEFAULT 0,
  `disabled_by_downtime` tinyint(4) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  UNIQUE KEY `id_agent_module` (`id_agent_module`,`id_alert_template`,`id_policy_alerts`),
  KEY `idx_template_module` (`id_agent_module`),
  KEY `id_alert_template` (`id_alert_template`),
  KEY `force_execution` (`force_execution`),
  KEY `idx_disabled` (`disabled`),
  CONSTRAINT `talert_template_modules_ibfk_2` FOREIGN KEY (`id_alert_template`) REFERENCES `talert_templates` (`id`) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `talert_template_module_actions` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `id_alert_template_module` int(10) unsigned NOT NULL,
  `id_alert_action` int(10) unsigned NOT NULL,
  `fires_min` int(10) unsigned DEFAULT 0,
  `fires_max` int(10) unsigned DEFAULT 0,
  `module_action_threshold` int(11) NOT NULL DEFAULT 0,
  `last_execution` bigint(20) NOT NULL DEFAULT 0,
  `recovered` tinyint(4) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  KEY `id_alert_template_module` (`id_alert_template_module`),
  KEY `id_alert_action` (`id_alert_action`),
  CONSTRAINT `talert_template_module_actions_ibfk_1` FOREIGN KEY (`id_alert_template_module`) REFERENCES `talert_template_modules` (`id`) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT `talert_template_module_actions_ibfk_2` FOREIGN KEY (`id_alert_action`) REFERENCES `talert_actions` (`id`) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `talert_calendar` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(100) NOT NULL DEFAULT '',
  `id_group` int(11) NOT NULL DEFAULT 0,
  `description` text DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `name` (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `talert_special_days` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `id_calendar` int(10) unsigned NOT NULL DEFAULT 1,
  `id_group` int(11) NOT NULL DEFAULT 0,
  `date` date NOT NULL DEFAULT '1970-01-01',
  `day_code` tinyint(4) NOT NULL,
  `description` text DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `id_calendar` (`id_calendar`),
  CONSTRAINT `talert_special_days_ibfk_1` FOREIGN KEY (`id_calendar`) REFERENCES `talert_calendar` (`id`) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `tplugin` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(200) NOT NULL,
  `description` mediumtext DEFAULT NULL,
  `max_timeout` int(10) unsigned NOT NULL DEFAULT 0,
  `max_retries` int(10) unsigned NOT NULL DEFAULT 0,
  `execute` varchar(250) NOT NULL,
  `net_dst_opt` varchar(50) DEFAULT '',
  `net_port_opt` varchar(50) DEFAULT '',
  `user_opt` varchar(50) DEFAULT '',
  `pass_opt` varchar(50) DEFAULT '',
  `plugin_type` int(10) unsigned NOT NULL DEFAULT 0,
  `macros` text DEFAULT NULL,
  `parameters` text DEFAULT NULL,
  `no_delete` tinyint(4) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `tnetwork_component` (
  `id_nc` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` text DEFAULT NULL,
  `description` text DEFAULT NULL,
  `id_group` int(11) NOT NULL DEFAULT 1,
  `type` smallint(6) NOT NULL DEFAULT 6,
  `max` bigint(20) NOT NULL DEFAULT 0,
  `min` bigint(20) NOT NULL DEFAULT 0,
  `module_interval` mediumint(8) unsigned NOT NULL DEFAULT 0,
  `tcp_port` int(10) unsigned NOT NULL DEFAULT 0,
  `tcp_send` text DEFAULT NULL,
  `tcp_rcv` text DEFAULT NULL,
  `snmp_community` varchar(255) NOT NULL DEFAULT 'NULL',
  `snmp_oid` varchar(400) NOT NULL,
  `id_module_group` tinyint(3) unsigned NOT NULL DEFAULT 0,
  `id_modulo` int(10) unsigned DEFAULT 0,
  `id_plugin` int(10) unsigned DEFAULT 0,
  `plugin_user` text DEFAULT NULL,
  `plugin_pass` text DEFAULT NULL,
  `plugin_parameter` text DEFAULT NULL,
  `max_timeout` int(10) unsigned DEFAULT 0,
  `max_retries` int(10) unsigned DEFAULT 0,
  `history_data` tinyint(3) unsigned DEFAULT 1,
  `min_warning` double DEFAULT 0,
  `max_warning` double DEFAULT 0,
  `str_warning` text DEFAULT NULL,
  `min_critical` double DEFAULT 0,
  `max_critical` double DEFAULT 0,
  `str_critical` text DEFAULT NULL,
  `min_ff_event` int(10) unsigned DEFAULT 0,
  `custom_string_1` text DEFAULT NULL,
  `custom_string_2` text DEFAULT NULL,
  `custom_string_3` text DEFAULT NULL,
  `custom_integer_1` int(11) DEFAULT 0,
  `custom_integer_2` int(11) DEFAULT 0,
  `post_process` double DEFAULT 0,
  `unit` text DEFAULT NULL,
  `wizard_level` enum('basic','advanced','nowizard') DEFAULT 'nowizard',
  `macros` text DEFAULT NULL,
  `critical_instructions` text DEFAULT NULL,
  `warning_instructions` text DEFAULT NULL,
  `unknown_instructions` text DEFAULT NULL,
  `critical_inverse` tinyint(3) unsigned DEFAULT 0,
  `warning_inverse` tinyint(3) unsigned DEFAULT 0,
  `id_category` int(11) DEFAULT 0,
  `tags` text DEFAULT NULL,
  `disabled_types_event` text DEFAULT NULL,
  `module_macros` text DEFAULT NULL,
  `min_ff_event_normal` int(10) unsigned DEFAULT 0,
  `min_ff_event_warning` int(10) unsigned DEFAULT 0,
  `min_ff_event_critical` int(10) unsigned DEFAULT 0,
  `ff_type` tinyint(3) unsigned DEFAULT 0,
  `each_ff` tinyint(3) unsigned DEFAULT 0,
  `dynamic_interval` int(10) unsigned DEFAULT 0,
  `dynamic_max` int(11) DEFAULT 0,
  `dynamic_min` int(11) DEFAULT 0,
  `dynamic_next` bigint(20) NOT NULL DEFAULT 0,
  `dynamic_two_tailed` tinyint(3) unsigned DEFAULT 0,
  `module_type` tinyint(3) unsigned NOT NULL DEFAULT 1,
  `protocol` tinytext DEFAULT NULL,
  `manufacturer_id` varchar(200) DEFAULT NULL,
  `execution_type` tinyint(3) unsigned NOT NULL DEFAULT 1,
  `scan_type` tinyint(3) unsigned NOT NULL DEFAULT 1,
  `value` text DEFAULT NULL,
  `value_operations` text DEFAULT NULL,
  `module_enabled` tinyint(3) unsigned DEFAULT 0,
  `name_oid` varchar(255) DEFAULT '',
  `query_class` varchar(200) DEFAULT '',
  `query_key_field` varchar(200) DEFAULT '',
  `scan_filters` text DEFAULT NULL,
  `query_filters` text DEFAULT NULL,
  `enabled` tinyint(3) unsigned DEFAULT 1,
  `percentage_critical` tinyint(3) unsigned DEFAULT 0,
  `percentage_warning` tinyint(3) unsigned DEFAULT 0,
  `warning_time` int(10) unsigned DEFAULT 0,
  `target_ip` varchar(255) NOT NULL DEFAULT '',
  PRIMARY KEY (`id_nc`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `tlocal_component` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` text DEFAULT NULL,
  `data` mediumtext DEFAULT NULL,
  `description` varchar(1024) DEFAULT NULL,
  `id_os` int(10) unsigned DEFAULT 0,
  `os_version` varchar(100) DEFAULT '',
  `id_network_component_group` int(10) unsigned NOT NULL DEFAULT 0,
  `type` smallint(6) NOT NULL DEFAULT 6,
  `max` bigint(20) NOT NULL DEFAULT 0,
  `min` bigint(20) NOT NULL DEFAULT 0,
  `module_interval` mediumint(8) unsigned NOT NULL DEFAULT 0,
  `id_module_group` tinyint(3) unsigned NOT NULL DEFAULT 0,
  `history_data` tinyint(3) unsigned DEFAULT 1,
  `min_warning` double DEFAULT 0,
  `max_warning` double DEFAULT 0,
  `str_warning` text DEFAULT NULL,
  `min_critical` double DEFAULT 0,
  `max_critical` double DEFAULT 0,
  `str_critical` text DEFAULT NULL,
  `min_ff_event` int(10) unsigned DEFAULT 0,
  `post_process` double DEFAULT 0,
  `unit` text DEFAULT NULL,
  `wizard_level` enum('basic','advanced','nowizard') DEFAULT 'nowizard',
  `macros` text DEFAULT NULL,
  `critical_instructions` text DEFAULT NULL,
  `warning_instructions` text DEFAULT NULL,
  `unknown_instructions` text DEFAULT NULL,
  `critical_inverse` tinyint(3) unsigned DEFAULT 0,
  `warning_inverse` tinyint(3) unsigned DEFAULT 0,
  `id_category` int(11) DEFAULT 0,
  `tags` text DEFAULT NULL,
  `disabled_types_event` text DEFAULT NULL,
  `min_ff_event_normal` int(10) unsigned DEFAULT 0,
  `min_ff_event_warning` int(10) unsigned DEFAULT 0,
  `min_ff_event_critical` int(10) unsigned DEFAULT 0,
  `ff_type` tinyint(3) unsigned DEFAULT 0,
  `each_ff` tinyint(3) unsigned DEFAULT 0,
  `ff_timeout` int(10) unsigned DEFAULT 0,
  `dynamic_interval` int(10) unsigned DEFAULT 0,
  `dynamic_max` int(11) DEFAULT 0,
  `dynamic_min` int(11) DEFAULT 0,
  `dynamic_next` bigint(20) NOT NULL DEFAULT 0,
  `dynamic_two_tailed` tinyint(3) unsigned DEFAULT 0,
  `prediction_sample_window` int(11) DEFAULT 0,
  `prediction_samples` int(11) DEFAULT 0,
  `prediction_threshold` int(11) DEFAULT 0,
  `percentage_critical` tinyint(3) unsigned DEFAULT 0,
  `percentage_warning` tinyint(3) unsigned DEFAULT 0,
  `warning_time` int(10) unsigned DEFAULT 0,
  PRIMARY KEY (`id`),
  KEY `id_network_component_group` (`id_network_component_group`),
  CONSTRAINT `tlocal_component_ibfk_1` FOREIGN KEY (`id_network_component_group`) REFERENCES `tnetwork_component_group` (`id_sg`) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Node side: file collections, referenced by tpolicy_collections (FK).
CREATE TABLE IF NOT EXISTS `tcollection` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(100) NOT NULL DEFAULT '',
  `short_name` varchar(100) NOT NULL DEFAULT '',
  `id_group` int(10) unsigned NOT NULL DEFAULT 0,
  `description` mediumtext DEFAULT NULL,
  `status` int(10) unsigned NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Node side: inventory modules, referenced by tpolicy_modules_inventory (FK).
CREATE TABLE IF NOT EXISTS `tmodule_inventory` (
  `id_module_inventory` int(11) NOT NULL AUTO_INCREMENT,
  `id_os` int(10) unsigned DEFAULT NULL,
  `name` text DEFAULT NULL,
  `description` text DEFAULT NULL,
  `interpreter` varchar(100) DEFAULT '',
  `data_format` text DEFAULT NULL,
  `code` blob NOT NULL,
  `block_mode` int(11) NOT NULL DEFAULT 0,
  `script_mode` int(11) NOT NULL DEFAULT 1,
  `script_path` varchar(1000) DEFAULT '',
  PRIMARY KEY (`id_module_inventory`),
  KEY `id_os` (`id_os`),
  CONSTRAINT `tmodule_inventory_ibfk_1` FOREIGN KEY (`id_os`) REFERENCES `tconfig_os` (`id_os`) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `tpolicies` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` text DEFAULT NULL,
  `description` varchar(255) NOT NULL DEFAULT '',
  `id_group` int(10) unsigned DEFAULT 0,
  `status` int(10) unsigned NOT NULL DEFAULT 0,
  `force_apply` tinyint(4) DEFAULT 0,
  `apply_to_secondary_groups` tinyint(4) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `tpolicy_modules` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `id_policy` int(10) unsigned NOT NULL DEFAULT 0,
  `configuration_data` mediumtext DEFAULT NULL,
  `id_tipo_modulo` smallint(6) NOT NULL DEFAULT 0,
  `description` varchar(1024) NOT NULL DEFAULT '',
  `name` varchar(200) NOT NULL DEFAULT '',
  `unit` text DEFAULT NULL,
  `max` bigint(20) DEFAULT 0,
  `min` bigint(20) DEFAULT 0,
  `module_interval` int(10) unsigned DEFAULT 0,
  `ip_target` varchar(100) DEFAULT '',
  `tcp_port` int(10) unsigned DEFAULT 0,
  `tcp_send` text DEFAULT NULL,
  `tcp_rcv` text DEFAULT NULL,
  `snmp_community` varchar(100) DEFAULT '',
  `snmp_oid` varchar(255) DEFAULT '0',
  `id_module_group` int(10) unsigned DEFAULT 0,
  `flag` tinyint(3) unsigned DEFAULT 1,
  `id_module` int(11) DEFAULT 0,
  `disabled` tinyint(3) unsigned NOT NULL DEFAULT 0,
  `id_export` smallint(5) unsigned DEFAULT 0,
  `plugin_user` text DEFAULT NULL,
  `plugin_pass` text DEFAULT NULL,
  `plugin_parameter` text DEFAULT NULL,
  `id_plugin` int(11) DEFAULT 0,
  `post_process` double DEFAULT 0,
  `prediction_module` bigint(20) DEFAULT 0,
  `max_timeout` int(10) unsigned DEFAULT 0,
  `max_retries` int(10) unsigned DEFAULT 0,
  `custom_id` varchar(255) DEFAULT '',
  `history_data` tinyint(3) unsigned DEFAULT 1,
  `min_warning` double DEFAULT 0,
  `max_warning` double DEFAULT 0,
  `str_warning` text DEFAULT NULL,
  `min_critical` double DEFAULT 0,
  `max_critical` double DEFAULT 0,
  `str_critical` text DEFAULT NULL,
  `min_ff_event` int(10) unsigned DEFAULT 0,
  `custom_string_1` text DEFAULT NULL,
  `custom_string_2` text DEFAULT NULL,
  `custom_string_3` text DEFAULT NULL,
  `custom_integer_1` int(11) DEFAULT 0,
  `custom_integer_2` int(11) DEFAULT 0,
  `pending_delete` tinyint(4) DEFAULT 0,
  `critical_instructions` text DEFAULT NULL,
  `warning_instructions` text DEFAULT NULL,
  `unknown_instructions` text DEFAULT NULL,
  `critical_inverse` tinyint(3) unsigned DEFAULT 0,
  `warning_inverse` tinyint(3) unsigned DEFAULT 0,
  `id_category` int(11) DEFAULT 0,
  `module_ff_interval` int(10) unsigned DEFAULT 0,
  `quiet` tinyint(4) NOT NULL DEFAULT 0,
  `cron_interval` varchar(100) DEFAULT '',
  `macros` text DEFAULT NULL,
  `disabled_types_event` text DEFAULT NULL,
  `module_macros` text DEFAULT NULL,
  `min_ff_event_normal` int(10) unsigned DEFAULT 0,
  `min_ff_event_warning` int(10) unsigned DEFAULT 0,
  `min_ff_event_critical` int(10) unsigned DEFAULT 0,
  `ff_type` tinyint(3) unsigned DEFAULT 0,
  `each_ff` tinyint(3) unsigned DEFAULT 0,
  `ff_timeout` int(10) unsigned DEFAULT 0,
  `dynamic_interval` int(10) unsigned DEFAULT 0,
  `dynamic_max` int(11) DEFAULT 0,
  `dynamic_min` int(11) DEFAULT 0,
  `dynamic_next` bigint(20) NOT NULL DEFAULT 0,
  `dynamic_two_tailed` tinyint(3) unsigned DEFAULT 0,
  `prediction_sample_window` int(11) DEFAULT 0,
  `prediction_samples` int(11) DEFAULT 0,
  `prediction_threshold` int(11) DEFAULT 0,
  `cps` int(11) NOT NULL DEFAULT 0,
  `percentage_warning` tinyint(3) unsigned DEFAULT 0,
  `percentage_critical` tinyint(3) unsigned DEFAULT 0,
  `warning_time` int(10) unsigned DEFAULT 0,
  `made_enabled` tinyint(3) unsigned DEFAULT 0,
  `ignore_unknown` tinyint(4) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  UNIQUE KEY `id_policy` (`id_policy`,`name`),
  KEY `main_idx` (`id_policy`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `tpolicy_alerts` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `id_policy` int(10) unsigned NOT NULL DEFAULT 0,
  `id_policy_module` int(10) unsigned DEFAULT 0,
  `id_alert_template` int(10) unsigned DEFAULT 0,
  `name_extern_module` text DEFAULT NULL,
  `disabled` tinyint(4) DEFAULT 0,
  `standby` tinyint(4) DEFAULT 0,
  `pending_delete` tinyint(4) DEFAULT 0,
  PRIMARY KEY (`id`),
  KEY `id_alert_template` (`id_alert_template`),
  KEY `id_policy` (`id_policy`),
  CONSTRAINT `tpolicy_alerts_ibfk_1` FOREIGN KEY (`id_alert_template`) REFERENCES `talert_templates` (`id`) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT `tpolicy_alerts_ibfk_2` FOREIGN KEY (`id_policy`) REFERENCES `tpolicies` (`id`) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `tpolicy_alerts_actions` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `id_policy_alert` int(10) unsigned NOT NULL,
  `id_alert_action` int(10) unsigned NOT NULL,
  `fires_min` int(10) unsigned DEFAULT 0,
  `fires_max` int(10) unsigned DEFAULT 0,
  PRIMARY KEY (`id`),
  KEY `id_policy_alert` (`id_policy_alert`),
  KEY `id_alert_action` (`id_alert_action`),
  CONSTRAINT `tpolicy_alerts_actions_ibfk_1` FOREIGN KEY (`id_policy_alert`) REFERENCES `tpolicy_alerts` (`id`) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT `tpolicy_alerts_actions_ibfk_2` FOREIGN KEY (`id_alert_action`) REFERENCES `talert_actions` (`id`) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `tpolicy_collections` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `id_policy` int(10) unsigned NOT NULL DEFAULT 0,
  `id_collection` int(10) unsigned DEFAULT 0,
  `pending_delete` tinyint(4) DEFAULT 0,
  PRIMARY KEY (`id`),
  KEY `id_policy` (`id_policy`),
  KEY `id_collection` (`id_collection`),
  CONSTRAINT `tpolicy_collections_ibfk_1` FOREIGN KEY (`id_policy`) REFERENCES `tpolicies` (`id`) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT `tpolicy_collections_ibfk_2` FOREIGN KEY (`id_collection`) REFERENCES `tcollection` (`id`) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `tpolicy_modules_inventory` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `id_policy` int(10) unsigned NOT NULL,
  `id_module_inventory` int(11) NOT NULL,
  `interval` int(10) unsigned NOT NULL DEFAULT 3600,
  `username` varchar(100) DEFAULT '',
  `password` varchar(100) DEFAULT '',
  `pending_delete` tinyint(4) DEFAULT 0,
  `custom_fields` mediumblob NOT NULL,
  PRIMARY KEY (`id`),
  KEY `id_policy` (`id_policy`),
  KEY `id_module_inventory` (`id_module_inventory`),
  CONSTRAINT `tpolicy_modules_inventory_ibfk_1` FOREIGN KEY (`id_policy`) REFERENCES `tpolicies` (`id`) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT `tpolicy_modules_inventory_ibfk_2` FOREIGN KEY (`id_module_inventory`) REFERENCES `tmodule_inventory` (`id_module_inventory`) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS `tpolicy_plugins` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `id_policy` int(10) unsigned DEFAULT 0,
  `plugin_exec` text DEFAULT NULL,
  `pending_delete` tinyint(4) DEFAULT 0,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- A synthetic policy module's operands (id_agent_module_target is a tpolicy_modules id).
CREATE TABLE IF NOT EXISTS `tpolicy_modules_synth` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `id_agent_module_source` int(10) unsigned NOT NULL DEFAULT 0,
  `id_agent_module_target` int(10) unsigned NOT NULL DEFAULT 0,
  `fixed_value` double NOT NULL DEFAULT 0,
  `operation` enum('ADD','SUB','DIV','MUL','AVG','NOP') NOT NULL DEFAULT 'NOP',
  `order` int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  KEY `id_agent_module_target` (`id_agent_module_target`),
  CONSTRAINT `tpolicy_modules_synth_ibfk_1` FOREIGN KEY (`id_agent_module_target`) REFERENCES `tpolicy_modules` (`id`) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- The groups a policy applies to (policy_applied and last_apply_utimestamp: each node's own).
CREATE TABLE IF NOT EXISTS `tpolicy_groups` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `id_policy` int(10) unsigned DEFAULT 0,
  `id_group` int(10) unsigned DEFAULT 0,
  `policy_applied` tinyint(3) unsigned DEFAULT 0,
  `pending_delete` tinyint(3) unsigned DEFAULT 0,
  `last_apply_utimestamp` int(10) unsigned NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  UNIQUE KEY `id_policy` (`id_policy`,`id_group`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- The agents a policy applies to: agent ids of one node, so only the queue carries them.
CREATE TABLE IF NOT EXISTS `tpolicy_agents` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `id_policy` int(10) unsigned DEFAULT 0,
  `id_agent` int(10) unsigned DEFAULT 0,
  `policy_applied` tinyint(3) unsigned DEFAULT 0,
  `pending_delete` tinyint(3) unsigned DEFAULT 0,
  `last_apply_utimestamp` int(10) unsigned NOT NULL DEFAULT 0,
  `id_node` int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  UNIQUE KEY `id_policy` (`id_policy`,`id_agent`,`id_node`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- The agents a policy reaches through its groups (the foreign key to tagente left out).
CREATE TABLE IF NOT EXISTS `tpolicy_group_agents` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `id_policy` int(10) unsigned DEFAULT NULL,
  `id_agent` int(10) unsigned DEFAULT NULL,
  `direct` tinyint(3) unsigned DEFAULT 0,
  UNIQUE KEY `id` (`id`),
  KEY `id_policy` (`id_policy`),
  CONSTRAINT `tpolicy_group_agents_ibfk_1` FOREIGN KEY (`id_policy`) REFERENCES `tpolicies` (`id`) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- A policy module's tags (a two-column key).
CREATE TABLE IF NOT EXISTS `ttag_policy_module` (
  `id_tag` int(11) NOT NULL,
  `id_policy_module` int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id_tag`,`id_policy_module`),
  KEY `idx_id_policy_module` (`id_policy_module`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Pandora settings (tokens): sync_queue_items_max, centralized_management, node_metaconsole,
-- metaconsole_node_id.
CREATE TABLE IF NOT EXISTS `tconfig` (
  `id_config` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `token` varchar(100) NOT NULL DEFAULT '',
  `value` text DEFAULT NULL,
  PRIMARY KEY (`id_config`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
