/**
 * The Tentacle server's options in one place: the tentacle-buffer node's properties (their
 * defaults and limits, which the editor reads through the node's settings), the engine's options
 * they become, and the engine's own defaults. Units: `timeout` is tentacle_server's `-t` in
 * seconds (it is a wire-compatible option); every duration the engine keeps is in milliseconds.
 */
import { parseFilters, type TentacleFilter } from './filters';
import { TentacleError } from './errors';
import { DEFAULT_PORT, inactivityMs } from './protocol';
import { toBool, toInteger, toText } from '../util/values';

const ANY = Number.MAX_SAFE_INTEGER;

/** The node's whole-number properties: defaults and limits (what the editor offers and checks). */
export const TENTACLE_BUFFER_PROPERTIES = {
  port: { default: DEFAULT_PORT, min: 1, max: 65_535 },
  maxSize: { default: 2_000_000, min: 1, max: ANY },
  maxConnections: { default: 10, min: 1, max: 10_000 },
  timeout: { default: 1, min: 1, max: 3600 },
  retries: { default: 3, min: 1, max: 1000 },
  quotaBytes: { default: 0, min: 0, max: ANY },
  quotaFiles: { default: 0, min: 0, max: ANY },
  /**
   * Names one LS answers at most (besides `.` and `..`), the first the directory gives; 0 = the
   * whole directory, as stock tentacle_server. A backlog of a million files then costs each LS
   * the same as ten thousand, and a puller takes the rest in its next rounds.
   */
  lsLimit: { default: 10_000, min: 0, max: ANY },
} as const;

/** The node's properties that are not numbers. */
export const TENTACLE_BUFFER_TEXT_DEFAULTS = {
  address: '0.0.0.0',
  insecure: true,
  overwrite: false,
} as const;

export interface TentacleServerOptions {
  /** `-a`, default 0.0.0.0. */
  address?: string;
  /** `-p`, default 41121; 0 picks a free port. */
  port?: number;
  /** `-s`; created if missing, with the filter directories. */
  storage: string;
  /** `-i` `regex:dir;regex:dir`. */
  filters?: string;
  /** `-I`: allow LS and MV. Default true. */
  insecure?: boolean;
  /** `-o`. */
  overwrite?: boolean;
  /** `-m` bytes, default 2000000. */
  maxSize?: number;
  /** `-c`, default 10. */
  maxConnections?: number;
  /** `-t` seconds, default 1. */
  timeout?: number;
  /** `-r`, default 3. */
  retries?: number;
  /** `-x`. */
  password?: string;
  /** `-e` `-k` `-f`, PEM contents. With `ca` a client certificate is required. */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer };
  /**
   * Clients that may take files (LS, RECV, ZRECV, MV): certificate subject CNs or SHA-256
   * fingerprints (./pullers). Everyone else may only SEND/ZSEND and is hung up on at any other
   * command, as the stock server does for LS/MV without `-I`. Empty: everyone (stock). Needs
   * `tls.ca` (only a verified certificate names a client).
   */
  pullers?: readonly string[];
  /** Bounds on what the storage holds; 0 = none. */
  quotaBytes?: number;
  quotaFiles?: number;
  /** Names one LS answers at most; 0 = all (see TENTACLE_BUFFER_PROPERTIES.lsLimit). */
  lsLimit?: number;
  /** How long close() lets running commands finish before cutting them. Default 5000. */
  closeGraceMs?: number;
  /**
   * Least time between two recounts of the storage (files put there or removed by others). A
   * recount reads every entry, so the next one waits at least 20 times as long as the last took.
   */
  rescanMs?: number;
}

export interface ResolvedServerOptions {
  address: string;
  port: number;
  storage: string;
  filters: TentacleFilter[];
  insecure: boolean;
  overwrite: boolean;
  maxSize: number;
  maxConnections: number;
  /** Inactivity limit: `timeout` × (`retries` + 1) seconds. */
  idleMs: number;
  password: string | null;
  tls: TentacleServerOptions['tls'];
  pullers: readonly string[];
  quotaBytes: number;
  quotaFiles: number;
  lsLimit: number;
  closeGraceMs: number;
  rescanMs: number;
  /** Connections waiting for a slot at most; more are cut. */
  queueLimit: number;
}

const P = TENTACLE_BUFFER_PROPERTIES;

/** Defaults applied field by field (an explicit `undefined` never replaces one). */
export function resolveServerOptions(options: TentacleServerOptions): ResolvedServerOptions {
  if (!options.storage) throw new TentacleError('ERR_STORAGE_REQUIRED');
  const pullers = options.pullers ?? [];
  if (pullers.length > 0 && !options.tls?.ca) throw new TentacleError('ERR_PULLERS_NEED_CA');
  const filters = parseFilters(options.filters);
  const storage = options.storage;
  return {
    address: options.address || TENTACLE_BUFFER_TEXT_DEFAULTS.address,
    port: options.port ?? P.port.default,
    storage: storage.length > 1 ? storage.replace(/\/$/, '') : storage,
    filters,
    insecure: options.insecure ?? TENTACLE_BUFFER_TEXT_DEFAULTS.insecure,
    overwrite: options.overwrite ?? TENTACLE_BUFFER_TEXT_DEFAULTS.overwrite,
    maxSize: options.maxSize ?? P.maxSize.default,
    maxConnections: Math.max(1, options.maxConnections ?? P.maxConnections.default),
    idleMs: inactivityMs(
      options.timeout ?? P.timeout.default,
      options.retries ?? P.retries.default,
    ),
    password: options.password || null,
    tls: options.tls,
    pullers,
    quotaBytes: options.quotaBytes ?? P.quotaBytes.default,
    quotaFiles: options.quotaFiles ?? P.quotaFiles.default,
    lsLimit: Math.max(0, options.lsLimit ?? P.lsLimit.default),
    closeGraceMs: options.closeGraceMs ?? 5000,
    rescanMs: options.rescanMs ?? 30_000,
    queueLimit: 1024,
  };
}

/** The node's properties as the editor stores them (strings or numbers, maybe empty). */
export interface TentacleBufferProps {
  address?: unknown;
  port?: unknown;
  storage?: unknown;
  filters?: unknown;
  insecure?: unknown;
  overwrite?: unknown;
  maxSize?: unknown;
  maxConnections?: unknown;
  timeout?: unknown;
  retries?: unknown;
  tlsCert?: unknown;
  tlsKey?: unknown;
  tlsCa?: unknown;
  pullers?: unknown;
  quotaBytes?: unknown;
  quotaFiles?: unknown;
  lsLimit?: unknown;
}

/** Paths of the PEM files the node reads (lib/tls/pem) before it builds the server. */
export interface TentacleBufferTlsPaths {
  cert: string;
  key: string;
  ca: string;
}

function whole(props: TentacleBufferProps, name: keyof typeof P): number {
  const { default: fallback, min, max } = P[name];
  const value = props[name];
  try {
    return toInteger(value, fallback, name, min, max);
  } catch {
    throw new TentacleError('ERR_OPTION', {
      name,
      min,
      max: max === ANY ? '∞' : max,
      value: JSON.stringify(value) ?? 'undefined',
    });
  }
}

function flag(props: TentacleBufferProps, name: 'insecure' | 'overwrite'): boolean {
  try {
    return toBool(props[name], TENTACLE_BUFFER_TEXT_DEFAULTS[name], name);
  } catch {
    throw new TentacleError('ERR_OPTION_FLAG', {
      name,
      value: JSON.stringify(props[name]) ?? 'undefined',
    });
  }
}

/**
 * The server's options from the node's properties (all but TLS, whose files the node reads),
 * and the TLS paths; throws TentacleError ERR_OPTION naming the first bad property.
 */
export function optionsFromProperties(
  props: TentacleBufferProps,
  password: string | undefined,
): { options: Omit<TentacleServerOptions, 'tls'>; tlsPaths: TentacleBufferTlsPaths } {
  const storage = toText(props.storage);
  if (!storage) throw new TentacleError('ERR_STORAGE_REQUIRED');
  return {
    options: {
      address: toText(props.address, TENTACLE_BUFFER_TEXT_DEFAULTS.address),
      port: whole(props, 'port'),
      storage,
      filters: toText(props.filters) || undefined,
      insecure: flag(props, 'insecure'),
      overwrite: flag(props, 'overwrite'),
      maxSize: whole(props, 'maxSize'),
      maxConnections: whole(props, 'maxConnections'),
      timeout: whole(props, 'timeout'),
      retries: whole(props, 'retries'),
      quotaBytes: whole(props, 'quotaBytes'),
      quotaFiles: whole(props, 'quotaFiles'),
      lsLimit: whole(props, 'lsLimit'),
      password: password || undefined,
      // Commas only: a CN may hold spaces.
      pullers: toText(props.pullers)
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== ''),
    },
    tlsPaths: { cert: toText(props.tlsCert), key: toText(props.tlsKey), ca: toText(props.tlsCa) },
  };
}
