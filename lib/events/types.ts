/** What the event puller reports: its events, round results and state (no wording: nodes word it). */
import type { Row } from './instance-side';

export interface InstanceRef {
  id: number;
  name: string;
}

/**
 * One message's worth: events newly copied (`new`) or copies refreshed after a change (`update`).
 * `requests` are the values given to the round() calls this instance round serves, oldest first
 * (empty for a round the puller started by itself).
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
  message: string;
  error: Error;
  /** As in EventBatch: the round() calls whose round found the failure. */
  requests: T[];
}

/** The end of an outage reported by a `problem` with the same key. */
export interface PullRecovered {
  key: string;
  instance?: InstanceRef;
}

export interface InstanceReport {
  id: number;
  name: string;
  copied: number;
  updated: number;
  writtenBack: number;
  /** Seconds behind the instance; null before the first successful round. */
  lag: number | null;
  error?: string;
  /** round() stopped waiting for this instance (it keeps running on its own). */
  pending?: boolean;
  /** Cluster: another member holds this instance's lease; nothing was done here. */
  elsewhere?: boolean;
}

export interface RoundResult {
  instances: InstanceReport[];
  /** Registry rows that could not be used, and Command Center failures. */
  problems: string[];
}

export interface InstanceStatus {
  id: number;
  name: string;
  /** Seconds behind the instance; null before the first successful round. */
  lag: number | null;
  down: boolean;
  /** Why it is down. */
  message?: string;
  /** Cluster: another member works this instance; its lag and health are that member's to show. */
  elsewhere?: boolean;
}

/** The puller's state at a glance, for a status line. */
export interface PullerStatus {
  /** Why the Command Center cannot be used (every instance waits for it); null when it can. */
  commandCenter: string | null;
  instances: InstanceStatus[];
}

export interface EventPullerEvents<T = unknown> {
  batch: [EventBatch<T>];
  problem: [PullProblem<T>];
  recovered: [PullRecovered];
  /** Something a status line shows changed (a round ended, an instance came or went). */
  status: [];
}
