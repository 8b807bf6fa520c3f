/** What the agent cache engine reports: its typed events and the state a status line shows. */
import type { AgentCacheError } from './errors';
import type { RoundCounts } from './instance-round';

export interface InstanceRef {
  id: number;
  name: string;
}

/** One Instance's finished round. */
export interface InstanceRound extends RoundCounts, InstanceRef {
  /** Why the round ran (`timer`, or what requestRound was given). */
  reason: string;
  ms: number;
}

/** What requestRound() resolves with for each Instance. */
export type InstanceOutcome =
  | ({ outcome: 'done' } & InstanceRound)
  | (InstanceRef & { outcome: 'failed'; error: AgentCacheError })
  /** Still running when requestRound stopped waiting (roundTimeoutMs). */
  | (InstanceRef & { outcome: 'running' })
  /** With `cluster` on: another member holds this Instance's lease. */
  | (InstanceRef & { outcome: 'elsewhere' });

export interface RoundSummary {
  reason: string;
  instances: InstanceOutcome[];
  /** The Command Center's or the registry's problems met by this round. */
  problems: AgentCacheError[];
}

/** Reported once when something goes wrong, until `recovered` with the same key. */
export interface CacheProblem {
  /** `cc`, `registry:<id>` or `instance:<id>`. */
  key: string;
  instance?: InstanceRef;
  error: AgentCacheError;
}

export interface CacheRecovered {
  key: string;
  instance?: InstanceRef;
}

/** Rows of an Instance no longer worked (removed or deactivated in tmetaconsole_setup) removed. */
export interface CachePurged {
  id: number;
  rows: number;
}

export interface InstanceState extends InstanceRef {
  /** Agents the Instance had at its last good round (null before one). */
  agents: number | null;
  /** Seconds since the start of the last good round: how old the cache's picture may be. */
  lag: number | null;
  down: boolean;
  /** With `cluster` on: worked by another member. */
  elsewhere: boolean;
}

export interface CacheStatus {
  /** The Command Center's problem, or null when it answers. */
  commandCenter: AgentCacheError | null;
  instances: InstanceState[];
}

export interface AgentCacheEvents {
  round: [InstanceRound];
  problem: [CacheProblem];
  recovered: [CacheRecovered];
  purged: [CachePurged];
  status: [CacheStatus];
}
