/**
 * One buffer's part of a round: wait out its backoff (timer rounds), connect, `LS <>` once, split
 * the takeable names among parallel connections (disjoint shares, share-drain.ts), and sum what
 * they did into the buffer's summary.
 */
import type { SharedDeliveries } from '../cluster/gate';
import type { BufferEndpoint } from '../conf/pandora-conf';
import type { TentacleClient } from '../tentacle/client';
import type { TlsMaterial } from '../tls/material';
import type { BackoffMap } from '../util/backoff';
import { bufferFailureText } from './failure-text';
import { splitShares, takeableNames } from './names';
import { drainShare, type DrainContext } from './share-drain';
import type { BufferSummary } from './types';

export interface BufferPullHost {
  /** The incoming directory ready (prepared once; a failure is a local one). */
  prepare(): Promise<DrainContext>;
  readonly backoff: BackoffMap<string>;
  readonly pattern: RegExp;
  /** Connections to one buffer at the same time. */
  readonly connections: number;
  readonly tls?: TlsMaterial;
  /** Cluster only: the records of stored-not-yet-removed files. */
  readonly shared?: SharedDeliveries;
}

/** Pulls one buffer; never rejects: the summary carries any error. */
export async function pullBuffer(
  host: BufferPullHost,
  b: BufferEndpoint,
  manual: boolean,
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
  try {
    ctx = await host.prepare();
    first = await ctx.connections.open(b);
    const names = takeableNames(await first.ls(''), host.pattern);
    summary.listed = names.length;
    // Cluster: records of files no longer listed have done their work. Not earlier (after the
    // MV): our buffer removes a moved file only when the puller's next line arrives.
    if (host.shared) await host.shared.prune(b.address, names);
    const shares = splitShares(names, host.connections);
    const given = first;
    first = null;
    const drain = ctx;
    const outcomes = await Promise.all(
      shares.map((share, i) => drainShare(drain, b, share, i === 0 ? given : null)),
    );
    if (shares.length === 0) await drain.connections.release(given, true);
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
