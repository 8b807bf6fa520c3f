/**
 * The catalogue of synchronized objects: for each kind, Pandora's table, its identity, the
 * columns we may copy, and where it sits in the replication order of pandora-data-model.md §3.
 * Every identifier put into SQL comes from here, never from data or from the database.
 */

export type ObjectKind =
  | 'groups'
  | 'tags'
  | 'categories'
  | 'profiles'
  | 'users'
  | 'userProfiles'
  | 'alertCommands'
  | 'alertActions'
  | 'alertTemplates';

export interface CascadeTarget {
  /** A table the delete reaches through a declared ON DELETE CASCADE. */
  table: string;
}

export interface TableDef {
  kind: ObjectKind;
  table: string;
  /** Primary key, or `id_user` for tusuario (Pandora gives it no PK, only UNIQUE). */
  key: string;
  keyType: 'int' | 'string';
  /** Columns Pandora defines (the ones present on both sides are copied). */
  columns: string[];
  /** Node-local state (logins, counters): not compared, not overwritten, defaults on insert. */
  local?: string[];
  /** Copied only when the target already has the referenced row (FK), else NULL; not compared. */
  optionalRefs?: { column: string; table: string; key: string }[];
  /** Display name, for conflict reports. */
  name?: string;
  /** The name is a UNIQUE key in Pandora's schema. */
  uniqueName?: boolean;
  /** Self-reference that orders rows (tgrupo.parent): parents first on upsert, last on delete. */
  parent?: string;
  /** Tables a delete of this one reaches by cascade (synchronized or instance data). */
  cascades?: CascadeTarget[];
}

const fields = (suffix = ''): string[] =>
  Array.from({ length: 20 }, (_, i) => `field${i + 1}${suffix}`);

/** In dependency order: parents first. Deletes walk it backwards. */
export const TABLES: readonly TableDef[] = [
  {
    kind: 'groups',
    table: 'tgrupo',
    key: 'id_grupo',
    keyType: 'int',
    name: 'nombre',
    parent: 'parent',
    columns: [
      'id_grupo',
      'nombre',
      'icon',
      'parent',
      'propagate',
      'disabled',
      'custom_id',
      'id_skin',
      'description',
      'contact',
      'other',
      'password',
      'max_agents',
    ],
  },
  {
    kind: 'tags',
    table: 'ttag',
    key: 'id_tag',
    keyType: 'int',
    name: 'name',
    columns: ['id_tag', 'name', 'description', 'url', 'email', 'phone', 'previous_name'],
  },
  {
    kind: 'categories',
    table: 'tcategory',
    key: 'id',
    keyType: 'int',
    name: 'name',
    columns: ['id', 'name'],
  },
  {
    kind: 'profiles',
    table: 'tperfil',
    key: 'id_perfil',
    keyType: 'int',
    name: 'name',
    columns: [
      'id_perfil',
      'name',
      'agent_view',
      'agent_edit',
      'alert_edit',
      'user_management',
      'db_management',
      'alert_management',
      'pandora_management',
      'report_view',
      'report_edit',
      'report_management',
      'event_view',
      'event_edit',
      'event_management',
      'agent_disable',
      'map_view',
      'map_edit',
      'map_management',
      'vconsole_view',
      'vconsole_edit',
      'vconsole_management',
      'network_config_view',
      'network_config_edit',
      'network_config_management',
    ],
  },
  {
    kind: 'users',
    table: 'tusuario',
    key: 'id_user',
    keyType: 'string',
    columns: [
      'id_user',
      'fullname',
      'firstname',
      'lastname',
      'middlename',
      'password',
      'comments',
      'registered',
      'email',
      'phone',
      'is_admin',
      'language',
      'timezone',
      'block_size',
      'id_skin',
      'disabled',
      'shortcut',
      'shortcut_data',
      'section',
      'data_section',
      'metaconsole_section',
      'metaconsole_data_section',
      'force_change_pass',
      'last_pass_change',
      'metaconsole_access',
      'not_login',
      'local_user',
      'metaconsole_agents_manager',
      'metaconsole_access_node',
      'strict_acl',
      'id_filter',
      'session_time',
      'default_event_filter',
      'metaconsole_default_event_filter',
      'show_tips_startup',
      'autorefresh_white_list',
      'time_autorefresh',
      'default_custom_view',
      'api_token',
      'allowed_ip_active',
      'allowed_ip_list',
      'auth_token_secret',
      'session_max_time_expire',
      'login_blocked',
    ],
    local: ['last_connect', 'last_failed_login', 'failed_attempt'],
    optionalRefs: [{ column: 'id_filter', table: 'tevent_filter', key: 'id_filter' }],
    cascades: [{ table: 'tuser_double_auth' }],
  },
  {
    kind: 'userProfiles',
    table: 'tusuario_perfil',
    key: 'id_up',
    keyType: 'int',
    columns: [
      'id_up',
      'id_usuario',
      'id_perfil',
      'id_grupo',
      'no_hierarchy',
      'assigned_by',
      'id_policy',
      'tags',
    ],
  },
  {
    kind: 'alertCommands',
    table: 'talert_commands',
    key: 'id',
    keyType: 'int',
    name: 'name',
    uniqueName: true,
    columns: [
      'id',
      'name',
      'command',
      'id_group',
      'description',
      'internal',
      'fields_descriptions',
      'fields_values',
      'fields_hidden',
      'previous_name',
    ],
    cascades: [{ table: 'talert_actions' }, { table: 'talert_template_module_actions' }],
  },
  {
    kind: 'alertActions',
    table: 'talert_actions',
    key: 'id',
    keyType: 'int',
    name: 'name',
    uniqueName: true,
    columns: [
      'id',
      'name',
      'id_alert_command',
      ...fields(),
      'id_group',
      'action_threshold',
      ...fields('_recovery'),
      'previous_name',
      'create_wu_integria',
    ],
    cascades: [{ table: 'talert_template_module_actions' }],
  },
  {
    kind: 'alertTemplates',
    table: 'talert_templates',
    key: 'id',
    keyType: 'int',
    name: 'name',
    columns: [
      'id',
      'name',
      'description',
      'id_alert_action',
      ...fields(),
      'type',
      'value',
      'matches_value',
      'max_value',
      'min_value',
      'time_threshold',
      'max_alerts',
      'min_alerts',
      'time_from',
      'time_to',
      'monday',
      'tuesday',
      'wednesday',
      'thursday',
      'friday',
      'saturday',
      'sunday',
      'recovery_notify',
      ...fields('_recovery'),
      'priority',
      'id_group',
      'special_day',
      'wizard_level',
      'min_alerts_reset_counter',
      'disable_event',
      'previous_name',
      'schedule',
    ],
    cascades: [{ table: 'talert_template_modules' }, { table: 'talert_template_module_actions' }],
  },
];

export const ALL_KINDS: readonly ObjectKind[] = TABLES.map((t) => t.kind);

/** Parses the node's `objects` property (comma list; empty = every kind). */
export function parseObjects(list: string[]): ObjectKind[] {
  if (list.length === 0) return [...ALL_KINDS];
  const unknown = list.filter((k) => !(ALL_KINDS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new Error(`unknown object kind(s) ${unknown.join(', ')}: use ${ALL_KINDS.join(', ')}`);
  }
  return ALL_KINDS.filter((k) => list.includes(k));
}

/** The chosen tables, in dependency order. */
export function chosenTables(kinds: readonly ObjectKind[]): TableDef[] {
  return TABLES.filter((t) => kinds.includes(t.kind));
}

export function tableByName(name: string): TableDef | undefined {
  return TABLES.find((t) => t.table === name.toLowerCase());
}

/** Backquotes an identifier taken from the catalogue. */
export function q(identifier: string): string {
  if (!/^[A-Za-z0-9_]+$/.test(identifier)) throw new Error(`bad identifier ${identifier}`);
  return `\`${identifier}\``;
}
