/**
 * metaconsole-replicate's options in one place: the node's properties (seconds, as the editor
 * shows them), their defaults and limits (the editor reads these through the node's settings),
 * and the engine's options (milliseconds) they become.
 */
import type { UnitGate } from '../cluster/gate';
import type { DbFacts, Pool } from '../db/pool';
import { instanceIds, optionFacts, resolveNumbers } from '../util/options';
import { toList, toNumber, toText } from '../util/values';
import { ReplicateError } from './errors';
import { parseDbAddress, type DbAddress } from './replication-tokens';
import { ALL_KINDS, parseObjects, type ObjectKind } from './tables';

/** The node's properties, their defaults and limits: what the editor offers and checks. */
export const REPLICATE_PROPERTIES = {
  /** Seconds between automatic rounds; 0 = only when a message asks. */
  interval: { default: 10, min: 0, max: 86_400 },
} as const;

export interface ReplicatorOptions {
  /** The Command Center's pool (the pandora-config's; not closed by the engine). */
  cc: Pool;
  /** Registry ids; empty = every enabled row of tmetaconsole_setup. */
  instances?: number[];
  /** The kinds the table comparison covers (the queue applies every managed table). */
  objects?: ObjectKind[];
  /** Milliseconds between automatic rounds once started; 0 = only on requestRound(). */
  intervalMs?: number;
  /** Milliseconds from start() to the first automatic round. */
  startDelayMs?: number;
  /**
   * Between rounds, how often the Command Center's queue is looked at (one grouped query for
   * every Instance); an Instance with items queued since its last drain gets a queue round at
   * once, so a change the console queues is on every node within about this time instead of
   * `intervalMs`. 0 = the queue only in rounds.
   */
  queuePollMs?: number;
  /**
   * Instances in a round at once (the rest wait, their lanes free for queue rounds). The Command
   * Center's share of a round is read once for all Instances; this bounds the Instances' share
   * running together, so that a round over 100 Instances does not hold all their lanes at once.
   */
  roundConcurrency?: number;
  /**
   * How long an Instance's schema (its tables' columns) is used before it is read again; any
   * failure of its table comparison reads it again at once. A schema read per round per Instance
   * is what a round over many Instances on one server spent most on.
   */
  schemaTtlMs?: number;
  /** Keys compared per chunk by the table comparison. */
  chunkSize?: number;
  /** Queue items read per page and at most applied in one Instance transaction. */
  queueBatch?: number;
  /**
   * The queue session's max_statement_time, ms. Pandora's queued statements each write a few rows
   * by key and take milliseconds; the heaviest, a DELETE of a policy whose cascades reach tens of
   * thousands of rows, takes seconds. A minute leaves room for that on a slow Instance and bounds
   * what a heavy or hostile statement holds the node: it is stopped, rolled back and its error
   * written to the item like any failure.
   */
  queueStatementTimeLimitMs?: number;
  /** Overrides the Command Center's tconfig sync_queue_items_max (null: read it, else 200). */
  queueItemsMax?: number | null;
  /** Queued items listed per Instance by a plan. */
  planItems?: number;
  /** First retry delay of a failing queue head; doubles up to backoffMaxMs. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  useQueue?: boolean;
  useTables?: boolean;
  /**
   * Connections per Instance pool. Two: a round holds one (the queue's transaction, then the
   * table comparison's) and a skip or a plan may need another meanwhile.
   */
  connectionLimit?: number;
  /** How long a connection to an Instance may take before that Instance is reported down. */
  connectTimeoutMs?: number;
  /**
   * The Command Center database as this host reaches it (the pandora-config's facts): merge
   * writes it into each node's replication_db* tokens where neither the registry row's meta_db*
   * columns nor `ccDbAddress` name another.
   */
  ccFacts?: DbFacts;
  /** The Command Center database as the Instances reach it (the node's `ccDbAddress`). */
  ccDbAddress?: DbAddress | null;
  /** Several Node-RED hosts (pandora-config `cluster`): only the Instances leased here. */
  gate?: UnitGate;
  /**
   * The words written into a failing item's `error` column, where Pandora's console shows them
   * (the node passes its catalogue's); default: the error's code and facts.
   */
  wordNote?: (err: ReplicateError) => string;
}

type Numeric =
  | 'intervalMs'
  | 'startDelayMs'
  | 'queuePollMs'
  | 'roundConcurrency'
  | 'schemaTtlMs'
  | 'chunkSize'
  | 'queueBatch'
  | 'queueStatementTimeLimitMs'
  | 'planItems'
  | 'backoffBaseMs'
  | 'backoffMaxMs'
  | 'connectionLimit'
  | 'connectTimeoutMs';

export type ResolvedReplicatorOptions = Required<Pick<ReplicatorOptions, Numeric>> & {
  cc: Pool;
  instances: number[];
  objects: ObjectKind[];
  queueItemsMax: number | null;
  useQueue: boolean;
  useTables: boolean;
  ccFacts?: DbFacts;
  ccDbAddress: DbAddress | null;
  gate?: UnitGate;
  wordNote: (err: ReplicateError) => string;
};

export const REPLICATE_DEFAULTS: Required<Pick<ReplicatorOptions, Numeric>> = {
  intervalMs: REPLICATE_PROPERTIES.interval.default * 1000,
  startDelayMs: 500,
  queuePollMs: 250,
  roundConcurrency: 8,
  schemaTtlMs: 300_000,
  chunkSize: 1000,
  queueBatch: 200,
  queueStatementTimeLimitMs: 60_000,
  planItems: 100,
  backoffBaseMs: 1000,
  backoffMaxMs: 60_000,
  connectionLimit: 2,
  connectTimeoutMs: 3000,
};

const MINIMUM: Record<Numeric, number> = {
  intervalMs: 0,
  startDelayMs: 0,
  queuePollMs: 0,
  roundConcurrency: 1,
  schemaTtlMs: 0,
  chunkSize: 1,
  queueBatch: 1,
  queueStatementTimeLimitMs: 1,
  planItems: 0,
  backoffBaseMs: 0,
  backoffMaxMs: 0,
  connectionLimit: 1,
  connectTimeoutMs: 1,
};

function option(name: string, value: unknown, min: number, max?: number) {
  return new ReplicateError('ERR_REPLICATE_OPTION', optionFacts(name, value, min, max));
}

/** Defaults applied field by field (`undefined` = absent); values the engine cannot use refused. */
export function resolveOptions(options: ReplicatorOptions): ResolvedReplicatorOptions {
  const out = resolveNumbers(REPLICATE_DEFAULTS, MINIMUM, options, option);
  const max = options.queueItemsMax ?? null;
  if (max !== null && !(Number.isInteger(max) && max >= 1)) throw option('queueItemsMax', max, 1);
  return {
    ...(out as Required<Pick<ReplicatorOptions, Numeric>>),
    cc: options.cc,
    instances: options.instances ?? [],
    objects: options.objects ?? [...ALL_KINDS],
    queueItemsMax: max,
    useQueue: options.useQueue !== false,
    useTables: options.useTables !== false,
    ccFacts: options.ccFacts,
    ccDbAddress: options.ccDbAddress ?? null,
    gate: options.gate,
    wordNote: options.wordNote ?? ((err) => err.message),
  };
}

export interface ReplicateProps {
  instances?: unknown;
  objects?: unknown;
  interval?: unknown;
  ccDbAddress?: unknown;
}

/** The engine's options from the node's properties; throws ReplicateError. */
export function optionsFromProperties(
  props: ReplicateProps,
): Pick<ReplicatorOptions, 'instances' | 'objects' | 'intervalMs' | 'ccDbAddress'> {
  const { min, max } = REPLICATE_PROPERTIES.interval;
  let interval: number;
  try {
    interval = toNumber(props.interval, REPLICATE_PROPERTIES.interval.default, 'interval');
  } catch {
    throw option('interval', props.interval, min, max);
  }
  if (interval < min || interval > max) throw option('interval', props.interval, min, max);
  const instances = instanceIds(props.instances, option);
  return {
    instances,
    objects: parseObjects(toList(props.objects)),
    intervalMs: interval * 1000,
    ccDbAddress: parseDbAddress(toText(props.ccDbAddress ?? '')),
  };
}
