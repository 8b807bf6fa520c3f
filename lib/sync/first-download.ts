/**
 * Safe mode's first download of a file, per buffer: `RECV`, or `ZRECV` once the buffer shows the
 * stock tentacle_server's per-file stall.
 *
 * The stock server writes a file in 1 KiB `syswrite`s with Nagle on, so after the first KiB the
 * rest waits for an ACK that the receiving kernel delays (about 40 ms on Linux) because the
 * exchange looks interactive. Every download of more than 1 KiB pays that pause, and safe mode
 * downloads each file twice (RECV, then the MV that removes it). A ZRECV's archive of an agent
 * file (XML, a few KiB) is usually under 1 KiB, one write, so it arrives without the pause,
 * which halves the time per file against a stock buffer. Against a buffer that does not stall
 * (ours, or a stock one behind a `quickack` route) RECV stays: zipping costs CPU on both sides.
 *
 * The signature looked for is a small payload whose last bytes come well after its first: a
 * loaded machine delays a whole payload, not its tail, and a 4 KiB payload from a server
 * without Nagle arrives in one piece. Two such downloads switch the buffer; a slow link with
 * small files shows the same signature, and there compressing is worth it too.
 */

/** A payload up to this size that takes longer than `STALL_MS` from first to last byte stalled. */
const PROBE_MAX_BYTES = 64 * 1024;
const STALL_MS = 15;
/** Stalled downloads seen before a buffer's first downloads become ZRECV. */
const STALLS_TO_SWITCH = 2;

export type FirstCommand = 'RECV' | 'ZRECV';

/** When a payload's first and last chunks arrived (ms, `performance.now()`). */
export interface PayloadTiming {
  first: number;
  last: number;
}

export class FirstDownload {
  private readonly stalls = new Map<string, number>();
  private readonly zipFailures = new Map<string, number>();
  /** Buffers that failed ZRECV twice: RECV for good. */
  private readonly plainOnly = new Set<string>();

  /** The command for the next first download from `address`. */
  command(address: string): FirstCommand {
    if (this.plainOnly.has(address)) return 'RECV';
    return (this.stalls.get(address) ?? 0) >= STALLS_TO_SWITCH ? 'ZRECV' : 'RECV';
  }

  /** Notes how a RECV's payload of `size` bytes arrived; true when this switches the buffer. */
  observe(address: string, size: number, timing: PayloadTiming | null): boolean {
    if (!timing || size > PROBE_MAX_BYTES || this.plainOnly.has(address)) return false;
    if (timing.last - timing.first < STALL_MS) return false;
    const n = (this.stalls.get(address) ?? 0) + 1;
    this.stalls.set(address, n);
    return n === STALLS_TO_SWITCH;
  }

  /**
   * A ZRECV failed without a reply that explains it (the connection ended): back to RECV until
   * the stall shows again; after a second time, RECV for good (a buffer without ZRECV).
   */
  refuseZip(address: string): void {
    this.stalls.delete(address);
    const n = (this.zipFailures.get(address) ?? 0) + 1;
    this.zipFailures.set(address, n);
    if (n >= 2) this.plainOnly.add(address);
  }
}

/**
 * Passes `data` through unchanged and records when its first and last chunks arrived (the
 * timing is complete once the iteration has ended).
 */
export async function* timedChunks(
  data: AsyncIterable<unknown>,
  timing: PayloadTiming,
): AsyncGenerator<Buffer> {
  for await (const c of data) {
    const now = performance.now();
    if (timing.first === 0) timing.first = now;
    timing.last = now;
    yield typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
  }
}
