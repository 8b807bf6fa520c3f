/**
 * The rows the reads give, as the node hands them on: each tagged with its Instance, names decoded
 * as the console shows them (io_safe_output), numbers as numbers.
 */
import { ioSafeOutput } from './entities';

export type DbRow = Record<string, unknown>;

/** The Instance a row comes from: its tmetaconsole_setup id and server_name. */
export type InstanceRef = { id: number; name: string };

export type QueryRow = Record<string, unknown> & { instance: InstanceRef };

export const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const text = (v: unknown): string => String(ioSafeOutput(v ?? ''));
const flag = (v: unknown): boolean => num(v) !== 0;

export function agentRow(r: DbRow, instance: InstanceRef): QueryRow {
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

export function moduleRow(r: DbRow, instance: InstanceRef): QueryRow {
  return {
    instance,
    id: num(r.id_agente_modulo),
    name: text(r.nombre),
    agent: { id: num(r.id_agente), name: text(r.agent_name), alias: text(r.agent_alias) },
    type: { id: num(r.id_tipo_modulo), name: text(r.type_name) },
    unit: text(r.unit),
    value: r.datos === null || r.datos === undefined ? null : text(r.datos),
    status: r.status,
    estado: r.estado === null || r.estado === undefined ? null : num(r.estado),
    disabled: flag(r.disabled),
    lastData: r.timestamp ?? null,
    lastDataUtimestamp: num(r.utimestamp),
    lastStatusChange: num(r.last_status_change),
  };
}

export function alertRow(r: DbRow, instance: InstanceRef): QueryRow {
  return {
    instance,
    id: num(r.id),
    agent: { id: num(r.id_agente), name: text(r.agent_name), alias: text(r.agent_alias) },
    module: { id: num(r.id_agent_module), name: text(r.module_name) },
    template: { id: num(r.id_alert_template), name: text(r.template_name) },
    timesFired: num(r.times_fired),
    lastFired: num(r.last_fired),
    fired: flag(r.fired),
    disabled: flag(r.disabled),
    standby: flag(r.standby),
    policy: num(r.id_policy_alerts) !== 0,
  };
}

/** tpolicies.status: 0 applied, 1 database changes pending, 2 database and agent .conf changes pending. */
const POLICY_STATUS = ['applied', 'pending_db', 'pending_conf'];

export function policyRow(r: DbRow, instance: InstanceRef): QueryRow {
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
