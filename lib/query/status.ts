/**
 * Pandora's status vocabulary, as its server writes it and its console reads it.
 *
 * Modules: tagente_estado.estado 0 normal, 1 critical, 2 warning, 3 unknown, 4 not initialised
 * (the server's "no data yet"), 5 not initialised (the console's AGENT_MODULE_STATUS_NOT_INIT).
 * Agents: the counters the server keeps in tagente (normal_count ... total_count, refreshed by
 * pandora_update_agent_module_count), read as the console's agents_get_status_from_counts does.
 */

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

/** The status name of a tagente_estado.estado value (a module without a state row is not initialised). */
export function moduleStatus(estado: number | string | null | undefined): Status {
  if (estado === null || estado === undefined) return 'notinit';
  const n = Number(estado);
  for (const s of STATUSES) if (MODULE_ESTADO[s].includes(n)) return s;
  return 'unknown';
}

/**
 * The agent's status from its counters, as one SQL expression over the table alias `a`
 * (agents_get_status_from_counts: all modules not initialised first, then the worst counter).
 * An agent whose counters fit none of the console's cases (some modules in an unexpected state)
 * is reported unknown, as the console's list shows it.
 */
export const AGENT_STATUS_SQL = `CASE
  WHEN a.notinit_count = a.total_count THEN 'notinit'
  WHEN a.critical_count > 0 THEN 'critical'
  WHEN a.warning_count > 0 THEN 'warning'
  WHEN a.unknown_count > 0 THEN 'unknown'
  WHEN a.normal_count + a.notinit_count = a.total_count THEN 'normal'
  ELSE 'unknown' END`;

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
  throw new RangeError(
    `status must be one of ${STATUSES.join(', ')} (or 0-5), got ${JSON.stringify(value)}`,
  );
}
