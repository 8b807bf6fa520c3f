/**
 * The five reads as one parametrised SELECT each on an Instance's own tables, and the rows they
 * give, with names decoded as the console shows them.
 */
import { ioSafeOutput } from './entities';
import type { ReadFilters, ReadKind } from './operations';
import { AGENT_STATUS_SQL, MODULE_ESTADO, moduleStatus, Status, STATUSES } from './status';

export interface Statement {
  sql: string;
  params: unknown[];
}

export type Counts = Record<Status, number> & { total: number };

type DbRow = Record<string, unknown>;

/** The Instance a row comes from: its tmetaconsole_setup id and server_name. */
export type InstanceRef = { id: number; name: string };

export type QueryRow = Record<string, unknown> & { instance: InstanceRef };

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const text = (v: unknown): string => String(ioSafeOutput(v ?? ''));
const flag = (v: unknown): boolean => num(v) !== 0;

/** WHERE parts shared by the reads that start from an agent (alias `a`). */
function agentConditions(f: ReadFilters, where: string[], params: unknown[]): void {
  if (f.group && 'id' in f.group) {
    where.push('a.id_grupo = ?');
    params.push(f.group.id);
  } else if (f.group) {
    where.push('a.id_grupo IN (SELECT id_grupo FROM tgrupo WHERE nombre = ?)');
    params.push(f.group.name);
  }
  if (f.agent !== undefined) {
    where.push('(a.nombre LIKE ? OR a.alias LIKE ?)');
    params.push(f.agent, f.agent);
  }
}

/** WHERE parts shared by the reads that go through a module (alias `m`, its agent `a`). */
function moduleConditions(f: ReadFilters, where: string[], params: unknown[]): void {
  where.push('m.delete_pending = 0');
  agentConditions(f, where, params);
  if (f.module !== undefined) {
    where.push('m.nombre LIKE ?');
    params.push(f.module);
  }
}

function whereText(where: string[]): string {
  return where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
}

function agents(f: ReadFilters, limit: number): Statement {
  const where: string[] = [];
  const params: unknown[] = [];
  agentConditions(f, where, params);
  if (f.status) {
    where.push(`(${AGENT_STATUS_SQL}) IN (?)`);
    params.push(f.status);
  }
  if (f.module !== undefined) {
    where.push(
      'EXISTS (SELECT 1 FROM tagente_modulo m WHERE m.id_agente = a.id_agente AND m.delete_pending = 0 AND m.nombre LIKE ?)',
    );
    params.push(f.module);
  }
  params.push(limit);
  return {
    sql: `SELECT a.id_agente, a.nombre, a.alias, a.id_grupo, g.nombre AS group_name, a.id_os,
  o.name AS os_name, a.os_version, a.direccion, a.ultimo_contacto, a.disabled,
  a.normal_count, a.warning_count, a.critical_count, a.unknown_count, a.notinit_count,
  a.total_count, a.fired_count, ${AGENT_STATUS_SQL} AS status
FROM tagente a
LEFT JOIN tgrupo g ON g.id_grupo = a.id_grupo
LEFT JOIN tconfig_os o ON o.id_os = a.id_os
${whereText(where)}
ORDER BY a.id_agente LIMIT ?`,
    params,
  };
}

function agentRow(r: DbRow, instance: InstanceRef): QueryRow {
  return {
    instance,
    id: num(r.id_agente),
    name: text(r.nombre),
    alias: text(r.alias),
    group: { id: num(r.id_grupo), name: text(r.group_name) },
    os: { id: num(r.id_os), name: text(r.os_name), version: text(r.os_version) },
    address: text(r.direccion),
    lastContact: r.ultimo_contacto ?? null,
    disabled: flag(r.disabled),
    status: r.status,
    modules: {
      total: num(r.total_count),
      normal: num(r.normal_count),
      warning: num(r.warning_count),
      critical: num(r.critical_count),
      unknown: num(r.unknown_count),
      notinit: num(r.notinit_count),
    },
    alertsFired: num(r.fired_count),
  };
}

function modules(f: ReadFilters, limit: number): Statement {
  const where: string[] = [];
  const params: unknown[] = [];
  moduleConditions(f, where, params);
  if (f.status) {
    // A module without a tagente_estado row has not been initialised yet.
    where.push('COALESCE(e.estado, 4) IN (?)');
    params.push(f.status.flatMap((s) => MODULE_ESTADO[s]));
  }
  params.push(limit);
  return {
    sql: `SELECT m.id_agente_modulo, m.nombre, m.id_agente, a.nombre AS agent_name,
  a.alias AS agent_alias, m.id_tipo_modulo, t.nombre AS type_name, m.unit, m.disabled,
  e.datos, e.estado, e.timestamp, e.utimestamp, e.last_status_change
FROM tagente_modulo m
JOIN tagente a ON a.id_agente = m.id_agente
LEFT JOIN tagente_estado e ON e.id_agente_modulo = m.id_agente_modulo
LEFT JOIN ttipo_modulo t ON t.id_tipo = m.id_tipo_modulo
${whereText(where)}
ORDER BY m.id_agente_modulo LIMIT ?`,
    params,
  };
}

function moduleRow(r: DbRow, instance: InstanceRef): QueryRow {
  return {
    instance,
    id: num(r.id_agente_modulo),
    name: text(r.nombre),
    agent: { id: num(r.id_agente), name: text(r.agent_name), alias: text(r.agent_alias) },
    type: { id: num(r.id_tipo_modulo), name: text(r.type_name) },
    unit: text(r.unit),
    value: r.datos === null || r.datos === undefined ? null : text(r.datos),
    status: moduleStatus(r.estado as number | null),
    estado: r.estado === null || r.estado === undefined ? null : num(r.estado),
    disabled: flag(r.disabled),
    lastData: r.timestamp ?? null,
    lastDataUtimestamp: num(r.utimestamp),
    lastStatusChange: num(r.last_status_change),
  };
}

function alerts(f: ReadFilters, limit: number): Statement {
  const where: string[] = [];
  const params: unknown[] = [];
  moduleConditions(f, where, params);
  if (f.alertStatus) {
    const state: Record<string, string> = {
      fired: 'tm.times_fired > 0',
      notfired: 'tm.times_fired = 0',
      disabled: 'tm.disabled = 1',
      standby: 'tm.standby = 1',
    };
    where.push(`(${f.alertStatus.map((s) => state[s]).join(' OR ')})`);
  }
  params.push(limit);
  return {
    sql: `SELECT tm.id, tm.id_agent_module, m.nombre AS module_name, a.id_agente,
  a.nombre AS agent_name, a.alias AS agent_alias, tm.id_alert_template, t.name AS template_name,
  tm.times_fired, tm.last_fired, tm.disabled, tm.standby, tm.id_policy_alerts
FROM talert_template_modules tm
JOIN tagente_modulo m ON m.id_agente_modulo = tm.id_agent_module
JOIN tagente a ON a.id_agente = m.id_agente
LEFT JOIN talert_templates t ON t.id = tm.id_alert_template
${whereText(where)}
ORDER BY tm.id LIMIT ?`,
    params,
  };
}

function alertRow(r: DbRow, instance: InstanceRef): QueryRow {
  return {
    instance,
    id: num(r.id),
    agent: { id: num(r.id_agente), name: text(r.agent_name), alias: text(r.agent_alias) },
    module: { id: num(r.id_agent_module), name: text(r.module_name) },
    template: { id: num(r.id_alert_template), name: text(r.template_name) },
    timesFired: num(r.times_fired),
    lastFired: num(r.last_fired),
    fired: num(r.times_fired) > 0,
    disabled: flag(r.disabled),
    standby: flag(r.standby),
    policy: num(r.id_policy_alerts) !== 0,
  };
}

function policies(f: ReadFilters, limit: number): Statement {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.group && 'id' in f.group) {
    where.push('p.id_group = ?');
    params.push(f.group.id);
  } else if (f.group) {
    where.push('p.id_group IN (SELECT id_grupo FROM tgrupo WHERE nombre = ?)');
    params.push(f.group.name);
  }
  params.push(limit);
  return {
    sql: `SELECT p.id, p.name, p.description, p.id_group, g.nombre AS group_name, p.status,
  (SELECT COUNT(*) FROM tpolicy_agents pa WHERE pa.id_policy = p.id AND pa.pending_delete = 0) AS agents,
  (SELECT COUNT(*) FROM tpolicy_queue q WHERE q.id_policy = p.id AND q.progress < 100) AS pending
FROM tpolicies p
LEFT JOIN tgrupo g ON g.id_grupo = p.id_group
${whereText(where)}
ORDER BY p.id LIMIT ?`,
    params,
  };
}

/** tpolicies.status: 0 applied, 1 database changes pending, 2 database and agent .conf changes pending. */
const POLICY_STATUS = ['applied', 'pending_db', 'pending_conf'];

function policyRow(r: DbRow, instance: InstanceRef): QueryRow {
  return {
    instance,
    id: num(r.id),
    name: text(r.name),
    description: text(r.description),
    group: { id: num(r.id_group), name: text(r.group_name) },
    status: POLICY_STATUS[num(r.status)] ?? String(r.status),
    agents: num(r.agents),
    pendingApplications: num(r.pending),
  };
}

function tactical(f: ReadFilters): Statement {
  const where: string[] = ['a.disabled = 0'];
  const params: unknown[] = [];
  agentConditions(f, where, params);
  const byStatus = STATUSES.map((s) => `SUM(x.status = '${s}') AS agents_${s}`).join(', ');
  return {
    sql: `SELECT COUNT(*) AS agents_total, ${byStatus},
  SUM(x.total_count) AS modules_total, SUM(x.normal_count) AS modules_normal,
  SUM(x.warning_count) AS modules_warning, SUM(x.critical_count) AS modules_critical,
  SUM(x.unknown_count) AS modules_unknown, SUM(x.notinit_count) AS modules_notinit,
  SUM(x.fired_count) AS alerts_fired
FROM (SELECT ${AGENT_STATUS_SQL} AS status, a.total_count, a.normal_count, a.warning_count,
  a.critical_count, a.unknown_count, a.notinit_count, a.fired_count
  FROM tagente a ${whereText(where)}) x`,
    params,
  };
}

export interface Tactical {
  agents: Counts;
  modules: Counts;
  alertsFired: number;
}

function tacticalRow(r: DbRow): Tactical {
  const counts = (prefix: string): Counts => ({
    total: num(r[`${prefix}_total`]),
    normal: num(r[`${prefix}_normal`]),
    warning: num(r[`${prefix}_warning`]),
    critical: num(r[`${prefix}_critical`]),
    unknown: num(r[`${prefix}_unknown`]),
    notinit: num(r[`${prefix}_notinit`]),
  });
  return { agents: counts('agents'), modules: counts('modules'), alertsFired: num(r.alerts_fired) };
}

/** Whether a result row is one Instance's tactical view. */
export function isTactical(r: QueryRow): r is QueryRow & Tactical {
  return (
    typeof r.alertsFired === 'number' &&
    typeof r.agents === 'object' &&
    typeof r.modules === 'object'
  );
}

/** The sum of several instances' tactical views. */
export function sumTactical(parts: Tactical[]): Tactical {
  const zero = (): Counts => ({
    total: 0,
    normal: 0,
    warning: 0,
    critical: 0,
    unknown: 0,
    notinit: 0,
  });
  const out: Tactical = { agents: zero(), modules: zero(), alertsFired: 0 };
  for (const p of parts) {
    for (const k of ['total', ...STATUSES] as const) {
      out.agents[k] += p.agents[k];
      out.modules[k] += p.modules[k];
    }
    out.alertsFired += p.alertsFired;
  }
  return out;
}

export interface ReadPlan {
  statement: Statement;
  /** One result row as the node gives it, tagged with its Instance. */
  row(r: DbRow, instance: InstanceRef): QueryRow;
}

/** The SELECT of one read and how its rows read. */
export function planRead(kind: ReadKind, filters: ReadFilters, limit: number): ReadPlan {
  switch (kind) {
    case 'agents':
      return { statement: agents(filters, limit), row: agentRow };
    case 'modules':
      return { statement: modules(filters, limit), row: moduleRow };
    case 'alerts':
      return { statement: alerts(filters, limit), row: alertRow };
    case 'policies':
      return { statement: policies(filters, limit), row: policyRow };
    case 'tactical':
      return {
        statement: tactical(filters),
        row: (r, instance) => ({ instance, ...tacticalRow(r) }),
      };
  }
}
