/**
 * One connection's share of a buffer's listing, as a state machine without sockets: which step
 * comes next (download a file first, take it with MV, or remove one already durable here), and
 * where the share stands after each outcome. `share-drain.ts` runs the steps on a connection.
 *
 * Safe mode is pipelined: the next files are downloaded while earlier ones commit, and each is
 * removed (MV) once it is durable here, in listing order. Up to `SAFE_WINDOW` files are between
 * their first download and their MV, so a commit pass holds many files and no connection waits
 * for an fsync while there is something else to download.
 */
import type { Received } from './incoming';

/** Files per connection between their first download and their MV (safe mode). */
export const SAFE_WINDOW = 8;

/** A file of safe mode's window: downloaded, durable or on its way, not yet removed. */
export interface InFlight {
  /** Its place in the share. */
  index: number;
  name: string;
  got: Received;
  /** `got.durable` has settled (either way). */
  settled: boolean;
  announced: boolean;
}

/** What one connection's share met that calls for another command or another connection. */
export interface ShareQuirks {
  /** RECV'd with 0 bytes: the stock server closes after those; taken with MV. */
  emptyRecv: Set<string>;
  /** Their ZRECV inflated past maxSize: asked again with RECV, which declines them with the size. */
  plainRecv: Set<string>;
  /** The buffer failed a ZRECV: one more reconnection is allowed. */
  zipRefused: boolean;
}

export type ShareStep =
  /** Every name is finished one way or another. */
  | { kind: 'done' }
  /** Safe mode: the oldest file in flight is (or will be) durable here: MV it off the buffer. */
  | { kind: 'remove'; file: InFlight }
  /** MV only (not safe, or a 0-byte file the stock server closes after a RECV of). */
  | { kind: 'move'; name: string }
  /** Safe mode's first download (RECV or ZRECV, see download-strategy.ts). */
  | { kind: 'download'; name: string };

export class ShareState {
  /** Next name to download. */
  private next = 0;
  /** Names finished one way or another (taken, gone, declined). */
  private finished = 0;
  private reconnects = 0;
  /** Files declined for their size: finished, yet still on the buffer. */
  oversized = 0;
  readonly window: InFlight[] = [];
  readonly quirks: ShareQuirks = { emptyRecv: new Set(), plainRecv: new Set(), zipRefused: false };

  constructor(
    readonly names: readonly string[],
    private readonly safe: boolean,
  ) {}

  /** The step to run now. */
  step(): ShareStep {
    const head = this.window[0];
    const listed = this.next < this.names.length;
    if (head && (!listed || this.window.length >= SAFE_WINDOW || head.settled)) {
      return { kind: 'remove', file: head };
    }
    if (!listed) return { kind: 'done' };
    const name = this.names[this.next];
    if (!this.safe || this.quirks.emptyRecv.has(name)) return { kind: 'move', name };
    return { kind: 'download', name };
  }

  /** A `move` ended: the file is taken (or was a duplicate). */
  moved(): void {
    this.next++;
    this.finished++;
  }

  /** A `download` ended: the file joins the window until its MV. */
  downloaded(got: Received): InFlight {
    const file: InFlight = {
      index: this.next,
      name: this.names[this.next],
      got,
      settled: false,
      announced: false,
    };
    this.next++;
    this.window.push(file);
    return file;
  }

  /** A `remove` ended: the file has left the buffer. */
  removed(): void {
    this.window.shift();
    this.finished++;
  }

  /**
   * The step's file is finished without being taken: declined for its size (it stays on the
   * buffer), or gone (another puller took it, or not a regular file). The connection goes on.
   */
  skipped(step: ShareStep, declined: boolean): void {
    if (step.kind === 'remove') this.window.shift();
    else this.next++;
    this.finished++;
    if (declined) this.oversized++;
  }

  /**
   * The connection dropped; the caller has settled the window (files already downloaded are
   * durable or not before any is asked for again: asked again, a durable one is a duplicate that
   * only needs its MV). Rewinds to the oldest file not removed; true when one more connection
   * is allowed: one per share, plus one per quirk that needs it (a 0-byte RECV the stock server
   * closes after, a ZRECV that inflated too far or that the buffer closed on).
   */
  reconnect(): boolean {
    if (this.window.length > 0) this.next = this.window[0].index;
    this.window.length = 0;
    const q = this.quirks;
    const excused = q.emptyRecv.size + q.plainRecv.size + (q.zipRefused ? 1 : 0);
    return this.reconnects++ < 1 + excused;
  }

  /** Names still on the buffer: not finished, or declined for their size. */
  get left(): number {
    return this.names.length - this.finished + this.oversized;
  }
}
