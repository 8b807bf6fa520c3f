/** What the replicate engine reports: its typed events and the reports they carry. */
import type { Conflict, TableCounts } from './apply';
import type { ReplicateError } from './errors';
import type { SettingChange } from './settings';

export interface InstanceRef {
  id: number;
  name: string;
}

/**
 * `degraded`: the node's backlog reached sync_queue_items_max, where Pandora's console warns
 * (NOTIF.SYNCQUEUE.LENGTH).
 */
export type InstanceState = 'in sync' | 'behind' | 'degraded' | 'failing';

/** A queue item that is not SQL (Pandora's named operations, such as a plugin refresh). */
export interface NamedOperation {
  id: string;
  operation: string;
  table: string;
  /**
   * What the item carries in its `sql` column (a plugin refresh: the plugin's file URL or id),
   * decoded and cut short, so the operator can carry it out by hand.
   */
  carries: string;
}

/** What a dry run would do with one queued item. */
export interface PlannedItem {
  id: string;
  table: string;
  verb?: string;
  /** `blocked`: behind a refused item of the same node. */
  action: 'apply' | 'named operation' | 'refused' | 'blocked';
  /** A refused item: why. */
  error?: ReplicateError;
  /** A named operation: its name (the item's `operation` column). */
  operation?: string;
  /** A named operation: what it carries (its `sql` column, e.g. a plugin refresh's URL). */
  carries?: string;
}

/** The item blocking a node, with its failure (also in its `error` column). */
export interface BlockingItem {
  id: string;
  error: ReplicateError;
}

export interface QueueReport {
  dequeued: number;
  pending: number;
  /** sync_queue_items_max (Pandora's default 200): a backlog of this many is `degraded`. */
  limit: number;
  error?: BlockingItem;
  /** Named operations met for the first time (reported once, left in the queue). */
  operations: NamedOperation[];
  /** A plan only: the first queued items and what a round would do with each. */
  items?: PlannedItem[];
  /** A plan only: queued items beyond `items`. */
  more?: number;
}

/** One Instance's round: what it applied (`sync`) or would apply (`plan`). */
export interface ReplicaRoundReport {
  instance: InstanceRef;
  topic: 'sync' | 'plan';
  /** Why the round ran (`timer`, or what requestRound / requestPlan was given). */
  reason: string;
  applied: Record<string, TableCounts>;
  cascaded: Record<string, number>;
  /** Rows only the Instance has, kept because it is not centralised yet. */
  kept: Record<string, number>;
  queue: QueueReport;
  conflicts: Conflict[];
  errors: ReplicateError[];
  state: InstanceState;
}

/** An item removed by skip(). */
export interface SkipReport {
  instance: InstanceRef;
  item: {
    id: string;
    sql: string | null;
    table: string | null;
    operation: string | null;
    error: string | null;
  };
  /** Found applied on the Instance already (a crash between apply and dequeue). */
  appliedBefore: boolean;
  pending: number;
}

export interface MergeInstanceReport {
  instance: InstanceRef;
  applied: Record<string, TableCounts>;
  cascaded: Record<string, number>;
  /** Rows kept because deleting them would cascade into the Instance's data. */
  conflicts: Conflict[];
  errors: ReplicateError[];
  unified: boolean;
  /** tconfig tokens written on the Instance when it became unified. */
  settings: SettingChange[];
}

export interface MergeReport {
  commandCenter: { applied: Record<string, TableCounts> };
  /** Same id with different content, same name on different ids. */
  conflicts: Conflict[];
  instances: MergeInstanceReport[];
  /**
   * tconfig tokens written on the Command Center: only once every enabled node is unified, as
   * Pandora's console then queues every change of a shared object for every node. Until then
   * `notUnified` names the enabled nodes that are not.
   */
  settings: { commandCenter: SettingChange[]; notUnified?: InstanceRef[] };
}

/** An Instance's failures, reported once until they change or clear (`recovered`). */
export interface ReplicateProblem {
  instance: InstanceRef;
  report: ReplicaRoundReport;
}

export interface ReplicateEvents {
  /** Each Instance's round, as soon as it ends. */
  report: [ReplicaRoundReport];
  /** An Instance's sync round failed with errors other than last time's. */
  problem: [ReplicateProblem];
  /** An Instance's sync round succeeded after failing. */
  recovered: [InstanceRef];
  /** An automatic round could not start (the Command Center or its registry failed); once per outage. */
  failure: [ReplicateError];
  /** The Instances' states changed (counts per state). */
  status: [Record<InstanceState, number>];
}
