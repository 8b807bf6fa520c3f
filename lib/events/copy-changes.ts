/**
 * The decisions of the change re-poll and of the write-back, without a database: which copies
 * must be refreshed from their event, and which validations made on a copy go back to the
 * Instance. The reads and writes around them are instance-copy.ts's.
 */
import { createHash } from 'node:crypto';
import { sameState, type CopyState, type EventState, type StateSum } from './model';
import type { PullMode } from './options';

/** The first id of the re-check window below the checkpoint (ids above it are re-read). */
export function recheckFrom(lastId: bigint, window: number): bigint {
  return lastId > BigInt(window) ? lastId - BigInt(window) : 0n;
}

/** Ids per bucket of the re-check window: both sides sum a bucket; only differing ones are read. */
export const RECHECK_BUCKET = 100;

/**
 * The id ranges (from, to] of the re-check window (from, to] whose buckets of RECHECK_BUCKET ids
 * differ between the Instance and the copy (count or state checksum), merged when adjacent.
 */
export function differingRanges(
  from: bigint,
  to: bigint,
  instance: StateSum[],
  copy: StateSum[],
): [bigint, bigint][] {
  const theirs = new Map(copy.map((s) => [s.bucket, s]));
  const buckets = new Set<number>();
  for (const s of instance) {
    const c = theirs.get(s.bucket);
    if (!c || c.count !== s.count || c.sum !== s.sum) buckets.add(s.bucket);
    theirs.delete(s.bucket);
  }
  // Copies whose event is gone from the window (nothing to refresh them from, but the same
  // rows as before: the compare below finds nothing to do).
  for (const b of theirs.keys()) buckets.add(b);
  const ranges: [bigint, bigint][] = [];
  for (const b of [...buckets].sort((x, y) => x - y)) {
    const lo = from + BigInt(b) * BigInt(RECHECK_BUCKET);
    const hi = lo + BigInt(RECHECK_BUCKET) < to ? lo + BigInt(RECHECK_BUCKET) : to;
    const last = ranges.at(-1);
    if (last && last[1] === lo) last[1] = hi;
    else ranges.push([lo, hi]);
  }
  return ranges;
}

/** Comments can commit out of id order too: the comment re-poll looks this far behind its cursor. */
export const COMMENT_LOOKBACK = 200n;

export function commentScanFrom(lastCommentId: bigint): bigint {
  return lastCommentId > COMMENT_LOOKBACK ? lastCommentId - COMMENT_LOOKBACK : 0n;
}

/**
 * Events whose copy must be refreshed: those with a copy that differs, and those without one
 * that the mode wants (every event, or a validated one with only_validated).
 */
export function changedEvents(
  candidates: Map<bigint, EventState>,
  copies: Map<bigint, CopyState>,
  mode: PullMode,
): Set<bigint> {
  const changed = new Set<bigint>();
  for (const [id, s] of candidates) {
    const copy = copies.get(id);
    const wanted = mode === 'all' || s.estado === 1 || copy !== undefined;
    if (wanted && (!copy || !sameState(s, copy))) changed.add(id);
  }
  return changed;
}

/** The digest a copy's user_comment is compared by (its text is never read back). */
export function commentDigest(text: string): string {
  return createHash('sha1').update(text, 'utf8').digest('hex');
}

/** Ids in ascending order (batches of changes are written in id order). */
export function ascending(ids: Iterable<bigint>): bigint[] {
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Validations made on the Command Center's copies that go back to the Instance: a copy that
 * differs from its event and is newer (ack_utimestamp) than the event's own last change; and
 * how far the write-back has looked (`lastCcAck`).
 */
export function writeBacks(
  copies: EventState[],
  here: Map<bigint, EventState>,
  lastCcAck: number,
): { writes: EventState[]; lastCcAck: number } {
  const writes: EventState[] = [];
  let last = lastCcAck;
  for (const c of copies) {
    last = Math.max(last, Number(c.ack_utimestamp));
    const mine = here.get(c.id);
    if (!mine || sameState(mine, c)) continue;
    if (BigInt(c.ack_utimestamp) <= BigInt(mine.ack_utimestamp)) continue;
    writes.push(c);
  }
  return { writes, lastCcAck: last };
}
