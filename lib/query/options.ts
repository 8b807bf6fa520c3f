/**
 * instance-query's options in one place: the node's properties (seconds, as the editor shows them),
 * their defaults and limits (the editor reads these through the node's settings), and the
 * engine's options (milliseconds) they become.
 */
import type { Pool } from '../db/pool';
import { instanceIds, optionFacts, resolveNumbers } from '../util/options';
import { toBool, toInteger, toNumber, toText } from '../util/values';
import { QueryError } from './errors';
import { parseOperation, type Operation } from './operations';

/** The node's properties, their defaults and limits: what the editor offers and checks. */
export const INSTANCE_QUERY_PROPERTIES = {
  /** The operation of a message without a topic. */
  query: { default: 'agents' },
  /** Seconds one Instance may take for one message (more than `min`). */
  timeout: { default: 10, min: 0, max: 86_400 },
  /** Rows per Instance at most. */
  limit: { default: 1000, min: 1, max: 1_000_000 },
  /** Whether change operations may run. */
  allowChanges: { default: false },
} as const;

export interface InstanceQueryOptions {
  /** The Command Center's pool (its node registry tmetaconsole_setup; not closed by the engine). */
  cc: Pool;
  /** Only these registry ids (the node's `instances`); empty = every enabled row. */
  instances?: number[];
  /** Most time one Instance may take for one message. */
  timeoutMs?: number;
  /** Most rows per Instance for a read. */
  limit?: number;
  /** Instances asked at the same time. */
  concurrency?: number;
  /** Connections kept per Instance. */
  connectionsPerInstance?: number;
  /** tsesion.id_usuario of the audit rows the changes write. */
  auditUser?: string;
}

type Tunable = Omit<InstanceQueryOptions, 'cc' | 'instances'>;

export type ResolvedInstanceQueryOptions = Required<Tunable> & { cc: Pool; instances: number[] };

export const INSTANCE_QUERY_DEFAULTS: Required<Tunable> = {
  timeoutMs: INSTANCE_QUERY_PROPERTIES.timeout.default * 1000,
  limit: INSTANCE_QUERY_PROPERTIES.limit.default,
  concurrency: 128,
  connectionsPerInstance: 2,
  auditUser: 'node-red',
};

/** The smallest value of each number (timeoutMs: more than 0). */
const MINIMUM: Record<Exclude<keyof Tunable, 'auditUser'>, number> = {
  timeoutMs: 1,
  limit: 1,
  concurrency: 1,
  connectionsPerInstance: 1,
};

function option(name: string, value: unknown, min: number, max?: number) {
  return new QueryError('ERR_QUERY_OPTION', optionFacts(name, value, min, max));
}

/** Defaults applied field by field (`undefined` = absent); values the engine cannot use refused. */
export function resolveOptions(options: InstanceQueryOptions): ResolvedInstanceQueryOptions {
  const out = resolveNumbers(INSTANCE_QUERY_DEFAULTS, MINIMUM, options, option);
  if (options.auditUser !== undefined) out.auditUser = options.auditUser;
  return {
    ...(out as Required<Tunable>),
    cc: options.cc,
    instances: options.instances ?? [],
  };
}

export interface InstanceQueryProps {
  instances?: unknown;
  query?: unknown;
  timeout?: unknown;
  limit?: unknown;
  allowChanges?: unknown;
}

/** What the node takes from its properties: the engine's options and its own two choices. */
export interface NodeChoices {
  options: Pick<InstanceQueryOptions, 'instances' | 'timeoutMs' | 'limit'>;
  /** The operation of a message without a topic. */
  fallback: Operation;
  allowChanges: boolean;
}

/** The node's choices from its properties; throws QueryError (ERR_QUERY_OPTION, _OPERATION). */
export function optionsFromProperties(props: InstanceQueryProps): NodeChoices {
  const P = INSTANCE_QUERY_PROPERTIES;
  const fallback = parseOperation(toText(props.query, P.query.default), P.query.default);
  let allowChanges: boolean;
  try {
    allowChanges = toBool(props.allowChanges, P.allowChanges.default, 'allowChanges');
  } catch {
    throw option('allowChanges', props.allowChanges, 0, 1);
  }
  let timeout: number;
  try {
    timeout = toNumber(props.timeout, P.timeout.default, 'timeout');
  } catch {
    throw option('timeout', props.timeout, P.timeout.min, P.timeout.max);
  }
  if (timeout <= P.timeout.min || timeout > P.timeout.max) {
    throw option('timeout', props.timeout, P.timeout.min, P.timeout.max);
  }
  let limit: number;
  try {
    limit = toInteger(props.limit, P.limit.default, 'limit', P.limit.min, P.limit.max);
  } catch {
    throw option('limit', props.limit, P.limit.min, P.limit.max);
  }
  const instances = instanceIds(props.instances, option);
  return {
    options: { instances, timeoutMs: Math.round(timeout * 1000), limit },
    fallback,
    allowChanges,
  };
}
