/**
 * The Command Center side of event-pull: the copy table tmetaconsole_event, our checkpoint table,
 * and the one transaction that writes a batch of events together with the checkpoint that covers it.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { quoteId, quoteList } from '../db/identifier';
import type { Pool, PoolConnection } from '../db/pool';
import { schemaStatements } from '../db/schema';
import { inTransaction, type Fence } from '../db/transaction';
import { EventPullError } from './errors';
import { chunks, IN_LIST_MAX } from './in-list';
import {
  EMPTY_CHECKPOINT,
  KEY_COLUMNS,
  REQUIRED_COPY_COLUMNS,
  sameCheckpoint,
  stateChecksum,
  toState,
  type StateSum,
  type Checkpoint,
  type CopyState,
  type EventState,
} from './model';

/** SHA-1 of the empty text: the user_comment of an event without comments. */
export const EMPTY_SHA1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';

/** Test seam: runs inside a batch's transaction after its writes, before the fence and COMMIT. */
export type BeforeCommit = (info: { serverId: number; threadId: number }) => Promise<void>;

/** One batch for commit(): copies of one instance and the checkpoint move that covers them. */
export interface BatchWrite {
  serverId: number;
  /** The copy's columns, and each row's values in that order. */
  columns: string[];
  rows: unknown[][];
  expected: Checkpoint;
  next: Checkpoint;
  mode: string;
  /** Cluster: checks this member's lease of the instance, last thing before COMMIT. */
  fence?: Fence;
  beforeCommit?: BeforeCommit;
  /** The commit of the batch before, still running: the checkpoint is checked once it ends. */
  after?: Promise<unknown>;
}

interface CheckpointRow extends RowDataPacket {
  last_id: string;
  last_ack: string;
  last_comment_id: string;
  last_cc_ack: string;
}

interface ColumnRow extends RowDataPacket {
  c: string;
}

interface KeyRow extends RowDataPacket {
  k: string;
  cols: string;
}

function fromRow(r: CheckpointRow | undefined): Checkpoint {
  if (!r) return { ...EMPTY_CHECKPOINT };
  return {
    lastId: BigInt(r.last_id),
    lastAck: Number(r.last_ack),
    lastCommentId: BigInt(r.last_comment_id),
    lastCcAck: Number(r.last_cc_ack),
  };
}

/** A rough size of a row in SQL text, so one INSERT stays far below max_allowed_packet. */
function sqlSize(values: unknown[]): number {
  let n = 0;
  for (const v of values) n += (typeof v === 'string' ? v.length * 2 : 8) + 4;
  return n;
}

const MAX_STATEMENT_CHARS = 4 * 1024 * 1024;

export class CommandCenterSide {
  /** Columns of tmetaconsole_event, read once by ensureSchema(). */
  columns = new Set<string>();

  constructor(private readonly pool: Pool) {}

  /**
   * Creates the copy and checkpoint tables when missing, and refuses to run on a legacy
   * tmetaconsole_event without the unique key that makes the copy exactly-once.
   */
  async ensureSchema(): Promise<void> {
    for (const statement of schemaStatements('event-copy')) await this.pool.query(statement);
    const [cols] = await this.pool.query<ColumnRow[]>(
      "SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'tmetaconsole_event'",
    );
    this.columns = new Set(cols.map((r) => r.c));
    const missing = REQUIRED_COPY_COLUMNS.filter((c) => !this.columns.has(c));
    if (missing.length > 0) {
      throw new EventPullError('ERR_EVENT_PULL_CC_COLUMNS', { missing: missing.join(', ') });
    }
    const [keys] = await this.pool.query<KeyRow[]>(
      "SELECT INDEX_NAME AS k, GROUP_CONCAT(COLUMN_NAME ORDER BY COLUMN_NAME) AS cols FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'tmetaconsole_event' AND NON_UNIQUE = 0 GROUP BY INDEX_NAME",
    );
    if (!keys.some((k) => k.cols === 'id_source_event,server_id')) {
      throw new EventPullError('ERR_EVENT_PULL_LEGACY_KEY');
    }
  }

  async loadCheckpoint(serverId: number): Promise<Checkpoint> {
    // The row must exist before any batch: locking a missing row takes a gap lock, and two
    // instances' first batches would then deadlock each other.
    await this.pool.query('INSERT IGNORE INTO tevent_pull_checkpoint (server_id) VALUES (?)', [
      serverId,
    ]);
    const [rows] = await this.pool.query<CheckpointRow[]>(
      'SELECT last_id, last_ack, last_comment_id, last_cc_ack FROM tevent_pull_checkpoint WHERE server_id = ?',
      [serverId],
    );
    return fromRow(rows[0]);
  }

  /**
   * The copy's state of the named events of one instance (only those present), with the SHA-1
   * (hex) of its user_comment rather than the text: comments are compared, never held by the
   * thousand.
   */
  async copyStates(serverId: number, ids: bigint[]): Promise<Map<bigint, CopyState>> {
    const out = new Map<bigint, CopyState>();
    const withComment = this.columns.has('user_comment');
    for (const part of chunks(ids, IN_LIST_MAX)) {
      const [rows] = await this.pool.query<RowDataPacket[]>(
        `SELECT id_source_event, estado, id_usuario, owner_user, ack_utimestamp${withComment ? ", SHA1(COALESCE(user_comment, '')) AS comment_sha1" : ''} FROM tmetaconsole_event WHERE server_id = ? AND id_source_event IN (?)`,
        [serverId, part],
      );
      for (const r of rows) {
        const s = toState(r);
        out.set(s.id, { ...s, commentSha1: String(r.comment_sha1 ?? EMPTY_SHA1) });
      }
    }
    return out;
  }

  /** As InstanceSide.stateSums, over the copies of one instance's events in (fromId, toId]. */
  async copyStateSums(
    serverId: number,
    fromId: bigint,
    toId: bigint,
    bucket: number,
  ): Promise<StateSum[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT FLOOR((id_source_event - ? - 1) / ?) AS b, COUNT(*) AS n, SUM(${stateChecksum()}) AS s FROM tmetaconsole_event WHERE server_id = ? AND id_source_event > ? AND id_source_event <= ? GROUP BY b`,
      [fromId, bucket, serverId, fromId, toId],
    );
    return rows.map((r) => ({ bucket: Number(r.b), count: Number(r.n), sum: String(r.s) }));
  }

  /**
   * Copies of one instance validated or taken on the Command Center at or after `sinceAck` (never
   * those with ack_utimestamp 0: nobody touched them, see InstanceSide.statesAckedSince).
   */
  async copiesAckedSince(serverId: number, sinceAck: number, limit: number): Promise<EventState[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      'SELECT id_source_event, estado, id_usuario, owner_user, ack_utimestamp FROM tmetaconsole_event WHERE server_id = ? AND ack_utimestamp >= ? ORDER BY ack_utimestamp LIMIT ?',
      [serverId, Math.max(1, sinceAck), limit],
    );
    return rows.map(toState);
  }

  /**
   * Writes the rows (multi-row upserts keyed by server_id + id_source_event) and moves the
   * checkpoint from `expected` to `next`, in one transaction. Throws ERR_EVENT_PULL_CHECKPOINT_MOVED,
   * writing nothing, when the stored checkpoint is not `expected` (a second puller on the same
   * instance, or `after` failed).
   */
  commit(batch: BatchWrite): Promise<void> {
    return inTransaction(this.pool, (conn) => this.write(conn, batch), { fence: batch.fence });
  }

  private async write(
    conn: PoolConnection,
    { serverId, columns, rows, expected, next, mode, beforeCommit, after }: BatchWrite,
  ): Promise<void> {
    if (rows.length > 0) {
      const names = quoteList(columns);
      const key: readonly string[] = KEY_COLUMNS;
      const updates = columns
        .filter((c) => !key.includes(c))
        .map((c) => `${quoteId(c)} = VALUES(${quoteId(c)})`)
        .join(', ');
      const sql = `INSERT INTO tmetaconsole_event (${names}) VALUES ? ON DUPLICATE KEY UPDATE ${updates}`;
      let part: unknown[][] = [];
      let size = 0;
      for (const row of rows) {
        const s = sqlSize(row);
        if (part.length > 0 && size + s > MAX_STATEMENT_CHARS) {
          await conn.query(sql, [part]);
          part = [];
          size = 0;
        }
        part.push(row);
        size += s;
      }
      if (part.length > 0) await conn.query(sql, [part]);
    }
    // The rows go in before the checkpoint is locked, so that a batch's rows can be written
    // while the batch before it (`after`) commits; the check below, made once that one has
    // ended, still decides before COMMIT whether any of it stays.
    if (after) await after.catch(() => {});
    const [cur] = await conn.query<CheckpointRow[]>(
      'SELECT last_id, last_ack, last_comment_id, last_cc_ack FROM tevent_pull_checkpoint WHERE server_id = ? FOR UPDATE',
      [serverId],
    );
    if (!sameCheckpoint(fromRow(cur[0]), expected)) {
      throw new EventPullError('ERR_EVENT_PULL_CHECKPOINT_MOVED', { id: serverId });
    }
    await conn.query(
      'INSERT INTO tevent_pull_checkpoint (server_id, last_id, last_ack, last_comment_id, last_cc_ack, mode, updated_utimestamp) VALUES (?, ?, ?, ?, ?, ?, UNIX_TIMESTAMP()) ' +
        'ON DUPLICATE KEY UPDATE last_id = VALUES(last_id), last_ack = VALUES(last_ack), last_comment_id = VALUES(last_comment_id), last_cc_ack = VALUES(last_cc_ack), mode = VALUES(mode), updated_utimestamp = VALUES(updated_utimestamp)',
      [serverId, next.lastId, next.lastAck, next.lastCommentId, next.lastCcAck, mode],
    );
    if (beforeCommit) await beforeCommit({ serverId, threadId: conn.threadId });
  }
}
