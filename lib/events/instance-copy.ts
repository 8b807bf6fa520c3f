/**
 * The copy of one Instance, one round at a time: its shape (the copy's columns) and checkpoint,
 * and the three parts of a round: validations made on the copies back to the Instance (optional),
 * new events past the checkpoint (copy-new.ts), then changes to events already copied
 * (copy-changes.ts decides which). Each batch is written in one Command Center transaction with
 * the checkpoint that covers it.
 */
import { units } from '../cluster/gate';
import type { Instance } from '../db/registry';
import type { Fence } from '../db/transaction';
import { budgetOf, fittingPrefix, packed, type Budget } from './budget';
import type { BeforeCommit, CommandCenterSide } from './command-center';
import {
  ascending,
  changedEvents,
  commentDigest,
  commentScanFrom,
  differingRanges,
  RECHECK_BUCKET,
  recheckFrom,
  writeBacks,
} from './copy-changes';
import { copyNew, type NewBatch } from './copy-new';
import { coded } from './errors';
import { InstanceSide } from './instance-side';
import {
  COMMENT_COLUMN,
  copiesOf,
  copyColumns,
  type Checkpoint,
  type Copies,
  type EventState,
  type Row,
} from './model';
import type { ResolvedOptions } from './options';

/** Most validations (on either side) one round looks at. */
const ACKS_PER_ROUND = 50_000;
/** Most comment ids one round's comment re-poll reads. */
const COMMENTS_PER_ROUND = 10_000;

/** What the copy needs from the puller that owns it. */
export interface CopyHost {
  readonly opts: ResolvedOptions;
  readonly cc: CommandCenterSide;
  readonly closed: boolean;
  readonly beforeCommit?: BeforeCommit;
}

/** What one round did. */
export interface CopyCounts {
  copied: number;
  updated: number;
  writtenBack: number;
}

export class InstanceCopy {
  readonly side: InstanceSide;
  /** The copy's columns; null until read (again after a failure). */
  private columns: string[] | null = null;
  private checkpoint: Checkpoint | null = null;
  /** Seconds behind the Instance; null before the first successful round. */
  lag: number | null = null;
  private lastCaughtUp = 0;

  constructor(
    private readonly instance: Instance,
    private readonly host: CopyHost,
    /** A batch is in the copy (`new` events, or copies refreshed after an `update`). */
    private readonly onBatch: (kind: 'new' | 'update', events: Row[]) => void,
  ) {
    this.side = new InstanceSide(instance.pool, host.opts.queryTimeoutMs, this.budget);
  }

  /** What one batch may hold (options batchSize, maxBatchBytes, maxCommentsPerEvent, maxCommentBytes). */
  get budget(): Budget {
    return budgetOf(this.host.opts);
  }

  /**
   * One round; `changes`: look for changes to copied events too. `counts` is filled in as each
   * part ends (a failing part leaves the counts of those before it).
   */
  async round(changes: boolean, counts: CopyCounts): Promise<void> {
    const cc = this.host.cc;
    if (!this.columns) {
      const tables = await this.side.describe();
      this.columns = copyColumns(tables.tevento, cc.columns, tables.tevent_comment);
      this.side.prepare(this.columns, this.instance.id);
    }
    if (!this.checkpoint) this.checkpoint = await this.onCc(cc.loadCheckpoint(this.instance.id));
    if (this.host.opts.writeBack) counts.writtenBack = await this.writeBack();
    counts.copied = await this.copyNew();
    if (changes) counts.updated = await this.copyChanges();
  }

  /** A round failed: its shape and checkpoint are read again; the lag grows from the last catch-up. */
  failed(): void {
    this.columns = null;
    this.checkpoint = null;
    if (this.lastCaughtUp > 0) this.lag = (Date.now() - this.lastCaughtUp) / 1000;
  }

  /** Cluster: another member works the Instance and moves its checkpoint: read it again later. */
  forgetCheckpoint(): void {
    this.checkpoint = null;
  }

  private get withComments(): boolean {
    return this.columns?.includes(COMMENT_COLUMN) ?? false;
  }

  /** Runs a Command Center step, its failures reported as the Command Center's. */
  private onCc<T>(step: Promise<T>): Promise<T> {
    return step.catch((err: unknown) => {
      throw coded(err, 'ERR_EVENT_PULL_CC_WRITE', {
        id: this.instance.id,
        name: this.instance.name,
      });
    });
  }

  /** The copies of `rows` (in the copy's shape), their comments filled in. */
  private async toCopies(rows: Row[]): Promise<Copies> {
    if (this.withComments && rows.length > 0) {
      const comments = await this.side.comments.commentsOf(
        rows.map((r) => BigInt(String(r.id_source_event))),
      );
      for (const r of rows) r[COMMENT_COLUMN] = comments.get(String(r.id_source_event)) ?? '';
    }
    return copiesOf(rows, this.columns!);
  }

  private fence(): Fence | undefined {
    const gate = this.host.opts.gate;
    const unit = units.events(this.instance.id);
    return gate ? gate.fence(unit) : undefined;
  }

  /**
   * Writes copies and moves the checkpoint from `expected` to `next` in one Command Center
   * transaction; `after` is the write of the batch before, still running (see copy-new.ts).
   */
  private writeFrom(
    expected: Checkpoint,
    copies: Copies,
    next: Checkpoint,
    after?: Promise<void>,
  ): Promise<void> {
    return this.onCc(
      this.host.cc.commit({
        serverId: this.instance.id,
        columns: copies.columns,
        rows: copies.values,
        expected,
        next,
        mode: this.host.opts.mode,
        fence: this.fence(),
        beforeCommit: this.host.beforeCommit,
        after,
      }),
    );
  }

  /** Writes the copies of `rows` and moves the checkpoint to `next`. */
  private async commit(rows: Row[], next: Checkpoint): Promise<Copies> {
    const copies = await this.toCopies(rows);
    await this.writeFrom(this.checkpoint!, copies, next);
    this.checkpoint = next;
    return copies;
  }

  /** The bytes of each event's comments in a copy (nothing when the copy has no user_comment). */
  private commentBytes(ids: bigint[]): Promise<Map<bigint, number>> {
    return this.withComments ? this.side.comments.commentBytes(ids) : Promise.resolve(new Map());
  }

  /**
   * Splits `ids` (in order) into batches that fit the budget, weighing each event's comments
   * and, with `events`, its values.
   */
  private async cut(ids: bigint[], events: boolean): Promise<bigint[][]> {
    const sizes = events ? await this.side.sizesById(ids) : new Map<bigint, number>();
    const comments = await this.commentBytes(ids);
    return packed(ids, (id) => (sizes.get(id) ?? 0) + (comments.get(id) ?? 0), this.budget);
  }

  /** The next batch past `afterId`: as many events as fit the budget (sizes read first). */
  private async readNew(afterId: bigint): Promise<NewBatch> {
    const { batchSize, mode } = this.host.opts;
    const sizes = await this.side.sizesAfter(afterId, batchSize);
    const comments = await this.commentBytes(sizes.map((s) => s.id));
    const n = fittingPrefix(
      sizes.map((s) => s.bytes + (comments.get(s.id) ?? 0)),
      this.budget,
    );
    const rows = n > 0 ? await this.side.eventsAfter(afterId, n) : [];
    const selected = mode === 'only_validated' ? rows.filter((r) => Number(r.estado) === 1) : rows;
    return {
      rows,
      copies: await this.toCopies(selected),
      full: sizes.length >= batchSize || n < sizes.length,
    };
  }

  private copyNew(): Promise<number> {
    const deadline = Date.now() + this.host.opts.maxDrainMs;
    return copyNew(this.checkpoint!, {
      read: (afterId) => this.readNew(afterId),
      write: (expected, copies, next, after) => this.writeFrom(expected, copies, next, after),
      committed: ({ copies, next, full, lastUtimestamp }) => {
        this.checkpoint = next;
        if (copies.events.length > 0) this.onBatch('new', copies.events);
        if (!full) this.caughtUp();
        else this.lag = Math.max(0, Date.now() / 1000 - lastUtimestamp);
      },
      caughtUp: () => this.caughtUp(),
      keepGoing: () => Date.now() < deadline && !this.host.closed,
    });
  }

  private caughtUp(): void {
    this.lag = 0;
    this.lastCaughtUp = Date.now();
  }

  /**
   * Refreshes copies whose event changed on the instance: validations (ack_utimestamp past the
   * cursor), new comments, and anything different in a window of recent ids (owner changes, and
   * events committed late with an id below the checkpoint).
   */
  private async copyChanges(): Promise<number> {
    const opts = this.host.opts;
    const cp = this.checkpoint!;
    if (cp.lastId === 0n) return 0;
    const candidates = new Map<bigint, EventState>();
    for (const [from, to] of await this.recheckRanges(cp.lastId)) {
      for (const s of await this.side.statesInRange(from, to)) candidates.set(s.id, s);
    }
    const acked = await this.side.statesAckedSince(
      Math.max(0, cp.lastAck - opts.ackOverlapSeconds),
      cp.lastId,
      ACKS_PER_ROUND,
    );
    let lastAck = cp.lastAck;
    for (const s of acked) {
      candidates.set(s.id, s);
      lastAck = Math.max(lastAck, Number(s.ack_utimestamp));
    }
    let lastCommentId = cp.lastCommentId;
    let commented: bigint[] = [];
    if (this.side.tables?.tevent_comment) {
      const scan = await this.side.comments.commentsAfter(
        commentScanFrom(cp.lastCommentId),
        cp.lastId,
        COMMENTS_PER_ROUND,
      );
      commented = scan.eventIds;
      if (scan.lastId > lastCommentId) lastCommentId = scan.lastId;
    }
    const ids = new Set<bigint>([...candidates.keys(), ...commented]);
    const copies = await this.onCc(this.host.cc.copyStates(this.instance.id, [...ids]));
    const changed = changedEvents(candidates, copies, opts.mode);
    const commentCheck = commented.filter((id) => !changed.has(id) && copies.has(id));
    // Compared a budget's worth at a time, by digest: the copy's text is not read back.
    for (const part of await this.cut(commentCheck, false)) {
      const now = await this.side.comments.commentsOf(part);
      for (const id of part) {
        if (commentDigest(now.get(String(id)) ?? '') !== copies.get(id)!.commentSha1) {
          changed.add(id);
        }
      }
    }
    const next: Checkpoint = { ...cp, lastAck, lastCommentId };
    if (changed.size === 0) {
      if (lastAck !== cp.lastAck || lastCommentId !== cp.lastCommentId) await this.commit([], next);
      return 0;
    }
    let updated = 0;
    const parts = await this.cut(ascending(changed), true);
    for (let i = 0; i < parts.length; i++) {
      const rows = await this.side.eventsById(parts[i]);
      const last = i === parts.length - 1;
      const { events } = await this.commit(rows, last ? next : this.checkpoint!);
      updated += events.length;
      if (events.length > 0) this.onBatch('update', events);
    }
    return updated;
  }

  /**
   * The parts of the re-check window below the checkpoint to read event by event: with mode
   * `all`, only the buckets whose count or state checksum differ between the Instance and the
   * copy (a round reads a few sums, not the window's rows, on each side); with only_validated,
   * the whole window (events not validated have no copy, so their buckets always differ).
   */
  private async recheckRanges(lastId: bigint): Promise<[bigint, bigint][]> {
    const from = recheckFrom(lastId, this.host.opts.recheckWindow);
    if (from >= lastId) return [];
    if (this.host.opts.mode !== 'all') return [[from, lastId]];
    const [mine, theirs] = await Promise.all([
      this.side.stateSums(from, lastId, RECHECK_BUCKET),
      this.onCc(this.host.cc.copyStateSums(this.instance.id, from, lastId, RECHECK_BUCKET)),
    ]);
    return differingRanges(from, lastId, mine, theirs);
  }

  /** Sends validations made on the Command Center's copy back to the instance. */
  private async writeBack(): Promise<number> {
    const opts = this.host.opts;
    const cp = this.checkpoint!;
    const copies = await this.onCc(
      this.host.cc.copiesAckedSince(
        this.instance.id,
        Math.max(0, cp.lastCcAck - opts.ackOverlapSeconds),
        ACKS_PER_ROUND,
      ),
    );
    if (copies.length === 0) return 0;
    const here = await this.side.statesById(copies.map((c) => c.id));
    const { writes, lastCcAck } = writeBacks(copies, here, cp.lastCcAck);
    let written = 0;
    for (const c of writes) if (await this.side.writeBack(c)) written++;
    if (lastCcAck !== cp.lastCcAck) await this.commit([], { ...cp, lastCcAck });
    return written;
  }
}
