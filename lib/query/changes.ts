/**
 * The changes, each writing the columns and rows Pandora's console writes for the same action
 * (pandora_console/godmode/agentes/modificar_agente.php, modules_change_disabled,
 * godmode/alerts/alert_list.php, the policy queue tpolicy_queue), plus the console's audit row in
 * tsesion. All targets of one Instance run in the caller's transaction.
 */
import { hostname } from 'node:os';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { quoteId } from '../db/identifier';
import type { PoolConnection } from '../db/pool';
import { ioSafeInput, ioSafeOutput } from './entities';
import { QueryError, type QueryCode } from './errors';
import type { ChangeKind } from './operations';

/** What happened to one target. */
export interface ChangeOutcome {
  ok: boolean;
  /** The stored state was different and has been written (false: it already was as asked). */
  changed: boolean;
  error: QueryError | null;
}

export interface AuditFacts {
  /** tsesion.id_usuario of the audit rows. */
  user: string;
}

type DbRow = Record<string, unknown>;

/** What a write reports; `changedRows` (not `affectedRows`, which mysql2 makes count matched rows). */
type Written = Pick<ResultSetHeader, 'changedRows'>;

async function select(c: PoolConnection, sql: string, params: unknown[]): Promise<DbRow | null> {
  const [rows] = await c.query<RowDataPacket[]>(sql, params);
  return rows[0] ?? null;
}

async function write(c: PoolConnection, sql: string, params: unknown[]): Promise<Written> {
  const [res] = await c.query<ResultSetHeader>(sql, params);
  return res;
}

/** db_pandora_audit: one tsesion row, its texts encoded as io_safe_input stores them. */
async function audit(
  c: PoolConnection,
  who: AuditFacts,
  action: string,
  text: string,
): Promise<void> {
  await c.query(
    'INSERT INTO tsesion (id_usuario, ip_origen, accion, descripcion, fecha, utimestamp) VALUES (?, ?, ?, ?, NOW(), UNIX_TIMESTAMP())',
    [who.user, hostname().slice(0, 100), ioSafeInput(action), ioSafeInput(text)],
  );
}

const MISSING = {
  agent: 'ERR_QUERY_NO_AGENT',
  module: 'ERR_QUERY_NO_MODULE',
  alert: 'ERR_QUERY_NO_ALERT',
  policy: 'ERR_QUERY_NO_POLICY',
} as const satisfies Record<string, QueryCode>;

const missing = (what: keyof typeof MISSING, id: number): ChangeOutcome => ({
  ok: false,
  changed: false,
  error: new QueryError(MISSING[what], { id }),
});

/**
 * modificar_agente.php's enable/disable button writes tagente.disabled, then has the Enterprise
 * code refresh the Command Center's agent cache and the agent's remote configuration file
 * ("standby" token); neither is in the public source. Instead this sets update_module_count = 1,
 * as the agent edit form does to "force an update of the agent cache" and as the server itself
 * does when a planned downtime disables an agent: the Instance's server recounts the agent and,
 * on a Command Center node, refreshes its cache. The remote configuration file is not changed.
 */
async function agentDisabled(
  c: PoolConnection,
  who: AuditFacts,
  id: number,
  disabled: 0 | 1,
): Promise<ChangeOutcome> {
  const agent = await select(
    c,
    'SELECT alias, disabled FROM tagente WHERE id_agente = ? FOR UPDATE',
    [id],
  );
  if (!agent) return missing('agent', id);
  // As the console's button: an agent already so is not written (nor recounted).
  const changed = Number(agent.disabled) !== disabled;
  if (changed) {
    await write(c, 'UPDATE tagente SET disabled = ?, update_module_count = 1 WHERE id_agente = ?', [
      disabled,
      id,
    ]);
  }
  const alias = String(ioSafeOutput(agent.alias ?? ''));
  const verb = disabled ? 'disable' : 'enable';
  // The console audits a no-op update (no row changed) as a failure.
  await audit(
    c,
    who,
    'Agent management',
    changed ? `${verb[0].toUpperCase()}${verb.slice(1)}  ${alias}` : `Fail to ${verb} ${alias}`,
  );
  return { ok: true, changed, error: null };
}

/** modules_change_disabled: validates the module's alerts when disabling, flags the agent's counts. */
async function moduleDisabled(
  c: PoolConnection,
  who: AuditFacts,
  id: number,
  disabled: 0 | 1,
): Promise<ChangeOutcome> {
  const m = await select(
    c,
    'SELECT m.nombre, m.disabled, m.id_agente, a.alias FROM tagente_modulo m LEFT JOIN tagente a ON a.id_agente = m.id_agente WHERE m.id_agente_modulo = ? FOR UPDATE',
    [id],
  );
  if (!m) return missing('module', id);
  const changed = Number(m.disabled) !== disabled;
  if (changed) {
    if (disabled) {
      await write(
        c,
        'UPDATE talert_template_modules SET times_fired = 0, internal_counter = 0 WHERE id_agent_module = ?',
        [id],
      );
    }
    await write(c, 'UPDATE tagente_modulo SET disabled = ? WHERE id_agente_modulo = ?', [
      disabled,
      id,
    ]);
    await write(c, 'UPDATE tagente SET update_module_count = 1 WHERE id_agente = ?', [m.id_agente]);
  }
  await audit(
    c,
    who,
    'Module management',
    `${disabled ? 'Disable' : 'Enable'} #${id} | ${String(m.nombre ?? '')} | ${String(ioSafeOutput(m.alias ?? ''))}`,
  );
  return { ok: true, changed, error: null };
}

async function alertFlag(
  c: PoolConnection,
  who: AuditFacts,
  id: number,
  column: 'disabled' | 'standby',
  value: 0 | 1,
): Promise<ChangeOutcome> {
  const alert = await select(
    c,
    `SELECT tm.${quoteId(column)} AS current, m.id_agente FROM talert_template_modules tm LEFT JOIN tagente_modulo m ON m.id_agente_modulo = tm.id_agent_module WHERE tm.id = ? FOR UPDATE`,
    [id],
  );
  if (!alert) return missing('alert', id);
  const res = await write(
    c,
    `UPDATE talert_template_modules SET ${quoteId(column)} = ? WHERE id = ?`,
    [value, id],
  );
  if (column === 'disabled' && alert.id_agente !== null && alert.id_agente !== undefined) {
    // alert_list.php: the agent's fired-alert count is recomputed by the server.
    await write(c, 'UPDATE tagente SET update_alert_count = 1 WHERE id_agente = ?', [
      alert.id_agente,
    ]);
  }
  const text =
    column === 'disabled'
      ? value
        ? `Disable  ${id}`
        : `Enable  ${id}`
      : value
        ? `Standby  ${id}`
        : `Standbyoff  ${id}`;
  await audit(c, who, 'Alert management', text);
  return { ok: true, changed: res.changedRows > 0, error: null };
}

/**
 * Queues the application of a policy to all its agents (id_agent 0), as the console's "Apply"
 * does; the Instance's Pandora server (policy_manager) takes it from tpolicy_queue. A pending
 * application of the same policy (progress below 100) is not queued twice.
 */
async function policyApply(c: PoolConnection, who: AuditFacts, id: number): Promise<ChangeOutcome> {
  const policy = await select(c, 'SELECT name FROM tpolicies WHERE id = ? FOR UPDATE', [id]);
  if (!policy) return missing('policy', id);
  const pending = await select(
    c,
    "SELECT id FROM tpolicy_queue WHERE id_policy = ? AND id_agent = 0 AND operation = 'apply' AND progress < 100 LIMIT 1",
    [id],
  );
  if (pending) return { ok: true, changed: false, error: null };
  await write(
    c,
    "INSERT INTO tpolicy_queue (id_policy, id_agent, operation, progress, end_utimestamp, priority) VALUES (?, 0, 'apply', 0, 0, 0)",
    [id],
  );
  await audit(
    c,
    who,
    'Policy management',
    `Apply policy #${id} ${String(ioSafeOutput(policy.name ?? ''))}`,
  );
  return { ok: true, changed: true, error: null };
}

/** Applies one change to one target inside the caller's transaction. */
export function applyChange(
  c: PoolConnection,
  who: AuditFacts,
  kind: ChangeKind,
  id: number,
): Promise<ChangeOutcome> {
  switch (kind) {
    case 'agent.disable':
      return agentDisabled(c, who, id, 1);
    case 'agent.enable':
      return agentDisabled(c, who, id, 0);
    case 'module.disable':
      return moduleDisabled(c, who, id, 1);
    case 'module.enable':
      return moduleDisabled(c, who, id, 0);
    case 'alert.disable':
      return alertFlag(c, who, id, 'disabled', 1);
    case 'alert.enable':
      return alertFlag(c, who, id, 'disabled', 0);
    case 'alert.standby':
      return alertFlag(c, who, id, 'standby', 1);
    case 'alert.unstandby':
      return alertFlag(c, who, id, 'standby', 0);
    case 'policy.apply':
      return policyApply(c, who, id);
  }
}
