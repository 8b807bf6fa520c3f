/** event-pull's options: what a caller may give, their defaults, and the checks they must pass. */
import type { Pool } from '../db/pool';
import type { UnitGate } from '../cluster/gate';
import type { CommitHooks } from './command-center';

export type PullMode = 'all' | 'only_validated';

export interface EventPullOptions {
  /** The Command Center database (the pandora-config node's pool; not closed by the puller). */
  cc: Pool;
  /** tmetaconsole_setup ids; empty = every enabled row. */
  instances?: number[];
  /** Milliseconds between rounds of each instance; 0 = only when round() is called. */
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
  /** How long round() waits for one instance before reporting it as still running. */
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
  hooks?: CommitHooks;
  /** Several Node-RED hosts (pandora-config `cluster`): only the instances whose lease is held here. */
  gate?: UnitGate;
}

type Defaulted = Omit<EventPullOptions, 'cc' | 'instances' | 'hooks' | 'gate'>;

/** The options after defaults, as the puller and its workers read them. */
export type ResolvedOptions = Required<Defaulted> & { hooks: CommitHooks; gate?: UnitGate };

export const EVENT_PULL_DEFAULTS: Required<Defaulted> = {
  intervalMs: 10_000,
  batchSize: 1000,
  mode: 'all',
  writeBack: false,
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

/**
 * Applies the defaults field by field (a field given as `undefined` takes its default, as if it
 * were absent) and refuses values the engine cannot work with.
 */
export function resolveOptions(options: EventPullOptions): ResolvedOptions {
  const given = options as Defaulted;
  const out = { ...EVENT_PULL_DEFAULTS } as Record<keyof Defaulted, unknown>;
  for (const key of Object.keys(EVENT_PULL_DEFAULTS) as (keyof Defaulted)[]) {
    if (given[key] !== undefined) out[key] = given[key];
  }
  const resolved = {
    ...(out as Required<Defaulted>),
    hooks: options.hooks ?? {},
    gate: options.gate,
  };
  if (resolved.mode !== 'all' && resolved.mode !== 'only_validated') {
    throw new RangeError(`mode must be "all" or "only_validated", got ${String(resolved.mode)}`);
  }
  for (const [key, min] of Object.entries(MINIMUM) as [keyof Defaulted, number][]) {
    const v = resolved[key];
    // batchSize and the windows are counts; times may be fractional milliseconds.
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
      throw new RangeError(`${key} must be a number of at least ${min}, got ${String(v)}`);
    }
  }
  for (const key of ['batchSize', 'maxCommentsPerEvent'] as const) {
    if (!Number.isInteger(resolved[key])) {
      throw new RangeError(`${key} must be a whole number, got ${resolved[key]}`);
    }
  }
  return resolved;
}
