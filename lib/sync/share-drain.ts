/**
 * Runs one connection's share of a buffer (share.ts decides the steps, download-strategy.ts reads
 * the failures): reconnects when the connection drops, stops at a local write failure (the rest
 * stays on the buffer), and never announces a file before it is durable here.
 */
import type { BufferEndpoint } from '../conf/pandora-conf';
import { TentacleError, type TentacleClient } from '../tentacle/client';
import type { Connections } from './connections';
import { classifyFailure, firstCommandFor, shareFailure, zipFailure } from './download-strategy';
import { timedChunks, type FirstDownload, type PayloadTiming } from './first-download';
import type { IncomingDir, Received, StoreResult } from './incoming';
import { pausePoint } from './pause-point';
import { ShareState, type InFlight, type ShareQuirks, type ShareStep } from './share';
import type { PulledFile } from './types';

/** What a share needs from the puller. */
export interface DrainContext {
  readonly connections: Connections;
  readonly incoming: IncomingDir;
  readonly firstDownload: FirstDownload;
  readonly safe: boolean;
  /** A file stored here for the first time: announced (the puller's `file` event). */
  delivered(b: BufferEndpoint, name: string, r: StoreResult): PulledFile;
  /** A file left on its buffer for its size. */
  oversized(b: BufferEndpoint, name: string, size: number): void;
  /** The buffer's first downloads are ZRECV from now on. */
  zrecv(address: string): void;
}

export interface ShareOutcome {
  files: number;
  bytes: number;
  /** Names still on the buffer (not finished, or declined for their size). */
  left: number;
  oversized: number;
  /** What ended the share early (ours, the lease's, or the connection's), else null. */
  failure: unknown;
}

export async function drainShare(
  ctx: DrainContext,
  b: BufferEndpoint,
  names: readonly string[],
  given: TentacleClient | null,
): Promise<ShareOutcome> {
  const share = new ShareState(names, ctx.safe);
  let client = given;
  let files = 0;
  let bytes = 0;
  const count = (delivered: PulledFile[]): void => {
    for (const f of delivered) {
      files++;
      bytes += f.size;
    }
  };
  /** Announces a file of the window once it is durable (never twice). */
  const announce = (w: InFlight, kept: StoreResult): void => {
    if (w.announced || kept.duplicate) return;
    w.announced = true;
    count([ctx.delivered(b, w.name, kept)]);
  };
  /** Waits for every file in the window to be durable (or not) and announces those that are. */
  const settleWindow = async (): Promise<void> => {
    for (const w of share.window) {
      const kept = await w.got.durable.catch(() => null);
      if (kept) announce(w, kept);
    }
  };
  const outcome = (failure: unknown): ShareOutcome => ({
    files,
    bytes,
    left: share.left,
    oversized: share.oversized,
    failure,
  });
  try {
    for (;;) {
      if (ctx.connections.closed) break;
      const step: ShareStep = share.step();
      if (step.kind === 'done') break;
      try {
        client ??= await ctx.connections.open(b);
        if (step.kind === 'remove') {
          // The oldest file in flight: once durable, announce it and let it leave the buffer.
          const kept = await step.file.got.durable;
          announce(step.file, kept);
          await pausePoint('remove', step.file.name);
          count(await moveOff(ctx, b, client, step.file.name, kept));
          share.removed();
        } else if (step.kind === 'move') {
          count(await moveOff(ctx, b, client, step.name));
          share.moved();
        } else {
          const got = await downloadFirst(ctx, b, client, step.name, share.quirks);
          const w = share.downloaded(got);
          const mark = (): void => {
            w.settled = true;
          };
          got.durable.then(mark, mark);
        }
      } catch (err) {
        const kind = classifyFailure(err, client?.connected ?? false);
        if (kind === 'local' || kind === 'lease') throw shareFailure(err);
        if (kind === 'declined' || kind === 'gone') {
          if (kind === 'declined') {
            const name = step.kind === 'remove' ? step.file.name : step.name;
            ctx.oversized(b, name, (err as TentacleError).size ?? 0);
          }
          share.skipped(step, kind === 'declined');
          continue;
        }
        await ctx.connections.release(client, false);
        client = null;
        await settleWindow();
        if (share.reconnect()) continue;
        throw err;
      }
    }
    await ctx.connections.release(client, true);
    return outcome(null);
  } catch (err) {
    await ctx.connections.release(client, false);
    await settleWindow();
    return outcome(err);
  }
}

/**
 * MV: the buffer sends the file and removes it. Without `kept` (MV only), the file is made
 * durable while its bytes arrive, removed by the buffer at the next line. With `kept` (safe
 * mode, stored already), its bytes are compared with the stored copy; a different version (the
 * buffer took a new one with `-o` in between) is a delivery of its own.
 */
async function moveOff(
  ctx: DrainContext,
  b: BufferEndpoint,
  client: TentacleClient,
  name: string,
  kept?: StoreResult,
): Promise<PulledFile[]> {
  const delivered: PulledFile[] = [];
  await client.mv(name, async (data, size) => {
    const r = await ctx.incoming.store(b.address, name, data, size, kept);
    if (!r.duplicate) delivered.push(ctx.delivered(b, name, r));
  });
  return delivered;
}

/**
 * Safe mode's first download (RECV, or ZRECV for a buffer that stalls): read and queued for its
 * commit; durable later.
 */
async function downloadFirst(
  ctx: DrainContext,
  b: BufferEndpoint,
  client: TentacleClient,
  name: string,
  quirks: ShareQuirks,
): Promise<Received> {
  const { incoming, firstDownload } = ctx;
  let got: Received | null = null;
  if (firstCommandFor(firstDownload.command(b.address), name, quirks) === 'ZRECV') {
    try {
      // The archive's own size and CRC are checked as it inflates; its size is not the file's.
      await client.zrecv(name, async (data) => {
        got = await incoming.receive(b.address, name, data, null);
      });
    } catch (err) {
      const next = zipFailure(err, client.connected);
      if (next === 'rethrow') throw err;
      if (next === 'refused') {
        firstDownload.refuseZip(b.address);
        quirks.zipRefused = true;
        throw err;
      }
      quirks.plainRecv.add(name);
      if (next === 'plain') return downloadFirst(ctx, b, client, name, quirks);
      throw new TentacleError('ERR_CLOSED', (err as TentacleError).facts ?? {}, { cause: err });
    }
  } else {
    const timing: PayloadTiming = { first: 0, last: 0 };
    let announced = 0;
    await client.recv(name, async (data, size) => {
      announced = size;
      if (size === 0) quirks.emptyRecv.add(name);
      got = await incoming.receive(b.address, name, timedChunks(data, timing), size);
    });
    if (firstDownload.observe(b.address, announced, timing.first ? timing : null)) {
      ctx.zrecv(b.address);
    }
  }
  if (!got) throw new Error(`${name}: the download ended without its bytes`);
  return got;
}
