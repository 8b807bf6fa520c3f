/**
 * The queue planners, without a database: what a drain does with a page of a node's items (in id
 * order: runs of statements applied together, named operations passed over, a refusal that stops
 * the node), what a dry run would do with the items queued now, and the state a round leaves.
 */
import type { ReplicateError } from './errors';
import { checkItem, isNamedOperation, operationPayload, type QueueItem } from './queue-items';
import type { ParsedStatement } from './statement';
import type { InstanceState, PlannedItem } from './types';

export interface Step {
  item: QueueItem;
  parsed: ParsedStatement;
}

/** One thing a drain does, in id order. */
export type Segment =
  /** Statements applied in Instance transactions, then dequeued. */
  | { kind: 'apply'; steps: Step[] }
  /** A named operation: marked once and passed over, holding back nothing after it. */
  | { kind: 'operation'; item: QueueItem }
  /** The check refuses the item: it blocks its node, and the drain stops here. */
  | { kind: 'refused'; item: QueueItem; error: ReplicateError };

/**
 * A page of items as segments. A named operation splits the statements around it, so that
 * what is applied stays in id order with the queue; nothing after a refused item is planned.
 */
export function planPage(items: readonly QueueItem[]): Segment[] {
  const out: Segment[] = [];
  let steps: Step[] = [];
  const flush = () => {
    if (steps.length > 0) out.push({ kind: 'apply', steps });
    steps = [];
  };
  for (const item of items) {
    if (isNamedOperation(item.operation)) {
      flush();
      out.push({ kind: 'operation', item });
      continue;
    }
    try {
      steps.push({ item, parsed: checkItem(item, null) });
    } catch (err) {
      flush();
      out.push({ kind: 'refused', item, error: err as ReplicateError });
      return out;
    }
  }
  flush();
  return out;
}

/**
 * What a round would do with these items (a plan). `present`: the Instance's tables. After a
 * refused item, the statements of the node are `blocked`; named operations never are.
 */
export function planDryRun(items: readonly QueueItem[], present: Set<string>): PlannedItem[] {
  const out: PlannedItem[] = [];
  let blocked = false;
  for (const item of items) {
    const table = (item.table ?? '').trim();
    if (isNamedOperation(item.operation)) {
      out.push({
        id: item.id,
        table,
        action: 'named operation',
        operation: item.operation ?? '',
        carries: operationPayload(item),
      });
      continue;
    }
    try {
      const parsed = checkItem(item, present);
      out.push({
        id: item.id,
        table: parsed.table,
        verb: parsed.verb,
        action: blocked ? 'blocked' : 'apply',
      });
    } catch (err) {
      out.push({
        id: item.id,
        table,
        action: blocked ? 'blocked' : 'refused',
        error: err as ReplicateError,
      });
      blocked = true;
    }
  }
  return out;
}

/** The state a round leaves its Instance in. */
export function roundState(failed: boolean, pending: number, limit: number): InstanceState {
  if (failed) return 'failing';
  if (pending >= limit) return 'degraded';
  return pending > 0 ? 'behind' : 'in sync';
}
