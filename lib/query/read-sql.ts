/**
 * The five reads as one parametrised SELECT each on an Instance's own tables: the filters become
 * WHERE parts and parameters, never SQL text.
 */
import type { AlertState, DisabledChoice, ReadFilters } from './operations';
import {
  AGENT_STATUS_SQL,
  ALERT_ENABLED_SQL,
  ALERT_FIRED_SQL,
  MODULE_STATUS_SQL,
  STATUSES,
} from './status';

export interface Statement {
  sql: string;
  params: unknown[];
}

/**
 * One SELECT being built: an optional WITH part (the group set), WHERE parts, and their
 * parameters in the order they appear in the text.
 */
class Select {
  private readonly withParts: string[] = [];
  private readonly withParams: unknown[] = [];
  private readonly where: string[] = [];
  private readonly params: unknown[] = [];

  /** A WHERE part with its parameters. */
  and(condition: string, ...params: unknown[]): void {
    this.where.push(condition);
    this.params.push(...params);
  }

  /** A common table expression, named in the statement's WITH. */
  with(cte: string, ...params: unknown[]): void {
    this.withParts.push(cte);
    this.withParams.push(...params);
  }

  whereText(): string {
    return this.where.length > 0 ? `WHERE ${this.where.join(' AND ')}` : '';
  }

  /** The statement: `body` (which holds whereText where it wants it), then `tail` parameters. */
  statement(body: string, ...tail: unknown[]): Statement {
    const withText =
      this.withParts.length > 0 ? `WITH RECURSIVE ${this.withParts.join(', ')}\n` : '';
    return { sql: `${withText}${body}`, params: [...this.withParams, ...this.params, ...tail] };
  }
}

/**
 * The filter's groups as the CTE `grp (id)`: the group named or numbered, and with `recursion`
 * its children at every depth (tgrupo.parent), as groups_get_children gives them to an
 * administrator (the propagate flag only narrows what a restricted user sees). UNION, not
 * UNION ALL, so that a parent loop ends. Returns false when the filter names no group.
 */
function groupSet(f: ReadFilters, q: Select): boolean {
  if (!f.group) return false;
  const anchor =
    'id' in f.group
      ? 'SELECT CAST(? AS UNSIGNED) AS id'
      : 'SELECT id_grupo AS id FROM tgrupo WHERE nombre = ?';
  const param = 'id' in f.group ? f.group.id : f.group.name;
  const children = f.recursion
    ? ' UNION SELECT c.id_grupo FROM tgrupo c JOIN grp ON c.parent = grp.id'
    : '';
  q.with(`grp (id) AS (${anchor}${children})`, param);
  return true;
}

/**
 * The agent (alias `a`) is in the filter's groups: its own group or one of its secondary groups
 * (tagent_secondary_group), as the console's agent list, alert list and tactical view match a
 * group.
 */
const AGENT_IN_GROUPS = `(a.id_grupo IN (SELECT id FROM grp) OR EXISTS (SELECT 1 FROM tagent_secondary_group sg
    WHERE sg.id_agent = a.id_agente AND sg.id_group IN (SELECT id FROM grp)))`;

/** WHERE parts shared by the reads that start from an agent (alias `a`). */
function agentConditions(f: ReadFilters, q: Select): void {
  if (groupSet(f, q)) q.and(AGENT_IN_GROUPS);
  if (f.agent !== undefined) q.and('(a.nombre LIKE ? OR a.alias LIKE ?)', f.agent, f.agent);
}

/**
 * The `disabled` filter over the flags of what a row depends on (`a.disabled` for an agent; a
 * module is hidden with its agent too, as the monitor view hides the modules of disabled
 * agents; an alert with its module and agent).
 */
function disabledCondition(choice: DisabledChoice, flags: string[], q: Select): void {
  if (choice === 'enabled') for (const c of flags) q.and(`${c} = 0`);
  else if (choice === 'disabled') q.and(`(${flags.map((c) => `${c} <> 0`).join(' OR ')})`);
}

/** WHERE parts shared by the reads that go through a module (alias `m`, its agent `a`). */
function moduleConditions(f: ReadFilters, q: Select): void {
  // A module being deleted is gone for the console (delete_pending), whatever else it says.
  q.and('m.delete_pending = 0');
  agentConditions(f, q);
  if (f.module !== undefined) q.and('m.nombre LIKE ?', f.module);
}

export function agents(f: ReadFilters, limit: number): Statement {
  const q = new Select();
  agentConditions(f, q);
  disabledCondition(f.disabled ?? 'enabled', ['a.disabled'], q);
  if (f.status) q.and(`(${AGENT_STATUS_SQL}) IN (?)`, f.status);
  if (f.module !== undefined) {
    q.and(
      'EXISTS (SELECT 1 FROM tagente_modulo m WHERE m.id_agente = a.id_agente AND m.delete_pending = 0 AND m.nombre LIKE ?)',
      f.module,
    );
  }
  return q.statement(
    `SELECT a.id_agente, a.nombre, a.alias, a.id_grupo, g.nombre AS group_name, a.id_os,
  o.name AS os_name, a.os_version, a.direccion, a.ultimo_contacto, a.disabled,
  a.normal_count, a.warning_count, a.critical_count, a.unknown_count, a.notinit_count,
  a.total_count, a.fired_count, ${AGENT_STATUS_SQL} AS status
FROM tagente a
LEFT JOIN tgrupo g ON g.id_grupo = a.id_grupo
LEFT JOIN tconfig_os o ON o.id_os = a.id_os
${q.whereText()}
ORDER BY a.id_agente LIMIT ?`,
    limit,
  );
}

export function modules(f: ReadFilters, limit: number): Statement {
  const q = new Select();
  moduleConditions(f, q);
  disabledCondition(f.disabled ?? 'enabled', ['m.disabled', 'a.disabled'], q);
  if (f.status) q.and(`(${MODULE_STATUS_SQL}) IN (?)`, f.status);
  return q.statement(
    `SELECT m.id_agente_modulo, m.nombre, m.id_agente, a.nombre AS agent_name,
  a.alias AS agent_alias, m.id_tipo_modulo, t.nombre AS type_name, m.unit, m.disabled,
  e.datos, e.estado, e.timestamp, e.utimestamp, e.last_status_change,
  ${MODULE_STATUS_SQL} AS status
FROM tagente_modulo m
JOIN tagente a ON a.id_agente = m.id_agente
LEFT JOIN tagente_estado e ON e.id_agente_modulo = m.id_agente_modulo
LEFT JOIN ttipo_modulo t ON t.id_tipo = m.id_tipo_modulo
${q.whereText()}
ORDER BY m.id_agente_modulo LIMIT ?`,
    limit,
  );
}

/** The `status` filter of alerts, as the console's alert list filters them (get_group_alerts). */
const ALERT_STATE_SQL: Record<AlertState, string> = {
  fired: ALERT_FIRED_SQL,
  notfired: `(tm.times_fired = 0 AND ${ALERT_ENABLED_SQL})`,
  disabled: 'tm.disabled = 1',
  standby: 'tm.standby = 1',
};

export function alerts(f: ReadFilters, limit: number): Statement {
  const q = new Select();
  moduleConditions(f, q);
  // Asking for disabled alerts by status shows them, unless the disabled filter says otherwise.
  const shown = f.disabled ?? (f.alertStatus?.includes('disabled') ? 'all' : 'enabled');
  disabledCondition(shown, ['tm.disabled', 'm.disabled', 'a.disabled'], q);
  if (f.alertStatus) q.and(`(${f.alertStatus.map((s) => ALERT_STATE_SQL[s]).join(' OR ')})`);
  return q.statement(
    `SELECT tm.id, tm.id_agent_module, m.nombre AS module_name, a.id_agente,
  a.nombre AS agent_name, a.alias AS agent_alias, tm.id_alert_template, t.name AS template_name,
  tm.times_fired, tm.last_fired, tm.disabled, tm.standby, tm.id_policy_alerts,
  ${ALERT_FIRED_SQL} AS fired
FROM talert_template_modules tm
JOIN tagente_modulo m ON m.id_agente_modulo = tm.id_agent_module
JOIN tagente a ON a.id_agente = m.id_agente
LEFT JOIN talert_templates t ON t.id = tm.id_alert_template
${q.whereText()}
ORDER BY tm.id LIMIT ?`,
    limit,
  );
}

export function policies(f: ReadFilters, limit: number): Statement {
  const q = new Select();
  if (groupSet(f, q)) q.and('p.id_group IN (SELECT id FROM grp)');
  return q.statement(
    `SELECT p.id, p.name, p.description, p.id_group, g.nombre AS group_name, p.status,
  (SELECT COUNT(*) FROM tpolicy_agents pa WHERE pa.id_policy = p.id AND pa.pending_delete = 0) AS agents,
  (SELECT COUNT(*) FROM tpolicy_queue q WHERE q.id_policy = p.id AND q.progress < 100) AS pending
FROM tpolicies p
LEFT JOIN tgrupo g ON g.id_grupo = p.id_group
${q.whereText()}
ORDER BY p.id LIMIT ?`,
    limit,
  );
}

/**
 * The Command Center's tactical view (tactical_get_data over its agent cache): enabled agents
 * by status, their module counters by state, and the enabled alerts of enabled modules of those
 * agents (tactical_monitor_alerts), fired or not (tactical_monitor_fired_alerts).
 */
export function tactical(f: ReadFilters): Statement {
  const q = new Select();
  const inGroups = groupSet(f, q) ? ` AND ${AGENT_IN_GROUPS}` : '';
  const byStatus = STATUSES.map((s) => `SUM(x.status = '${s}') AS agents_${s}`).join(', ');
  // One pass over the alerts: those it keeps are enabled with their module and agent, so the
  // ones with times_fired > 0 among them are the fired ones (ALERT_FIRED_SQL).
  return q.statement(`SELECT ag.*, al.* FROM
(SELECT ${byStatus},
  SUM(x.normal_count) AS modules_normal, SUM(x.warning_count) AS modules_warning,
  SUM(x.critical_count) AS modules_critical, SUM(x.unknown_count) AS modules_unknown,
  SUM(x.notinit_count) AS modules_notinit
  FROM (SELECT ${AGENT_STATUS_SQL} AS status, a.normal_count, a.warning_count, a.critical_count,
    a.unknown_count, a.notinit_count
    FROM tagente a WHERE a.disabled = 0${inGroups}) x) ag
CROSS JOIN
(SELECT COUNT(*) AS alerts_defined, SUM(tm.times_fired > 0) AS alerts_fired
  FROM talert_template_modules tm
  JOIN tagente_modulo m ON m.id_agente_modulo = tm.id_agent_module
  JOIN tagente a ON a.id_agente = m.id_agente
  WHERE ${ALERT_ENABLED_SQL} AND m.delete_pending = 0${inGroups}) al`);
}
