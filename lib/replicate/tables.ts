/**
 * The catalogue of synchronized objects: for each kind, Pandora's tables, their identity, the
 * columns that are node-local state, and where each sits in the replication order (a row after
 * every row it refers to). Which columns exist is read from each server's information_schema
 * (schema-info.ts), so a Pandora version that adds columns loses none of them.
 */

import { ReplicateError } from './errors';

export type ObjectKind =
  | 'groups'
  | 'tags'
  | 'categories'
  | 'profiles'
  | 'users'
  | 'userProfiles'
  | 'alertCommands'
  | 'alertActions'
  | 'alertTemplates'
  | 'moduleGroups'
  | 'operatingSystems'
  | 'networkComponentGroups'
  | 'networkComponents'
  | 'calendars'
  | 'plugins'
  | 'inventoryModules'
  | 'policies';

/** In the order the node's `objects` property documents them (and error messages name them). */
export const ALL_KINDS: readonly ObjectKind[] = [
  'groups',
  'tags',
  'categories',
  'profiles',
  'users',
  'userProfiles',
  'alertCommands',
  'alertActions',
  'alertTemplates',
  'moduleGroups',
  'operatingSystems',
  'networkComponentGroups',
  'networkComponents',
  'calendars',
  'plugins',
  'inventoryModules',
  'policies',
];

export interface TableDef {
  kind: ObjectKind;
  table: string;
  /**
   * Primary key, or `id_user` for tusuario (Pandora gives it no PK, only UNIQUE); for a table
   * with a key of several columns, the first of them (see keyColumns).
   */
  key: string;
  /**
   * A primary key of several columns (ttag_policy_module): the row's identity is their values
   * joined by ':' (keySql / keyOf), compared as text.
   */
  keyColumns?: string[];
  keyType: 'int' | 'string';
  /** Node-local state (logins, counters, apply status): not compared, not overwritten. */
  local?: string[];
  /** Copied only when the target already has the referenced row (FK), else NULL; not compared. */
  optionalRefs?: { column: string; table: string; key: string }[];
  /** Display name, for conflict reports. */
  name?: string;
  /** The name is a UNIQUE key in Pandora's schema. */
  uniqueName?: boolean;
  /** Self-reference that orders rows (tgrupo.parent): parents first on upsert, last on delete. */
  parent?: string;
}

const int = (kind: ObjectKind, table: string, key: string, extra: Partial<TableDef> = {}) =>
  ({ kind, table, key, keyType: 'int', ...extra }) as TableDef;

/**
 * In dependency order, parents first: groups; tags, categories, module groups, OSes, component
 * groups; profiles; users and their profiles; alert commands, actions, templates; calendars and
 * their days; plugins; components; policies and their child tables. Deletes walk it backwards.
 * Declared cascades are read from the Instance's schema when a delete needs them.
 */
export const TABLES: readonly TableDef[] = [
  int('groups', 'tgrupo', 'id_grupo', { name: 'nombre', parent: 'parent' }),
  int('tags', 'ttag', 'id_tag', { name: 'name' }),
  int('categories', 'tcategory', 'id', { name: 'name' }),
  int('moduleGroups', 'tmodule_group', 'id_mg', { name: 'name' }),
  int('operatingSystems', 'tconfig_os', 'id_os', { name: 'name' }),
  int('operatingSystems', 'tconfig_os_version', 'id_os_version'),
  int('networkComponentGroups', 'tnetwork_component_group', 'id_sg', {
    name: 'name',
    parent: 'parent',
  }),
  int('profiles', 'tperfil', 'id_perfil', { name: 'name' }),
  {
    kind: 'users',
    table: 'tusuario',
    key: 'id_user',
    keyType: 'string',
    // An Instance's own login record and lockout state (set by its console on failed logins).
    local: ['last_connect', 'last_failed_login', 'failed_attempt', 'login_blocked'],
    optionalRefs: [{ column: 'id_filter', table: 'tevent_filter', key: 'id_filter' }],
  },
  int('userProfiles', 'tusuario_perfil', 'id_up'),
  int('alertCommands', 'talert_commands', 'id', { name: 'name', uniqueName: true }),
  int('alertActions', 'talert_actions', 'id', { name: 'name', uniqueName: true }),
  int('alertTemplates', 'talert_templates', 'id', { name: 'name' }),
  int('calendars', 'talert_calendar', 'id', { name: 'name', uniqueName: true }),
  int('calendars', 'talert_special_days', 'id'),
  int('plugins', 'tplugin', 'id', { name: 'name' }),
  int('networkComponents', 'tnetwork_component', 'id_nc', { name: 'name' }),
  int('networkComponents', 'tlocal_component', 'id', { name: 'name' }),
  // Before policies: tpolicy_modules_inventory refers to it (and it to tconfig_os).
  int('inventoryModules', 'tmodule_inventory', 'id_module_inventory', { name: 'name' }),
  // A policy's apply status is each node's own: its server sets it when it applies the policy.
  int('policies', 'tpolicies', 'id', { name: 'name', local: ['status'] }),
  int('policies', 'tpolicy_modules', 'id'),
  int('policies', 'tpolicy_alerts', 'id'),
  int('policies', 'tpolicy_alerts_actions', 'id'),
  int('policies', 'tpolicy_collections', 'id', {
    optionalRefs: [{ column: 'id_collection', table: 'tcollection', key: 'id' }],
  }),
  int('policies', 'tpolicy_modules_inventory', 'id'),
  int('policies', 'tpolicy_plugins', 'id'),
  int('policies', 'tpolicy_modules_synth', 'id'),
  // A group's apply state is each node's own, as for tpolicies.status.
  int('policies', 'tpolicy_groups', 'id', { local: ['policy_applied', 'last_apply_utimestamp'] }),
  // A policy module's tags: the pair is the row.
  {
    kind: 'policies',
    table: 'ttag_policy_module',
    key: 'id_tag',
    keyColumns: ['id_tag', 'id_policy_module'],
    keyType: 'string',
  },
];

/**
 * Centrally managed tables that only the queue carries, never the table comparison: their rows
 * name an Instance's own agents (tagente ids differ from node to node), so the Command Center's
 * rows for one node mean nothing on another.
 */
export const QUEUE_ONLY: readonly { kind: ObjectKind; table: string }[] = [
  { kind: 'policies', table: 'tpolicy_agents' },
  { kind: 'policies', table: 'tpolicy_group_agents' },
];

/**
 * The tables whose `tsync_queue` items Pandora's node-side policy thread waits for ("waiting
 * synchronizer" in Core.pm): while one is queued for a node, that node applies no policy.
 */
export const POLICY_TABLES: ReadonlySet<string> = new Set([
  'tpolicies',
  'tpolicy_alerts',
  'tpolicy_alerts_actions',
  'tpolicy_collections',
  'tpolicy_modules',
  'tpolicy_modules_inventory',
  'tpolicy_plugins',
]);

/**
 * The centrally managed tables: the only ones a queued statement may write (the kinds' tables,
 * their child tables and the queue-only policy tables).
 */
export const MANAGED: ReadonlySet<string> = new Set([...TABLES, ...QUEUE_ONLY].map((t) => t.table));

/** Every synchronized table name: rows a cascade reaches outside these are the Instance's own. */
export const SYNCHRONIZED: ReadonlySet<string> = new Set(TABLES.map((t) => t.table));

/** The row identity in SQL: the key column, or the key columns joined by ':'. */
export function keySql(def: TableDef): string {
  const q = (c: string): string => `\`${c}\``;
  return def.keyColumns ? `CONCAT_WS(':', ${def.keyColumns.map(q).join(', ')})` : q(def.key);
}

/** The row identity of a read row, as keySql gives it. */
export function keyOf(def: TableDef, row: Record<string, unknown>): string {
  return def.keyColumns
    ? def.keyColumns.map((c) => String(row[c])).join(':')
    : String(row[def.key]);
}

/** The columns that make the row's identity (never updated in place). */
export function keyColumnsOf(def: TableDef): string[] {
  return def.keyColumns ?? [def.key];
}

/** Parses the node's `objects` property (comma list; empty = every kind). */
export function parseObjects(list: string[]): ObjectKind[] {
  if (list.length === 0) return [...ALL_KINDS];
  const unknown = list.filter((k) => !(ALL_KINDS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new ReplicateError('ERR_REPLICATE_OBJECTS', {
      unknown: unknown.join(', '),
      known: ALL_KINDS.join(', '),
    });
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
