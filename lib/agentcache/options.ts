/**
 * agent-cache's options in one place: the node's properties (seconds, as the editor shows them),
 * their defaults and limits (the editor reads these through the node's settings), and the
 * engine's options (milliseconds) they become.
 */
import type { UnitGate } from '../cluster/gate';
import type { Pool } from '../db/pool';
import { instanceIds, optionFacts, resolveNumbers } from '../util/options';
import { toNumber } from '../util/values';
import { AgentCacheError } from './errors';

/** The node's properties, their defaults and limits: what the editor offers and checks. */
export const AGENT_CACHE_PROPERTIES = {
  /** Seconds between rounds; 0 = only when a message asks. */
  interval: { default: 5, min: 0, max: 86_400 },
} as const;

export interface AgentCacheOptions {
  /** The Command Center database (the pandora-config node's pool; not closed by the engine). */
  cc: Pool;
  /** tmetaconsole_setup ids; empty = every enabled row. */
  instances?: number[];
  /** Milliseconds between rounds; 0 = only when requestRound() is called. */
  intervalMs?: number;
  /** Agent ids per checksummed range (the unit the cheap comparison works in). */
  rangeSize?: number;
  /** Agents written in one Command Center transaction at most. */
  writeBatch?: number;
  /** How long requestRound() waits for one Instance before reporting it as still running. */
  roundTimeoutMs?: number;
  /**
   * Milliseconds between full checks of the cache side. In between, a round computes the
   * Command Center's figures only of ranges whose Instance figures moved, so a hand edit of the
   * cache is mended at the next full check; 0 = every round is full.
   */
  auditMs?: number;
  /** Several Node-RED hosts (pandora-config `cluster`): only the Instances leased here. */
  gate?: UnitGate;
}

type Tunable = Omit<AgentCacheOptions, 'cc' | 'instances' | 'gate'>;

export type ResolvedAgentCacheOptions = Required<Tunable> & {
  cc: Pool;
  instances: number[];
  gate?: UnitGate;
};

export const AGENT_CACHE_DEFAULTS: Required<Tunable> = {
  intervalMs: AGENT_CACHE_PROPERTIES.interval.default * 1000,
  rangeSize: 500,
  writeBatch: 2000,
  roundTimeoutMs: 60_000,
  auditMs: 60_000,
};

const MINIMUM: Record<keyof Tunable, number> = {
  intervalMs: 0,
  rangeSize: 1,
  writeBatch: 1,
  roundTimeoutMs: 1,
  auditMs: 0,
};

function option(name: string, value: unknown, min: number, max?: number) {
  return new AgentCacheError('ERR_AGENT_CACHE_OPTION', optionFacts(name, value, min, max));
}

/** Defaults applied field by field (`undefined` = absent); values the engine cannot use refused. */
export function resolveOptions(options: AgentCacheOptions): ResolvedAgentCacheOptions {
  const out = resolveNumbers(AGENT_CACHE_DEFAULTS, MINIMUM, options, option);
  return {
    ...(out as Required<Tunable>),
    cc: options.cc,
    instances: options.instances ?? [],
    gate: options.gate,
  };
}

export interface AgentCacheProps {
  instances?: unknown;
  interval?: unknown;
}

/** The engine's options from the node's properties; throws ERR_AGENT_CACHE_OPTION. */
export function optionsFromProperties(
  props: AgentCacheProps,
): Pick<AgentCacheOptions, 'instances' | 'intervalMs'> {
  const { min, max } = AGENT_CACHE_PROPERTIES.interval;
  let interval: number;
  try {
    interval = toNumber(props.interval, AGENT_CACHE_PROPERTIES.interval.default, 'interval');
  } catch {
    throw option('interval', props.interval, min, max);
  }
  if (interval < min || interval > max) throw option('interval', props.interval, min, max);
  const instances = instanceIds(props.instances, option);
  return { instances, intervalMs: interval * 1000 };
}
