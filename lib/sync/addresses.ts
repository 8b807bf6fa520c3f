/** Which of the puller's buffers a `msg.address` names. */
import { parseSyncAddress, type BufferEndpoint } from '../conf/pandora-conf';
import { SyncError } from './errors';

/**
 * The addresses of the buffers `text` names: `host:port` items (comma list, as `sync_address`
 * writes them; a bare host takes the first buffer's port), and a bare host also names every
 * buffer on that host. Empty text: undefined (every buffer). Throws ERR_SYNC_ADDRESS when it
 * names none.
 */
export function resolveBufferAddresses(
  text: string,
  buffers: readonly BufferEndpoint[],
): string[] | undefined {
  const wanted = text.trim();
  if (!wanted) return undefined;
  let items: BufferEndpoint[];
  try {
    items = parseSyncAddress(wanted, buffers[0]?.port ?? 41121);
  } catch (err) {
    throw new SyncError('ERR_SYNC_ADDRESS', { address: wanted }, { cause: err });
  }
  const known = new Set(buffers.map((b) => b.address));
  const out = items.flatMap((w) => {
    if (known.has(w.address)) return [w.address];
    return buffers.filter((b) => b.host === wanted || b.host === w.host).map((b) => b.address);
  });
  if (out.length === 0) throw new SyncError('ERR_SYNC_ADDRESS', { address: wanted });
  return [...new Set(out)];
}
