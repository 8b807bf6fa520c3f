/**
 * Pandora's status vocabulary, as its server writes it and its console reads it.
 *
 * Modules: tagente_estado.estado 0 normal, 1 critical, 2 warning, 3 unknown, 4 not initialised
 * (the server's "no data yet"), 5 not initialised (the console's AGENT_MODULE_STATUS_NOT_INIT).
 * Agents: the counters the server keeps in tagente (normal_count ... total_count, refreshed by
 * pandora_update_agent_module_count), read as the console's agent list reads them.
 */
import { QueryError, shown } from './errors';

export const STATUSES = ['normal', 'critical', 'warning', 'unknown', 'notinit'] as const;
export type Status = (typeof STATUSES)[number];

/** tagente_estado.estado values of each status name. */
export const MODULE_ESTADO: Record<Status, number[]> = {
  normal: [0],
  critical: [1],
  warning: [2],
  unknown: [3],
  notinit: [4, 5],
};

/**
 * The status name of a tagente_estado.estado value alone (a module without a state row is not
 * initialised). A module's shown status also depends on its data: MODULE_STATUS_SQL.
 */
export function moduleStatus(estado: number | string | null | undefined): Status {
  if (estado === null || estado === undefined) return 'notinit';
  const n = Number(estado);
  for (const s of STATUSES) if (MODULE_ESTADO[s].includes(n)) return s;
  return 'unknown';
}

/**
 * The agent's status from its counters, as one SQL expression over the table alias `a`, as the
 * console's agent list draws it (agents_tree_view_status_img): no modules or all of them not
 * initialised first, then the worst counter; counters that fit none of those (some modules in
 * a state the server does not count by name) are drawn as normal.
 */
export const AGENT_STATUS_SQL = `CASE
  WHEN a.notinit_count = a.total_count THEN 'notinit'
  WHEN a.critical_count > 0 THEN 'critical'
  WHEN a.warning_count > 0 THEN 'warning'
  WHEN a.unknown_count > 0 THEN 'unknown'
  ELSE 'normal' END`;

/**
 * Module types whose state is meaningful before their first data (async_proc, async_data,
 * async_string, keep_alive): the server creates async modules normal, and the monitor view
 * never calls them not initialised for lack of data.
 */
export const ASYNC_MODULE_TYPES = [21, 22, 23, 100];

/**
 * A module's status as the monitor view shows and filters it, over aliases `m` (tagente_modulo)
 * and `e` (its tagente_estado row): not initialised when it has no state row, its state says so
 * (4, 5), or it never received data (utimestamp 0) and is not async; critical and warning need
 * data even for async types (the view's filters ask utimestamp > 0 for them).
 */
export const MODULE_STATUS_SQL = `CASE
  WHEN e.id_agente_modulo IS NULL OR e.estado IN (4, 5) THEN 'notinit'
  WHEN e.utimestamp = 0 AND (m.id_tipo_modulo NOT IN (${ASYNC_MODULE_TYPES.join(', ')}) OR e.estado IN (1, 2)) THEN 'notinit'
  WHEN e.estado = 0 THEN 'normal'
  WHEN e.estado = 1 THEN 'critical'
  WHEN e.estado = 2 THEN 'warning'
  ELSE 'unknown' END`;

/**
 * Whether an alert counts as fired, over aliases `tm` (talert_template_modules), `m` and `a`:
 * it fired (times_fired > 0) and it, its module and its agent are enabled, as the server counts
 * tagente.fired_count (pandora_update_agent_alert_count, over enabled agents) and the console's
 * tactical view counts fired alerts (tactical_monitor_fired_alerts).
 */
export const ALERT_ENABLED_SQL = 'tm.disabled = 0 AND m.disabled = 0 AND a.disabled = 0';
export const ALERT_FIRED_SQL = `(tm.times_fired > 0 AND ${ALERT_ENABLED_SQL})`;

/** A status name from a filter value: a name above or its module number (0-5). */
export function parseStatus(value: unknown): Status {
  if (typeof value === 'number' || (typeof value === 'string' && /^\s*\d+\s*$/.test(value))) {
    const n = Number(value);
    for (const s of STATUSES) if (MODULE_ESTADO[s].includes(n)) return s;
  } else if (typeof value === 'string') {
    const name = value
      .trim()
      .toLowerCase()
      .replace(/[\s_-]/g, '');
    const alias: Record<string, Status> = {
      ok: 'normal',
      notinitialised: 'notinit',
      notinitialized: 'notinit',
    };
    const s = (alias[name] ?? name) as Status;
    if (STATUSES.includes(s)) return s;
  }
  throw new QueryError('ERR_QUERY_STATUS', { value: shown(value), known: STATUSES.join(', ') });
}
