/**
 * A Command Center's console at work, for the tests: the statements Pandora's console runs and
 * queues (one tsync_queue row per node, the generated primary key written into each INSERT, text
 * HTML-entity encoded by io_safe_input) when an administrator creates a module group, an OS, a
 * calendar with special days, a component group and a network component, a server plugin (with
 * its file refresh, a named operation) and a policy with modules, an alert and its action, amid
 * users, profiles and groups. `round` numbers make ids unique, so the same scene can be played
 * many times.
 */
import type { Pool } from '../../lib/db/pool';

export interface ConsoleItem {
  /** The statement (empty for a named operation). */
  sql: string;
  table: string;
  /** `INSERT INTO` / `UPDATE` / `DELETE FROM`, or a named operation's name. */
  operation: string;
}

/** The group whose `max_agents` every round increments once: counts how often each applied. */
export const COUNTER_GROUP = 10;

/** Named operation the console queues after a plugin change (its files go to the node). */
export const PLUGIN_REFRESH = 'refresh_plugin';

/** What the plugin refresh item carries: where the node fetches the plugin's file. */
export const pluginUrl = (id: number): string =>
  `https://cc.example/pandora_console/attachment/plugin/${id}/ping.sh`;

const enc = (text: string): string =>
  text.replace(/[ ()'"<>&\n\r]/g, (c) => `&#x${c.charCodeAt(0).toString(16)};`);

function op(sql: string): string {
  const m = /^(INSERT INTO|UPDATE|DELETE FROM|REPLACE INTO)/.exec(sql);
  return m ? m[1] : '';
}

function tableOf(sql: string): string {
  const m = /^(?:INSERT INTO|UPDATE|DELETE FROM|REPLACE INTO) `?([a-z_]+)`?/.exec(sql);
  return m ? m[1] : '';
}

/** One administrator session's worth of queued statements; ids derive from `round`. */
export function consoleRound(round: number, opts: { lateColumns?: boolean } = {}): ConsoleItem[] {
  const b = 1000 + round * 10;
  const g = b + 1;
  const user = `user${round}`;
  // tnetwork_component.id_module_group is a TINYINT UNSIGNED: module group ids stay small.
  const mg = 1 + (round % 200);
  const cfg = enc(
    "module_begin\nmodule_name CPU\nmodule_type generic_data\nmodule_exec vmstat 1 2 | tail -1 | awk '{ print $13 }'\nmodule_end",
  );
  const sqls = [
    `INSERT INTO \`tgrupo\` (\`id_grupo\`, \`nombre\`, \`icon\`, \`parent\`, \`propagate\`, \`disabled\`, \`custom_id\`, \`id_skin\`, \`description\`, \`contact\`, \`other\`, \`password\`, \`max_agents\`) VALUES (${g}, '${enc(`Web ${round}`)}', 'world', 0, 0, 0, '', 0, '', '', '', '', 0)`,
    `INSERT INTO \`tusuario\` (\`id_user\`, \`fullname\`, \`firstname\`, \`lastname\`, \`middlename\`, \`password\`, \`email\`, \`is_admin\`, \`language\`, \`registered\`) VALUES ('${user}', '${enc(`User ${round}`)}', 'User', '${round}', '', '$2y$10$abcdefghijklmnopqrstuuJ0ZQKc0D5h5mZcYdJYlqYqv7mYwQyq', '${user}@example.com', 0, 'es', 1764547200)`,
    `INSERT INTO \`tusuario_perfil\` (\`id_up\`, \`id_usuario\`, \`id_perfil\`, \`id_grupo\`, \`no_hierarchy\`, \`assigned_by\`, \`id_policy\`, \`tags\`) VALUES (${b + 1}, '${user}', 5, ${g}, 0, 'admin', 0, '')`,
    `REPLACE INTO \`tmodule_group\` (\`id_mg\`, \`name\`) VALUES (${mg}, '${enc(`Databases ${round}`)}')`,
    `INSERT INTO \`tconfig_os\` (\`id_os\`, \`name\`, \`description\`, \`icon_name\`) VALUES (${b + 1}, '${enc(`RouterOS ${round}`)}', 'Routers', 'so_router.png')`,
    `UPDATE \`tgrupo\` SET \`max_agents\` = \`max_agents\` + 1 WHERE \`id_grupo\` = ${COUNTER_GROUP}`,
    `INSERT INTO \`talert_calendar\` (\`id\`, \`name\`, \`id_group\`, \`description\`) VALUES (${b + 1}, '${enc(`Holidays ${round}`)}', 0, '')`,
    `INSERT INTO \`talert_special_days\` (\`id\`, \`id_calendar\`, \`id_group\`, \`date\`, \`day_code\`, \`description\`) VALUES (${b + 1}, ${b + 1}, 0, '2026-12-25', 7, 'Christmas')`,
    `INSERT INTO \`talert_special_days\` (\`id\`, \`id_calendar\`, \`id_group\`, \`date\`, \`day_code\`, \`description\`) VALUES (${b + 2}, ${b + 1}, 0, '2027-01-01', 7, '${enc('New year')}')`,
    `INSERT INTO \`tnetwork_component_group\` (\`id_sg\`, \`name\`, \`parent\`) VALUES (${b + 1}, '${enc(`Routers ${round}`)}', 0)`,
    `INSERT INTO \`tnetwork_component\` (\`id_nc\`, \`name\`, \`description\`, \`id_group\`, \`type\`, \`max\`, \`min\`, \`module_interval\`, \`tcp_port\`, \`tcp_send\`, \`tcp_rcv\`, \`snmp_community\`, \`snmp_oid\`, \`id_module_group\`, \`id_modulo\`) VALUES (${b + 1}, '${enc(`ifInOctets ${round}`)}', '', ${b + 1}, 16, 0, 0, 300, 161, '', '', 'public', '.1.3.6.1.2.1.2.2.1.10', ${mg}, 2)`,
    `INSERT INTO \`tplugin\` (\`id\`, \`name\`, \`description\`, \`max_timeout\`, \`max_retries\`, \`execute\`, \`plugin_type\`, \`macros\`, \`parameters\`) VALUES (${b + 1}, '${enc(`Ping ${round}`)}', '', 10, 1, '/usr/share/pandora_server/util/plugin/ping.sh', 0, '${enc('{"1":{"macro":"_field1_","desc":"Host"}}')}', '-h _field1_')`,
    '',
    `INSERT INTO \`tpolicies\` (\`id\`, \`name\`, \`description\`, \`id_group\`, \`status\`, \`force_apply\`, \`apply_to_secondary_groups\`) VALUES (${b + 1}, '${enc(`Linux base ${round}`)}', '', ${g}, 0, 0, 0)`,
    `INSERT INTO \`tpolicy_modules\` (\`id\`, \`id_policy\`, \`configuration_data\`, \`id_tipo_modulo\`, \`description\`, \`name\`, \`module_interval\`, \`id_module_group\`, \`id_module\`) VALUES (${b + 1}, ${b + 1}, '${cfg}', 1, '', 'CPU', 300, ${mg}, 1)`,
    `INSERT INTO \`tpolicy_modules\` (\`id\`, \`id_policy\`, \`configuration_data\`, \`id_tipo_modulo\`, \`description\`, \`name\`, \`module_interval\`, \`id_module_group\`, \`id_module\`) VALUES (${b + 2}, ${b + 1}, '', 2, '', 'Ping', 300, ${mg}, 2)`,
    `INSERT INTO \`tpolicy_alerts\` (\`id\`, \`id_policy\`, \`id_policy_module\`, \`id_alert_template\`, \`name_extern_module\`, \`disabled\`, \`standby\`, \`pending_delete\`) VALUES (${b + 1}, ${b + 1}, ${b + 1}, 1, '', 0, 0, 0)`,
    `INSERT INTO \`tpolicy_alerts_actions\` (\`id\`, \`id_policy_alert\`, \`id_alert_action\`, \`fires_min\`, \`fires_max\`) VALUES (${b + 1}, ${b + 1}, 1, 0, 0)`,
    `INSERT INTO \`tpolicy_plugins\` (\`id\`, \`id_policy\`, \`plugin_exec\`, \`pending_delete\`) VALUES (${b + 1}, ${b + 1}, 'ping.sh', 0)`,
    // Inventory module and the policy's other child tables (issue 23): tpolicy_modules_inventory
    // names the inventory module, the synth and group rows mean the same on every node, the
    // agent rows and module tags come only through the queue.
    `INSERT INTO \`tmodule_inventory\` (\`id_module_inventory\`, \`id_os\`, \`name\`, \`description\`, \`interpreter\`, \`data_format\`, \`code\`, \`block_mode\`, \`script_mode\`, \`script_path\`) VALUES (${b + 1}, ${b + 1}, '${enc(`CPU info ${round}`)}', '', '', 'Model;Speed', 'ZWNobyAx', 0, 1, '')`,
    `INSERT INTO \`tpolicy_modules_inventory\` (\`id\`, \`id_policy\`, \`id_module_inventory\`, \`interval\`, \`username\`, \`password\`, \`pending_delete\`, \`custom_fields\`) VALUES (${b + 1}, ${b + 1}, ${b + 1}, 3600, '', '', 0, '')`,
    `INSERT INTO \`tpolicy_modules_synth\` (\`id\`, \`id_agent_module_source\`, \`id_agent_module_target\`, \`fixed_value\`, \`operation\`, \`order\`) VALUES (${b + 1}, ${b + 2}, ${b + 1}, 0, 'ADD', 0)`,
    `INSERT INTO \`tpolicy_groups\` (\`id\`, \`id_policy\`, \`id_group\`, \`policy_applied\`, \`pending_delete\`, \`last_apply_utimestamp\`) VALUES (${b + 1}, ${b + 1}, ${g}, 0, 0, 0)`,
    `INSERT INTO \`tpolicy_agents\` (\`id\`, \`id_policy\`, \`id_agent\`, \`policy_applied\`, \`pending_delete\`, \`last_apply_utimestamp\`, \`id_node\`) VALUES (${b + 1}, ${b + 1}, 1, 0, 0, 0, 0)`,
    `INSERT INTO \`tpolicy_group_agents\` (\`id\`, \`id_policy\`, \`id_agent\`, \`direct\`) VALUES (${b + 1}, ${b + 1}, 1, 0)`,
    `INSERT INTO \`ttag_policy_module\` (\`id_tag\`, \`id_policy_module\`) VALUES (1, ${b + 1})`,
    // Hand-written console SQL with a bare status column (the parser used before refused it).
    `UPDATE tpolicies SET status = 0 WHERE id = ${b + 1}`,
    `UPDATE \`tpolicies\` SET \`description\` = '${enc('CPU and ping')}' WHERE \`id\` = ${b + 1}`,
    opts.lateColumns === false
      ? `UPDATE \`tusuario\` SET \`fullname\` = '${enc(`User ${round} (renamed)`)}' WHERE \`id_user\` = '${user}'`
      : `UPDATE \`tusuario\` SET \`fullname\` = '${enc(`User ${round} (renamed)`)}', \`stop_lts_modal\` = 1 WHERE \`id_user\` = '${user}'`,
    `DELETE FROM \`talert_special_days\` WHERE \`id\` = ${b + 2}`,
    `UPDATE \`tgrupo\` SET \`description\` = '${enc('Web tier')}' WHERE \`id_grupo\` = ${g}`,
  ];
  return sqls.map((sql) =>
    sql === ''
      ? { sql: pluginUrl(b + 1), table: 'tplugin', operation: PLUGIN_REFRESH }
      : { sql, table: tableOf(sql), operation: op(sql) },
  );
}

/** What the console does: runs each statement on the CC, and queues it for every target. */
export async function playOnCc(cc: Pool, items: ConsoleItem[], targets: number[]): Promise<void> {
  for (const item of items) if (item.operation === op(item.sql)) await cc.query(item.sql);
  const rows = items.flatMap((item) =>
    targets.map((t) => [item.sql, t, 1764547200, item.operation, item.table, '', '1']),
  );
  await cc.query(
    'INSERT INTO tsync_queue (`sql`, target, utimestamp, operation, `table`, error, result) VALUES ?',
    [rows],
  );
}

/** The counter group every node and the CC start with, and the rows the scene refers to. */
export async function seedConsoleBase(db: Pool): Promise<void> {
  await db.query(
    "INSERT INTO tgrupo (id_grupo, nombre, max_agents) VALUES (?, 'Servers', 0) ON DUPLICATE KEY UPDATE max_agents = 0",
    [COUNTER_GROUP],
  );
  await db.query(
    "INSERT IGNORE INTO tperfil (id_perfil, name, agent_view) VALUES (5, 'Pandora&#x20;Administrator', 1)",
  );
  await db.query(
    "INSERT IGNORE INTO talert_commands (id, name, command, internal) VALUES (1, 'eMail', 'Internal type', 1)",
  );
  await db.query(
    "INSERT IGNORE INTO talert_actions (id, name, id_alert_command, field1) VALUES (1, 'Mail to admin', 1, 'root@localhost')",
  );
  await db.query(
    "INSERT IGNORE INTO talert_templates (id, name, id_alert_action, type) VALUES (1, 'Critical condition', 1, 'critical')",
  );
}
