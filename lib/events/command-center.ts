/**
 * The Command Center side of event-pull: the copy table tmetaconsole_event, our checkpoint table,
 * and the one transaction that writes a batch of events together with the checkpoint that covers it.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { quoteId, quoteList } from '../db/identifier';
import type { Pool, PoolConnection } from '../db/pool';
import { schemaStatements } from '../db/schema';
import { chunks, IN_LIST_MAX } from './in-list';
import { EventState, toState } from './instance-side';

export interface Checkpoint {
  /** Every tevento row up to this id has been considered (copied, or skipped by mode). */
  lastId: bigint;
  /** How far the re-poll of validations (ack_utimestamp) has looked. */
  lastAck: number;
  /** How far the re-poll of tevent_comment has looked. */
  lastCommentId: bigint;
  /** How far the write-back has looked at validations made on the copy. */
  lastCcAck: number;
}

export const EMPTY_CHECKPOINT: Checkpoint = {
  lastId: 0n,
  lastAck: 0,
  lastCommentId: 0n,
  lastCcAck: 0,
};

/** The copy's own columns, beside those that have the same name as in tevento. */
export const COPY_ONLY_COLUMNS = [
  'id_source_event',
  'server_id',
  'agent_name',
  'group_name',
  'module_name',
  'alert_template_name',
  'user_comment',
];

/** SHA-1 of the empty text: the user_comment of an event without comments. */
export const EMPTY_SHA1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';

/** Another puller moved this instance's checkpoint: our batch was not written. */
export class CheckpointMoved extends Error {}

/** One batch for commit(): copies of one instance and the checkpoint move that covers them. */
export interface BatchWrite {
  serverId: number;
  /** The copy's columns, and each row's values in that order. */
  columns: string[];
  rows: unknown[][];
  expected: Checkpoint;
  next: Checkpoint;
  mode: string;
  hooks?: CommitHooks;
  /** The commit of the batch before, still running: the checkpoint is checked once it ends. */
  after?: Promise<unknown>;
}

export interface CommitHooks {
  /** Test hook: runs inside the transaction after the upsert, before COMMIT. */
  beforeCommit?: (info: { serverId: number; threadId: number }) => Promise<void>;
  /** Cluster: checks this member's lease of the instance, last thing before COMMIT. */
  fence?: (conn: PoolConnection, serverId: number) => Promise<void>;
}

function sameCheckpoint(a: Checkpoint, b: Checkpoint): boolean {
  return (
    a.lastId === b.lastId &&
    a.lastAck === b.lastAck &&
    a.lastCommentId === b.lastCommentId &&
    a.lastCcAck === b.lastCcAck
  );
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
    const missing = ['id_source_event', 'server_id', 'estado', 'ack_utimestamp'].filter(
      (c) => !this.columns.has(c),
    );
    if (missing.length > 0) {
      throw new Error(`tmetaconsole_event on the Command Center lacks ${missing.join(', ')}`);
    }
    const [keys] = await this.pool.query<KeyRow[]>(
      "SELECT INDEX_NAME AS k, GROUP_CONCAT(COLUMN_NAME ORDER BY COLUMN_NAME) AS cols FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'tmetaconsole_event' AND NON_UNIQUE = 0 GROUP BY INDEX_NAME",
    );
    if (!keys.some((k) => k.cols === 'id_source_event,server_id')) {
      throw new Error(
        'tmetaconsole_event (Pandora legacy table) has no UNIQUE key on (server_id, id_source_event), so copies could not be made exactly once. ' +
          'This package never alters Pandora tables: remove duplicates, then run ' +
          'ALTER TABLE tmetaconsole_event ADD UNIQUE KEY server_source_event (server_id, id_source_event)',
      );
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
  async copyStates(
    serverId: number,
    ids: bigint[],
  ): Promise<Map<bigint, EventState & { commentSha1: string }>> {
    const out = new Map<bigint, EventState & { commentSha1: string }>();
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
   * checkpoint from `expected` to `next`, in one transaction. Throws CheckpointMoved, writing nothing, when the stored
   * checkpoint is not `expected` (a second puller on the same instance, or `after` failed).
   */
  async commit(batch: BatchWrite): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.commitOnce(batch);
      } catch (err) {
        const code = (err as { code?: string }).code;
        // InnoDB picked this transaction as a deadlock victim and rolled it back: run it again.
        if (attempt >= 3 || (code !== 'ER_LOCK_DEADLOCK' && code !== 'ER_LOCK_WAIT_TIMEOUT'))
          throw err;
      }
    }
  }

  private async commitOnce({
    serverId,
    columns,
    rows,
    expected,
    next,
    mode,
    hooks = {},
    after,
  }: BatchWrite): Promise<void> {
    const conn: PoolConnection = await this.pool.getConnection();
    let open = false;
    try {
      await conn.beginTransaction();
      open = true;
      if (rows.length > 0) {
        const names = quoteList(columns);
        const updates = columns
          .filter((c) => c !== 'server_id' && c !== 'id_source_event')
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
        throw new CheckpointMoved(
          `the checkpoint of instance ${serverId} moved under us (is a second event-pull copying the same instance?)`,
        );
      }
      await conn.query(
        'INSERT INTO tevent_pull_checkpoint (server_id, last_id, last_ack, last_comment_id, last_cc_ack, mode, updated_utimestamp) VALUES (?, ?, ?, ?, ?, ?, UNIX_TIMESTAMP()) ' +
          'ON DUPLICATE KEY UPDATE last_id = VALUES(last_id), last_ack = VALUES(last_ack), last_comment_id = VALUES(last_comment_id), last_cc_ack = VALUES(last_cc_ack), mode = VALUES(mode), updated_utimestamp = VALUES(updated_utimestamp)',
        [serverId, next.lastId, next.lastAck, next.lastCommentId, next.lastCcAck, mode],
      );
      if (hooks.beforeCommit) await hooks.beforeCommit({ serverId, threadId: conn.threadId });
      if (hooks.fence) await hooks.fence(conn, serverId);
      await conn.commit();
      open = false;
    } catch (err) {
      if (open) {
        try {
          await conn.rollback();
        } catch {
          // The connection is gone; the server rolls the transaction back itself.
        }
      }
      // A connection that failed mid-transaction must not go back to the pool.
      if (!(err instanceof CheckpointMoved)) {
        conn.destroy();
        throw err;
      }
      conn.release();
      throw err;
    }
    conn.release();
  }
}
