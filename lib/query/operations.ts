/**
 * What a message may ask of instance-query: the operation names, the read filters and the change
 * targets, checked before any Instance is contacted. Every value becomes a query parameter, never
 * SQL text; anything unexpected is refused with a QueryError whose facts say what was expected.
 */
import { ioSafeInput } from './entities';
import { QueryError, shown } from './errors';
import { parseStatus, Status } from './status';

export const READS = ['agents', 'modules', 'alerts', 'policies', 'tactical'] as const;
export type ReadKind = (typeof READS)[number];

export const CHANGES = [
  'agent.disable',
  'agent.enable',
  'module.disable',
  'module.enable',
  'alert.disable',
  'alert.enable',
  'alert.standby',
  'alert.unstandby',
  'policy.apply',
] as const;
export type ChangeKind = (typeof CHANGES)[number];

export type Operation = ReadKind | ChangeKind;

/** The state of an alert assignment, for the `status` filter of `alerts`. */
export const ALERT_STATES = ['fired', 'notfired', 'disabled', 'standby'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

/**
 * Which rows of disabled things a read gives: `enabled` (the console's default: disabled agents
 * and modules are hidden), `disabled` (only those), `all`.
 */
export const DISABLED_CHOICES = ['enabled', 'disabled', 'all'] as const;
export type DisabledChoice = (typeof DISABLED_CHOICES)[number];

export interface ReadFilters {
  /** A group id, or a group name as the console shows it. */
  group?: { id: number } | { name: string };
  /** The group's children too, at every depth (tgrupo.parent), as the console's recursion. */
  recursion?: boolean;
  /** Rows of disabled agents, modules or alerts (agents, modules, alerts); `enabled` if not given. */
  disabled?: DisabledChoice;
  /** A LIKE pattern over the stored (entity-encoded) agent name or alias. */
  agent?: string;
  /** A LIKE pattern over the stored module name. */
  module?: string;
  /** Agent or module status names (agents, modules). */
  status?: Status[];
  /** Alert states (alerts). */
  alertStatus?: AlertState[];
  /** Only these instance ids. */
  instances?: number[];
}

export interface ChangeTarget {
  instance: number;
  id: number;
}

/** Which filters each read understands. */
const FILTERS: Record<ReadKind, string[]> = {
  agents: ['group', 'recursion', 'agent', 'status', 'module', 'disabled', 'instances'],
  modules: ['group', 'recursion', 'agent', 'status', 'module', 'disabled', 'instances'],
  alerts: ['group', 'recursion', 'agent', 'status', 'module', 'disabled', 'instances'],
  policies: ['group', 'recursion', 'instances'],
  // The tactical view always leaves disabled agents, modules and alerts out.
  tactical: ['group', 'recursion', 'instances'],
};

/** The operation a message names: `msg.topic`, or the node's default when the topic is empty. */
export function parseOperation(topic: unknown, fallback: string): Operation {
  const name = typeof topic === 'string' && topic.trim() !== '' ? topic.trim() : fallback;
  if (
    (READS as readonly string[]).includes(name) ||
    (CHANGES as readonly string[]).includes(name)
  ) {
    return name as Operation;
  }
  throw new QueryError('ERR_QUERY_OPERATION', { name, known: [...READS, ...CHANGES].join(', ') });
}

export function isRead(op: Operation): op is ReadKind {
  return (READS as readonly string[]).includes(op);
}

/** A positive whole number (a number or its digits), else null. */
function positive(value: unknown): number | null {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 4294967295 ? n : null;
}

function positiveInt(value: unknown, what: string): number {
  const n = positive(value);
  if (n === null) throw new QueryError('ERR_QUERY_NUMBER', { what, value: shown(value) });
  return n;
}

/** LIKE's own wildcards and escape character, taken literally. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * A name pattern with `*` wildcards as a LIKE pattern over what the console stores: each literal
 * piece encoded as io_safe_input encodes it. Without `*` it is an exact (case-insensitive) match.
 */
export function namePattern(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new QueryError('ERR_QUERY_PATTERN', { what, value: shown(value) });
  }
  return value
    .trim()
    .split('*')
    .map((piece) => escapeLike(ioSafeInput(piece)))
    .join('%');
}

function list<T>(value: unknown, one: (v: unknown) => T): T[] {
  const items = Array.isArray(value)
    ? value
    : typeof value === 'string'
      ? value.split(',').map((s) => s.trim())
      : [value];
  if (items.length === 0) throw new QueryError('ERR_QUERY_EMPTY_LIST');
  return items.map(one);
}

/** A yes/no filter: a boolean, or the text true/false (as an inject node or a URL gives it). */
function yesNo(value: unknown, what: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^\s*(true|false)\s*$/i.test(value)) {
    return value.trim().toLowerCase() === 'true';
  }
  throw new QueryError('ERR_QUERY_YES_NO', { what, value: shown(value) });
}

function disabledChoice(value: unknown): DisabledChoice {
  const v = typeof value === 'string' ? value.trim().toLowerCase() : value;
  if (typeof v === 'string' && (DISABLED_CHOICES as readonly string[]).includes(v)) {
    return v as DisabledChoice;
  }
  throw new QueryError('ERR_QUERY_DISABLED', {
    value: shown(value),
    known: DISABLED_CHOICES.join(', '),
  });
}

/** The read filters in `msg.payload` (an object, or nothing). */
export function parseReadFilters(kind: ReadKind, payload: unknown): ReadFilters {
  if (payload === undefined || payload === null || payload === '') return {};
  if (typeof payload !== 'object' || Array.isArray(payload)) {
    throw new QueryError('ERR_QUERY_FILTERS', {
      kind,
      filters: FILTERS[kind].join(', '),
      got: Array.isArray(payload) ? 'array' : typeof payload,
    });
  }
  const given = payload as Record<string, unknown>;
  const unknown = Object.keys(given).filter(
    (k) => given[k] !== undefined && !FILTERS[kind].includes(k),
  );
  if (unknown.length > 0) {
    throw new QueryError('ERR_QUERY_FILTER_UNKNOWN', {
      kind,
      names: unknown.map((k) => JSON.stringify(k)).join(', '),
      filters: FILTERS[kind].join(', '),
    });
  }
  const filters: ReadFilters = {};
  const { group, recursion, agent, module, status, disabled, instances } = given;
  if (group !== undefined && group !== '') {
    if (typeof group === 'number' || (typeof group === 'string' && /^\s*\d+\s*$/.test(group))) {
      filters.group = { id: positiveInt(group, 'group') };
    } else if (typeof group === 'string') {
      filters.group = { name: ioSafeInput(group.trim()) };
    } else {
      throw new QueryError('ERR_QUERY_GROUP', { value: shown(group) });
    }
  }
  if (recursion !== undefined) filters.recursion = yesNo(recursion, 'recursion');
  if (disabled !== undefined) filters.disabled = disabledChoice(disabled);
  if (agent !== undefined) filters.agent = namePattern(agent, 'agent');
  if (module !== undefined) filters.module = namePattern(module, 'module');
  if (status !== undefined) {
    if (kind === 'alerts') {
      filters.alertStatus = list(status, (v) => {
        const s =
          typeof v === 'string'
            ? v
                .trim()
                .toLowerCase()
                .replace(/[\s_-]/g, '')
            : v;
        if (typeof s === 'string' && (ALERT_STATES as readonly string[]).includes(s))
          return s as AlertState;
        throw new QueryError('ERR_QUERY_ALERT_STATUS', {
          value: shown(v),
          known: ALERT_STATES.join(', '),
        });
      });
    } else {
      filters.status = list(status, parseStatus);
    }
  }
  if (instances !== undefined)
    filters.instances = list(instances, (v) => positiveInt(v, 'instances'));
  return filters;
}

/** The targets of a change: `{instance, id}` or a list of them (rows of a read work as targets). */
export function parseTargets(kind: ChangeKind, payload: unknown): ChangeTarget[] {
  const items = Array.isArray(payload) ? payload : [payload];
  if (items.length === 0) throw new QueryError('ERR_QUERY_NO_TARGET', { kind });
  return items.map((item, i) => {
    // `count` picks the catalogue's wording: "the target of" one, "target n of" several.
    const where = { kind, n: i + 1, count: items.length };
    if (typeof item !== 'object' || item === null) {
      throw new QueryError('ERR_QUERY_TARGET', { ...where, value: shown(item) });
    }
    const t = item as Record<string, unknown>;
    const instance =
      typeof t.instance === 'object' && t.instance !== null
        ? (t.instance as Record<string, unknown>).id
        : t.instance;
    const field = (name: 'instance' | 'id', value: unknown): number => {
      const n = positive(value);
      if (n === null) {
        throw new QueryError('ERR_QUERY_TARGET_NUMBER', {
          ...where,
          field: name,
          value: shown(value),
        });
      }
      return n;
    };
    return { instance: field('instance', instance), id: field('id', t.id) };
  });
}
