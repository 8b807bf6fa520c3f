/**
 * One buffer's part of a round: wait out its backoff (timer rounds), connect, `LS <>` once; with
 * names to take, wait for one of the drain slots (`concurrency`), split the names among parallel
 * connections (disjoint shares, share-drain.ts), and sum what they did into the buffer's summary.
 * An empty buffer costs one connection and one listing, and never a drain slot.
 */
import type { SharedDeliveries } from '../cluster/gate';
import type { BufferEndpoint } from '../conf/pandora-conf';
import type { TentacleClient } from '../tentacle/client';
import type { TlsMaterial } from '../tls/material';
import type { BackoffMap } from '../util/backoff';
import { bufferFailureText } from './failure-text';
import type { Semaphore } from './slots';
import { splitShares, surelyWhole, takeableNames } from './names';
import { drainShare, type DrainContext } from './share-drain';
import type { BufferSummary } from './types';

export interface BufferPullHost {
  /** The incoming directory ready (prepared once; a failure is a local one). */
  prepare(): Promise<DrainContext>;
  readonly backoff: BackoffMap<string>;
  readonly pattern: RegExp;
  /** Connections to one buffer at the same time. */
  readonly connections: number;
  /** Buffers drained at the same time (`concurrency`). */
  readonly drainSlots: Semaphore;
  readonly tls?: TlsMaterial;
  /** Cluster only: the records of stored-not-yet-removed files. */
  readonly shared?: SharedDeliveries;
}

/**
 * Pulls one buffer; never rejects: the summary carries any error. `listed` is called once the
 * buffer answered its listing (not for a buffer that fails before).
 */
export async function pullBuffer(
  host: BufferPullHost,
  b: BufferEndpoint,
  manual: boolean,
  listed: () => void = () => undefined,
): Promise<BufferSummary> {
  const t0 = Date.now();
  const summary: BufferSummary = { address: b.address, files: 0, bytes: 0, ms: 0, error: null };
  const st = host.backoff.peek(b.address);
  if (!manual && st?.waiting) {
    summary.skipped = true;
    summary.retryAt = st.retryAt;
    summary.error = `waiting until ${new Date(st.retryAt).toISOString()} after: ${st.lastError}`;
    return summary;
  }
  const errors: string[] = [];
  const text = (err: unknown) => bufferFailureText(b.address, err, host.tls);
  let first: TentacleClient | null = null;
  let ctx: DrainContext | null = null;
  let drainSlot: (() => void) | null = null;
  try {
    ctx = await host.prepare();
    first = await ctx.connections.open(b);
    const listing = await first.ls('');
    const names = takeableNames(listing, host.pattern);
    summary.listed = names.length;
    listed();
    // Cluster: records of files no longer listed have done their work. Not earlier (after the
    // MV): our buffer removes a moved file only when the puller's next line arrives. Not from a
    // listing that may be cut (a backlog): a record pruned while its file is still held, unlisted,
    // would let the file be delivered a second time once listed again.
    if (host.shared && surelyWhole(listing.length)) await host.shared.prune(b.address, names);
    const shares = splitShares(names, host.connections);
    if (shares.length === 0) {
      const idle = first;
      first = null;
      await ctx.connections.release(idle, true);
    } else {
      // The listing's connection is the first share's when a drain slot is free now; else it
      // goes (a connection idle while other buffers drain would time out on the buffer's side).
      drainSlot = host.drainSlots.tryAcquire();
      if (!drainSlot) {
        const idle = first;
        first = null;
        await ctx.connections.release(idle, true);
        drainSlot = await host.drainSlots.acquire();
      }
    }
    const given = first;
    first = null;
    const drain = ctx;
    const outcomes = await Promise.all(
      shares.map((share, i) => drainShare(drain, b, share, i === 0 ? given : null)),
    );
    let left = 0;
    let oversized = 0;
    for (const r of outcomes) {
      summary.files += r.files;
      summary.bytes += r.bytes;
      left += r.left;
      oversized += r.oversized;
      if (r.failure !== null) errors.push(text(r.failure));
    }
    summary.left = left;
    if (oversized) summary.oversized = oversized;
  } catch (err) {
    errors.push(text(err));
    await ctx?.connections.release(first, false);
  } finally {
    drainSlot?.();
  }
  summary.ms = Date.now() - t0;
  summary.error = errors.length ? [...new Set(errors)].join('; ') : null;
  const state = host.backoff.of(b.address);
  if (summary.error && summary.files === 0) {
    state.fail(summary.error);
    summary.retryAt = state.retryAt;
  } else {
    state.succeed();
  }
  return summary;
}
