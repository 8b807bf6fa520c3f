/**
 * tentacle-pull's options in one place: the node's properties (seconds and bytes, as the editor
 * shows them), their defaults and limits (the editor reads these through the node's settings),
 * and the engine's options (milliseconds) they become.
 */
import type { SharedDeliveries, UnitGate } from '../cluster/gate';
import type { BufferEndpoint } from '../conf/pandora-conf';
import type { TlsMaterial } from '../tls/material';
import { optionFacts } from '../util/options';
import { toBool, toInteger, toText } from '../util/values';
import { SyncError } from './errors';
import { DeliveryJournal } from './journal';
import { DEFAULT_PATTERN, compilePattern } from './names';

export type DeliverMode = 'dir' | 'msg' | 'both';
export const DELIVER_MODES: readonly DeliverMode[] = ['dir', 'msg', 'both'];

/** The node's properties, their defaults and limits: what the editor offers and checks. */
export const TENTACLE_PULL_PROPERTIES = {
  /** Seconds between rounds; 0 = only when a message asks. */
  interval: { default: 5, min: 0, max: 86_400 },
  /** Buffers pulled at the same time. */
  concurrency: { default: 4, min: 1, max: 64 },
  /** Connections to one buffer at the same time (2 of the stock server's 10 left to agents). */
  connections: { default: 8, min: 1, max: 64 },
  /** Bytes: a listed file larger than this stays on its buffer (like tentacle_server -m). */
  maxSize: { default: 2_000_000, min: 1, max: Number.MAX_SAFE_INTEGER },
  deliver: { default: 'dir' as DeliverMode, values: DELIVER_MODES },
  pattern: { default: DEFAULT_PATTERN },
  safe: { default: true },
} as const;

export interface SyncPullerOptions {
  buffers: BufferEndpoint[];
  incomingDir: string;
  deliver?: DeliverMode;
  pattern: RegExp;
  /** Milliseconds between the end of a timer round and the next; 0 = only requestRound(). */
  intervalMs?: number;
  /** Buffers drained (files taken) at the same time. */
  concurrency?: number;
  /**
   * Buffers connected to and listed at the same time. Listing an empty buffer is a few round
   * trips of waiting, so many are listed at once; only those with files take a drain slot.
   */
  listConcurrency?: number;
  /**
   * Milliseconds a buffer may take to connect and answer its listing while it holds a listing
   * slot; past that it goes on outside them (an unreachable or blackholed buffer waits out
   * `timeout` without holding back the others).
   */
  listWaitMs?: number;
  /** Connections to one buffer at the same time. */
  connections?: number;
  safe?: boolean;
  tls?: TlsMaterial;
  /** The buffers' Tentacle password (`-x`). */
  password?: string;
  /**
   * `sync_timeout` and `sync_retries` as Pandora's tokens give them: seconds per socket wait, and
   * misses before a wait fails (the Tentacle client's units, passed through unchanged).
   */
  timeout?: number;
  retries?: number;
  /** Milliseconds to wait for a TCP/TLS connection (and TLS/PASS); defaults to `timeout`. */
  connectTimeoutMs?: number;
  /** Delivery journal path; default `DeliveryJournal.pathFor(incomingDir)`. */
  journalPath?: string;
  /** Deliveries the journal remembers. */
  journalLimit?: number;
  /** Longest wait before a failed buffer is tried again, ms. */
  maxBackoffMs?: number;
  /** First wait after a failure, ms (doubles per failure). */
  baseBackoffMs?: number;
  /**
   * Bytes: a file a buffer offers larger than this is declined and left there, reported once
   * (`oversized`). Also bounds what a buffer can make this side write for one file.
   */
  maxSize?: number;
  /** Several Node-RED hosts (pandora-config `cluster`): only the buffers whose lease is held here. */
  gate?: UnitGate;
  /** With `gate`: the stored-not-yet-removed files, shared by the members. */
  shared?: SharedDeliveries;
}

type Optional = 'tls' | 'password' | 'journalPath' | 'connectTimeoutMs' | 'gate' | 'shared';

export type ResolvedSyncOptions = Required<Omit<SyncPullerOptions, Optional>> &
  Pick<SyncPullerOptions, Optional> & { journalPath: string; connectTimeoutMs: number };

type Tunable = Exclude<
  keyof SyncPullerOptions,
  Optional | 'buffers' | 'incomingDir' | 'pattern' | 'deliver' | 'safe'
>;

export const SYNC_DEFAULTS: Record<Tunable, number> & { deliver: DeliverMode; safe: boolean } = {
  intervalMs: TENTACLE_PULL_PROPERTIES.interval.default * 1000,
  concurrency: TENTACLE_PULL_PROPERTIES.concurrency.default,
  connections: TENTACLE_PULL_PROPERTIES.connections.default,
  maxSize: TENTACLE_PULL_PROPERTIES.maxSize.default,
  deliver: TENTACLE_PULL_PROPERTIES.deliver.default,
  safe: TENTACLE_PULL_PROPERTIES.safe.default,
  /** Pandora's own sync_timeout and sync_retries defaults. */
  listConcurrency: 64,
  listWaitMs: 1_000,
  timeout: 10,
  retries: 3,
  journalLimit: 10_000,
  maxBackoffMs: 300_000,
  baseBackoffMs: 5_000,
};

const MINIMUM: Record<Tunable, number> = {
  intervalMs: 0,
  concurrency: 1,
  connections: 1,
  maxSize: 1,
  listConcurrency: 1,
  listWaitMs: 0,
  timeout: 0,
  retries: 0,
  journalLimit: 1,
  maxBackoffMs: 0,
  baseBackoffMs: 0,
};

function optionError(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER) {
  return new SyncError('ERR_SYNC_OPTION', {
    ...optionFacts(name, value, min, max),
    max: max === Number.MAX_SAFE_INTEGER ? '∞' : max,
  });
}

/**
 * Defaults applied field by field (an explicit `undefined` never replaces one); values the
 * engine cannot use refused with ERR_SYNC_OPTION.
 */
export function resolveOptions(options: SyncPullerOptions): ResolvedSyncOptions {
  const tuned: Record<string, number> = {};
  for (const key of Object.keys(MINIMUM) as Tunable[]) {
    const v = options[key] ?? SYNC_DEFAULTS[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < MINIMUM[key]) {
      throw optionError(key, v, MINIMUM[key]);
    }
    tuned[key] = v;
  }
  const deliver = options.deliver ?? SYNC_DEFAULTS.deliver;
  if (!DELIVER_MODES.includes(deliver)) {
    throw new SyncError('ERR_SYNC_DELIVER', { modes: DELIVER_MODES.join(', '), value: deliver });
  }
  const timeout = tuned.timeout;
  return {
    ...(tuned as Record<Tunable, number>),
    buffers: options.buffers,
    incomingDir: options.incomingDir,
    pattern: options.pattern,
    deliver,
    safe: options.safe ?? SYNC_DEFAULTS.safe,
    tls: options.tls,
    password: options.password,
    gate: options.gate,
    shared: options.shared,
    connectTimeoutMs: options.connectTimeoutMs ?? timeout * 1000,
    journalPath: options.journalPath ?? DeliveryJournal.pathFor(options.incomingDir),
  };
}

/** The node's properties as its flow stores them (strings from the editor, or typed values). */
export interface TentaclePullProps {
  interval?: unknown;
  deliver?: unknown;
  pattern?: unknown;
  concurrency?: unknown;
  connections?: unknown;
  maxSize?: unknown;
  safe?: unknown;
}

type FromProperties = Required<
  Pick<
    SyncPullerOptions,
    'intervalMs' | 'deliver' | 'pattern' | 'concurrency' | 'connections' | 'maxSize' | 'safe'
  >
>;

/** The engine's options from the node's properties; throws SyncError (OPTION, DELIVER, PATTERN). */
export function optionsFromProperties(props: TentaclePullProps): FromProperties {
  const P = TENTACLE_PULL_PROPERTIES;
  const whole = (name: 'interval' | 'concurrency' | 'connections' | 'maxSize'): number => {
    const { default: fallback, min, max } = P[name];
    try {
      return toInteger(props[name], fallback, name, min, max);
    } catch {
      throw optionError(name, props[name], min, max);
    }
  };
  const deliver = toText(props.deliver, P.deliver.default) as DeliverMode;
  if (!DELIVER_MODES.includes(deliver)) {
    throw new SyncError('ERR_SYNC_DELIVER', { modes: DELIVER_MODES.join(', '), value: deliver });
  }
  let safe: boolean;
  try {
    safe = toBool(props.safe, P.safe.default, 'safe');
  } catch {
    throw new SyncError('ERR_SYNC_BOOLEAN', { name: 'safe', value: JSON.stringify(props.safe) });
  }
  return {
    intervalMs: whole('interval') * 1000,
    deliver,
    pattern: compilePattern(toText(props.pattern)),
    concurrency: whole('concurrency'),
    connections: whole('connections'),
    maxSize: whole('maxSize'),
    safe,
  };
}
