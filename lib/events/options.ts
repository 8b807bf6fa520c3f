/**
 * event-pull's options in one place: the node's properties (seconds, as the editor shows them),
 * their defaults and limits (the editor reads these through the node's settings), the engine's
 * options (milliseconds), their defaults, and the checks they must pass.
 */
import type { UnitGate } from '../cluster/gate';
import type { Pool } from '../db/pool';
import { toBool, toInteger, toList, toNumber, toText } from '../util/values';
import { EventPullError } from './errors';

export type PullMode = 'all' | 'only_validated';

/** The node's properties, their defaults and limits: what the editor offers and checks. */
export const EVENT_PULL_PROPERTIES = {
  /** Seconds between rounds; 0 = only when a message asks. A day at most (Node's timers). */
  interval: { default: 10, min: 0, max: 86_400 },
  /** Events per transaction. */
  batchSize: { default: 1000, min: 1, max: 100_000 },
  mode: { default: 'all' as PullMode, values: ['all', 'only_validated'] as PullMode[] },
  writeBack: { default: false },
} as const;

/**
 * Connections of the puller's own Command Center pool (the node opens it from the pandora-config
 * facts). Every Instance's batch transaction and re-check go through it: at 100 Instances, one
 * batch each a second, the shared pool's 4 connections were the queue (lag p50 5.7 s against
 * 2.0 s with 16, bench/scale-event-pull.ts). mysql2 opens them only as rounds overlap, so a
 * site of a few Instances still holds a few.
 */
export const EVENT_PULL_CC_CONNECTIONS = 16;

export interface EventPullOptions {
  /** The Command Center database (the pandora-config node's pool; not closed by the puller). */
  cc: Pool;
  /** tmetaconsole_setup ids; empty = every enabled row. */
  instances?: number[];
  /** Milliseconds between rounds of each instance; 0 = only when requestRound() is called. */
  intervalMs?: number;
  /** Events per transaction (Pandora's replication_limit). */
  batchSize?: number;
  /** Pandora's replication_mode: copy every event, or an event only once it is validated. */
  mode?: PullMode;
  /** Write validations made on the copy back to the instance's tevento. */
  writeBack?: boolean;
  /** How many ids below the checkpoint are re-checked every round (late commits, owner changes). */
  recheckWindow?: number;
  /** Seconds the validation and write-back re-polls look back past their cursor. */
  ackOverlapSeconds?: number;
  /** Limit for one query on an instance; a hung instance fails its round after this. */
  queryTimeoutMs?: number;
  /** How long requestRound() waits for one instance before reporting it as still running. */
  roundTimeoutMs?: number;
  /** Longest wait between retries of a failing instance (the first is the interval, at least 1 s). */
  maxBackoffMs?: number;
  /** Longest time one instance round keeps draining full batches before yielding. */
  maxDrainMs?: number;
  /**
   * Bytes of Instance values one batch may hold (event texts and comments, as the Instance
   * stores them); a batch ends early when the next event would pass it (one event always fits).
   */
  maxBatchBytes?: number;
  /** Comments of one event a copy keeps (the newest); the older ones are counted in a mark. */
  maxCommentsPerEvent?: number;
  /** Bytes of comment text of one event a copy keeps (the newest that fit), likewise marked. */
  maxCommentBytes?: number;
  /** Several Node-RED hosts (pandora-config `cluster`): only the instances whose lease is held here. */
  gate?: UnitGate;
}

type Defaulted = Omit<EventPullOptions, 'cc' | 'instances' | 'gate'>;

/** The options after defaults, as the puller and its workers read them. */
export type ResolvedOptions = Required<Defaulted> & { gate?: UnitGate };

export const EVENT_PULL_DEFAULTS: Required<Defaulted> = {
  intervalMs: EVENT_PULL_PROPERTIES.interval.default * 1000,
  batchSize: EVENT_PULL_PROPERTIES.batchSize.default,
  mode: EVENT_PULL_PROPERTIES.mode.default,
  writeBack: EVENT_PULL_PROPERTIES.writeBack.default,
  recheckWindow: 1000,
  ackOverlapSeconds: 30,
  queryTimeoutMs: 30_000,
  roundTimeoutMs: 60_000,
  maxBackoffMs: 300_000,
  maxDrainMs: 30_000,
  maxBatchBytes: 16 * 1024 * 1024,
  maxCommentsPerEvent: 1000,
  maxCommentBytes: 1024 * 1024,
};

/** Milliseconds and counts that must be whole and at least this much. */
const MINIMUM: Partial<Record<keyof Defaulted, number>> = {
  intervalMs: 0,
  batchSize: 1,
  recheckWindow: 0,
  ackOverlapSeconds: 0,
  queryTimeoutMs: 1,
  roundTimeoutMs: 1,
  maxBackoffMs: 0,
  maxDrainMs: 0,
  maxBatchBytes: 1,
  maxCommentsPerEvent: 0,
  maxCommentBytes: 0,
};

/** A value as an error's facts carry it. */
function shown(value: unknown): string | number {
  return typeof value === 'number' ? value : (JSON.stringify(value) ?? String(value));
}

function outOfRange(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER) {
  return new EventPullError('ERR_EVENT_PULL_OPTION', { name, value: shown(value), min, max });
}

/**
 * Applies the defaults field by field (a field given as `undefined` takes its default, as if it
 * were absent) and refuses values the engine cannot work with (ERR_EVENT_PULL_OPTION, _WHOLE,
 * _MODE).
 */
export function resolveOptions(options: EventPullOptions): ResolvedOptions {
  const given = options as Defaulted;
  const out = { ...EVENT_PULL_DEFAULTS } as Record<keyof Defaulted, unknown>;
  for (const key of Object.keys(EVENT_PULL_DEFAULTS) as (keyof Defaulted)[]) {
    if (given[key] !== undefined) out[key] = given[key];
  }
  const resolved = { ...(out as Required<Defaulted>), gate: options.gate };
  if (!EVENT_PULL_PROPERTIES.mode.values.includes(resolved.mode)) {
    throw new EventPullError('ERR_EVENT_PULL_MODE', { value: shown(resolved.mode) });
  }
  for (const [key, min] of Object.entries(MINIMUM) as [keyof Defaulted, number][]) {
    const v = resolved[key];
    // batchSize and the windows are counts; times may be fractional milliseconds.
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw outOfRange(key, v, min);
  }
  for (const key of ['batchSize', 'maxCommentsPerEvent'] as const) {
    if (!Number.isInteger(resolved[key])) {
      throw new EventPullError('ERR_EVENT_PULL_WHOLE', { name: key, value: resolved[key] });
    }
  }
  return resolved;
}

/** The node's properties as the runtime reads them (the editor saves strings). */
export interface EventPullProps {
  instances?: unknown;
  interval?: unknown;
  batchSize?: unknown;
  mode?: unknown;
  writeBack?: unknown;
}

/**
 * The engine's options from the node's properties; throws ERR_EVENT_PULL_* on a value the
 * editor would refuse (its validators accept exactly what this accepts).
 */
export function optionsFromProperties(
  props: EventPullProps,
): Pick<EventPullOptions, 'instances' | 'intervalMs' | 'batchSize' | 'mode' | 'writeBack'> {
  const P = EVENT_PULL_PROPERTIES;
  const mode = toText(props.mode, P.mode.default);
  if (!(P.mode.values as string[]).includes(mode)) {
    throw new EventPullError('ERR_EVENT_PULL_MODE', { value: JSON.stringify(mode) });
  }
  let interval = Number.NaN;
  try {
    interval = toNumber(props.interval, P.interval.default, 'interval');
  } catch {
    // refused below
  }
  if (!(interval >= P.interval.min && interval <= P.interval.max)) {
    throw new EventPullError('ERR_EVENT_PULL_INTERVAL', {
      max: P.interval.max,
      value: JSON.stringify(props.interval) ?? String(props.interval),
    });
  }
  const whole = (name: string, value: unknown, fallback: number, min: number, max?: number) => {
    try {
      return toInteger(value, fallback, name, min, max);
    } catch {
      throw outOfRange(name, value, min, max);
    }
  };
  let writeBack: boolean;
  try {
    writeBack = toBool(props.writeBack, P.writeBack.default, 'writeBack');
  } catch {
    throw new EventPullError('ERR_EVENT_PULL_FLAG', {
      name: 'writeBack',
      value: shown(props.writeBack),
    });
  }
  return {
    instances: toList(props.instances).map((v) => whole('instances', v, 0, 1)),
    intervalMs: interval * 1000,
    batchSize: whole(
      'batchSize',
      props.batchSize,
      P.batchSize.default,
      P.batchSize.min,
      P.batchSize.max,
    ),
    mode: mode as PullMode,
    writeBack,
  };
}
