/**
 * The download strategy, without sockets: which command fetches a file, and what each failure
 * means for the share (see share.ts) and for the buffer's first command (first-download.ts).
 */
import { LeaseLost } from '../cluster/gate';
import { TentacleError } from '../tentacle/errors';
import { causeOf } from '../util/errors';
import { LocalStoreError } from './errors';
import type { FirstCommand } from './first-download';
import type { ShareQuirks } from './share';

/**
 * What a failed step means:
 * - `local`: a write on this side failed; the share stops, the rest stays on the buffer;
 * - `lease`: (cluster) the buffer is another member's now; what is left stays for it;
 * - `declined`: larger than maxSize (or an MV of a newer, larger version); the file stays on the
 *   buffer and the connection goes on;
 * - `gone`: the buffer answered ERR (another puller took it, or not a regular file); go on;
 * - `connection`: anything else ends the connection (reconnect, or give up the share).
 */
export type StepFailure = 'local' | 'lease' | 'declined' | 'gone' | 'connection';

/**
 * Classifies a step's failure. The Tentacle client reports a consumer's failure (our disk, the
 * lease) as the connection's end with the cause inside, hence the cause-chain walk.
 */
export function classifyFailure(err: unknown, connected: boolean): StepFailure {
  if (causeOf(err, LocalStoreError)) return 'local';
  if (causeOf(err, LeaseLost)) return 'lease';
  if (err instanceof TentacleError && err.code === 'ERR_TOO_BIG' && connected) return 'declined';
  if (err instanceof TentacleError && err.code === 'ERR_REPLY') return 'gone';
  return 'connection';
}

/** The failure a share ends with: ours or the lease's rather than the connection that carried it. */
export function shareFailure(err: unknown): unknown {
  return causeOf(err, LocalStoreError) ?? causeOf(err, LeaseLost) ?? err;
}

/** Safe mode's first download of `name`: the buffer's command, unless this file needs RECV. */
export function firstCommandFor(
  buffer: FirstCommand,
  name: string,
  quirks: ShareQuirks,
): FirstCommand {
  return buffer === 'ZRECV' && !quirks.plainRecv.has(name) ? 'ZRECV' : 'RECV';
}

/**
 * What a failed ZRECV means:
 * - `rethrow`: ours, the lease's, or the buffer's ERR (the file is gone): as for any step;
 * - `plain`: it inflated past maxSize and the connection is still open: ask again with RECV,
 *   which declines it cleanly with its real size;
 * - `plain-closed`: the same, but the connection closed: RECV it on the next one;
 * - `refused`: anything else (the connection closed on the command): not a buffer for ZRECV.
 */
export type ZipFailure = 'rethrow' | 'plain' | 'plain-closed' | 'refused';

export function zipFailure(err: unknown, connected: boolean): ZipFailure {
  if (causeOf(err, LocalStoreError) || causeOf(err, LeaseLost)) return 'rethrow';
  if (err instanceof TentacleError && err.code === 'ERR_REPLY') return 'rethrow';
  if (err instanceof TentacleError && err.code === 'ERR_TOO_BIG') {
    return connected ? 'plain' : 'plain-closed';
  }
  return 'refused';
}
