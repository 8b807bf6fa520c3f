/**
 * What one tsync_queue item is: a statement to apply (checked against the rules here, without a
 * database) or one of Pandora's named operations. Every single-statement INSERT / UPDATE /
 * DELETE / REPLACE that writes one centrally managed table named in the item's `table` column is
 * applied (statement.ts decides what a statement writes); anything else is refused.
 */
import { ReplicateError } from './errors';
import { queueSql } from './sqltext';
import { ParsedStatement, parseStatement, Refusal } from './statement';
import { MANAGED } from './tables';

export interface QueueItem {
  id: string;
  sql: string | null;
  table: string | null;
  operation: string | null;
  error: string | null;
}

/** What a named operation's item carries is cut to this many characters for the operator. */
const CARRIES_MAX = 500;

const SQL_OPERATION = /^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i;

/** True when the item is one of Pandora's named operations rather than a statement. */
export function isNamedOperation(operation: string | null): boolean {
  const op = (operation ?? '').trim();
  return op !== '' && !SQL_OPERATION.test(op);
}

/** What a named operation's item carries, as an operator can read it. */
export function operationPayload(item: Pick<QueueItem, 'sql'>): string {
  const text = queueSql(item.sql ?? '').trim();
  return text.length > CARRIES_MAX ? `${text.slice(0, CARRIES_MAX)}…` : text;
}

/** The note a named operation's item gets: it is left in the queue for the operator. */
export function namedOperationNote(item: QueueItem): ReplicateError {
  const operation = (item.operation ?? '').trim();
  const carries = operationPayload(item);
  return carries
    ? new ReplicateError('ERR_REPLICATE_NAMED_OPERATION_CARRYING', {
        item: item.id,
        operation,
        carries,
      })
    : new ReplicateError('ERR_REPLICATE_NAMED_OPERATION', { item: item.id, operation });
}

/**
 * The same statement text is queued once per node: remember recent readings so each text is
 * parsed once, not once per Instance.
 */
const parsedCache = new Map<string, ParsedStatement | Refusal>();
const PARSED_CACHE_MAX = 2000;

export function readStatement(text: string): ParsedStatement | Refusal {
  let r = parsedCache.get(text);
  if (!r) {
    r = parseStatement(text);
    if (parsedCache.size >= PARSED_CACHE_MAX) parsedCache.clear();
    parsedCache.set(text, r);
  }
  return r;
}

/**
 * Checks an item against the rules: the statement to run, or the refusal (thrown). `present`:
 * the Instance's tables, when known (a plan); null when the Instance itself will say.
 */
export function checkItem(item: QueueItem, present: Set<string> | null): ParsedStatement {
  const id = String(item.id);
  const declared = (item.table ?? '').replace(/`/g, '').trim().toLowerCase();
  if (!declared) throw new ReplicateError('ERR_REPLICATE_ITEM_NO_TABLE', { item: id });
  const parsed = readStatement(queueSql(item.sql ?? ''));
  if ('error' in parsed) {
    throw new ReplicateError('ERR_REPLICATE_ITEM_STATEMENT', { item: id, refusal: parsed.error });
  }
  if (!MANAGED.has(parsed.table)) {
    throw new ReplicateError('ERR_REPLICATE_ITEM_UNMANAGED', { item: id, table: parsed.table });
  }
  if (declared !== parsed.table) {
    throw new ReplicateError('ERR_REPLICATE_ITEM_TABLE_MISMATCH', {
      item: id,
      declared,
      table: parsed.table,
    });
  }
  if (present && !present.has(parsed.table)) {
    throw new ReplicateError('ERR_REPLICATE_ITEM_MISSING_TABLE', { item: id, table: parsed.table });
  }
  return parsed;
}

/** Whether `err` is the check's refusal of an item (rather than a failure of a database). */
export function isRefusal(err: unknown): err is ReplicateError {
  return err instanceof ReplicateError && err.code.startsWith('ERR_REPLICATE_ITEM_');
}
