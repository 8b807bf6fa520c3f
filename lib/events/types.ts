/** What the event puller reports: its events, round results and state (no wording: nodes word it). */
import type { EventPullError } from './errors';
import type { Row } from './model';

export interface InstanceRef {
  id: number;
  name: string;
}

/**
 * One message's worth: events newly copied (`new`) or copies refreshed after a change (`update`).
 * `requests` are the reasons given to the requestRound() calls this instance round serves, oldest
 * first (empty for a round the puller started by itself).
 */
export interface EventBatch<T = unknown> {
  instance: InstanceRef;
  kind: 'new' | 'update';
  events: Row[];
  requests: T[];
}

/** A failure reported once per outage: `key` is the instance id, or `cc` for the Command Center. */
export interface PullProblem<T = unknown> {
  key: string;
  instance?: InstanceRef;
  error: EventPullError;
  /** As in EventBatch: the requestRound() calls whose round found the failure. */
  requests: T[];
}

/** The end of an outage reported by a `problem` with the same key. */
export interface PullRecovered {
  key: string;
  instance?: InstanceRef;
}

/** What one Instance's pull round did (lib/query and lib/replicate have reports of their own). */
export interface InstancePullReport {
  id: number;
  name: string;
  copied: number;
  updated: number;
  writtenBack: number;
  /** Seconds behind the instance; null before the first successful round. */
  lag: number | null;
  error?: EventPullError;
  /** requestRound() stopped waiting for this instance (it keeps running on its own). */
  pending?: boolean;
  /** Cluster: another member holds this instance's lease; nothing was done here. */
  elsewhere?: boolean;
}

export interface RoundResult {
  instances: InstancePullReport[];
  /** Registry rows that could not be used, and Command Center failures. */
  problems: EventPullError[];
}

export interface InstanceStatus {
  id: number;
  name: string;
  /** Seconds behind the instance; null before the first successful round. */
  lag: number | null;
  down: boolean;
  /** Why it is down. */
  error?: EventPullError;
  /** Cluster: another member holds this instance's lease; its lag and health are that member's. */
  elsewhere?: boolean;
}

/** The puller's state at a glance, for a status line. */
export interface PullerStatus {
  /** Why the Command Center cannot be used (every instance waits for it); null when it can. */
  commandCenter: EventPullError | null;
  instances: InstanceStatus[];
}

export interface EventPullerEvents<T = unknown> {
  batch: [EventBatch<T>];
  problem: [PullProblem<T>];
  recovered: [PullRecovered];
  /** Something a status line shows changed (a round ended, an instance came or went). */
  status: [];
}
