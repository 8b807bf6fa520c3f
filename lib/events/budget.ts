/**
 * What one batch may hold in memory. An Instance is another administrator's database: its events
 * may carry 64 KiB in each text column and any number of comments, so a batch is cut by the bytes
 * of its values (learnt from the Instance without reading them), not only by its count of events.
 */
import { EVENT_PULL_DEFAULTS } from './options';

/** The limits of one batch and of one event's comments (see EventPullOptions). */
export interface Budget {
  maxEvents: number;
  maxBytes: number;
  maxComments: number;
  maxCommentBytes: number;
}

type BudgetOptions = Pick<
  typeof EVENT_PULL_DEFAULTS,
  'batchSize' | 'maxBatchBytes' | 'maxCommentsPerEvent' | 'maxCommentBytes'
>;

/** The budget that event-pull's options set (their defaults when none are given). */
export function budgetOf(o: BudgetOptions = EVENT_PULL_DEFAULTS): Budget {
  return {
    maxEvents: o.batchSize,
    maxBytes: o.maxBatchBytes,
    maxComments: o.maxCommentsPerEvent,
    maxCommentBytes: o.maxCommentBytes,
  };
}

/**
 * Bytes counted per event beside its values: the four names (VARCHAR(600) at most in the copy),
 * the row's numbers and the object that holds them.
 */
export const EVENT_OVERHEAD = 4096;

/** Bytes counted per comment beside its text: the JSON keys and the time stamp. */
export const COMMENT_OVERHEAD = 64;

/** What a tevent_comment aggregate says about one event's comments. */
export interface CommentStat {
  count: number;
  /** Bytes of comment, action and id_user together. */
  bytes: number;
}

/** True when a copy cannot hold every comment of the event and keeps only the newest. */
export function overLimit(stat: CommentStat, budget: Budget): boolean {
  return stat.count > budget.maxComments || stat.bytes > budget.maxCommentBytes;
}

/** The most bytes a copy holds of an event's comments (the newest that fit both limits). */
export function keptCommentBytes(stat: CommentStat | undefined, budget: Budget): number {
  if (!stat) return 0;
  const count = Math.min(stat.count, budget.maxComments);
  return Math.min(stat.bytes, budget.maxCommentBytes) + count * COMMENT_OVERHEAD;
}

/**
 * How many of `sizes` (bytes of each event, in order) one batch takes: as many as fit both
 * limits, and always the first, whose size the schema bounds.
 */
export function fittingPrefix(sizes: number[], budget: Budget): number {
  let total = 0;
  let n = 0;
  for (const bytes of sizes) {
    if (n >= budget.maxEvents || (n > 0 && total + bytes > budget.maxBytes)) break;
    total += bytes;
    n++;
  }
  return n;
}

/** Splits items (in order, each with its size) into consecutive groups that fit `budget`. */
export function packed<T>(items: T[], sizeOf: (item: T) => number, budget: Budget): T[][] {
  const groups: T[][] = [];
  let group: T[] = [];
  let total = 0;
  for (const item of items) {
    const bytes = sizeOf(item);
    if (group.length > 0 && (group.length >= budget.maxEvents || total + bytes > budget.maxBytes)) {
      groups.push(group);
      group = [];
      total = 0;
    }
    group.push(item);
    total += bytes;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
