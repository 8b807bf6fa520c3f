/**
 * The copy of new events, as a pipeline over whatever reads and writes batches: while batch k
 * commits, batch k+1's rows are already being written in its own transaction (which checks the
 * checkpoint only once k has ended, and keeps nothing if k failed) and batch k+2 is read. No
 * database here: the steps are given, so the order of reads, writes and checkpoints is tested
 * on its own.
 */
import type { Checkpoint, Copies, Row } from './model';

/**
 * Batch transactions of one instance open at once: each batch's rows are written while the
 * batches before it commit.
 */
export const WRITES_IN_FLIGHT = 2;

/** One batch read past a checkpoint: its events, their copies, and whether more wait behind. */
export interface NewBatch {
  /** Every event read (the last one's id is the next checkpoint), whether copied or not. */
  rows: Row[];
  /** What is written (only_validated leaves some of `rows` out). */
  copies: Copies;
  full: boolean;
}

/** A batch whose transaction has committed. */
export interface Committed {
  copies: Copies;
  next: Checkpoint;
  full: boolean;
  /** utimestamp of the batch's last event (its lag when more wait behind it). */
  lastUtimestamp: number;
}

export interface CopyNewSteps {
  /** The next batch of events with an id above `afterId`. */
  read(afterId: bigint): Promise<NewBatch>;
  /**
   * Writes `copies` and moves the checkpoint from `expected` to `next` in one transaction that
   * checks the checkpoint only once `after` (the batch before, still running) has ended.
   */
  write(
    expected: Checkpoint,
    copies: Copies,
    next: Checkpoint,
    after?: Promise<void>,
  ): Promise<void>;
  /** A batch is in: record its checkpoint, report its events. */
  committed(batch: Committed): void;
  /** Nothing more waits past the checkpoint. */
  caughtUp(): void;
  /** Whether to read one more full batch (the drain's deadline, a close). */
  keepGoing(): boolean;
}

interface InFlight extends Committed {
  done: Promise<void>;
}

/** Copies every event past `from` (until caught up or told to stop); returns how many were copied. */
export async function copyNew(from: Checkpoint, steps: CopyNewSteps): Promise<number> {
  let copied = 0;
  let planned = from;
  // Oldest first; each write checks the checkpoint only after the one before it has ended.
  const inFlight: InFlight[] = [];
  const settle = async (w: InFlight): Promise<void> => {
    await w.done;
    copied += w.copies.events.length;
    steps.committed(w);
  };
  let pending: Promise<NewBatch> | null = steps.read(planned.lastId);
  try {
    while (pending) {
      const { rows, copies, full } = await pending;
      pending = null;
      if (rows.length === 0) {
        if (inFlight.length === 0) steps.caughtUp();
        break;
      }
      const lastRow = rows[rows.length - 1];
      const lastId = BigInt(String(lastRow.id_source_event));
      if (full && steps.keepGoing()) {
        pending = steps.read(lastId);
        pending.catch(() => {});
      }
      const next = { ...planned, lastId };
      const started: InFlight = {
        done: steps.write(planned, copies, next, inFlight.at(-1)?.done),
        copies,
        next,
        full,
        lastUtimestamp: Number(lastRow.utimestamp ?? 0),
      };
      started.done.catch(() => {});
      planned = next;
      inFlight.push(started);
      while (inFlight.length >= WRITES_IN_FLIGHT) await settle(inFlight.shift()!);
    }
    while (inFlight.length > 0) await settle(inFlight.shift()!);
  } finally {
    // A read or a write started for a batch we will not record (error, close) must end before
    // the next round reads the checkpoint, and must not go unhandled.
    (pending as Promise<NewBatch> | null)?.catch(() => {});
    await Promise.allSettled(inFlight.map((w) => w.done));
  }
  return copied;
}
