/**
 * What event-pull reads of one Instance's tevent_comment: comment ids past a cursor, the count
 * and bytes of each event's comments (without reading them), and the comments themselves as
 * the JSON array a copy's user_comment holds, cut to the budget.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { keptCommentBytes, overLimit, type Budget, type CommentStat } from './budget';
import { chunks, IN_LIST_MAX } from './in-list';

type Query = <T extends RowDataPacket = RowDataPacket>(
  sql: string,
  values?: unknown[],
) => Promise<T[]>;

interface CommentIdRow extends RowDataPacket {
  id: string;
  id_event: string;
}

interface SizeRow extends RowDataPacket {
  id: string;
  bytes: string | number | null;
}

interface StatRow extends RowDataPacket {
  id_event: string;
  n: string | number;
  bytes: string | number | null;
}

/** The bytes of one tevent_comment row's texts, as the server counts them (without reading them). */
const COMMENT_BYTES =
  'COALESCE(LENGTH(comment), 0) + COALESCE(LENGTH(action), 0) + COALESCE(LENGTH(id_user), 0)';

interface CommentRow extends RowDataPacket {
  id: string;
  id_event: string;
  comment: string;
  action: string;
  id_user: string;
  utimestamp: string;
}

function byId(a: { id: string }, b: { id: string }): number {
  const d = BigInt(a.id) - BigInt(b.id);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/** One comment as the JSON array of user_comment holds it. */
function commentEntry(r: CommentRow): Record<string, unknown> {
  return {
    comment: r.comment,
    action: r.action,
    id_user: r.id_user,
    utimestamp: Number(r.utimestamp),
  };
}

export class InstanceComments {
  constructor(
    private readonly q: Query,
    private readonly budget: Budget,
    /** Whether this Instance has tevent_comment (known once InstanceSide.describe() ran). */
    private readonly present: () => boolean,
  ) {}

  /** Comment ids after `afterId` (bounded), with the events they belong to (up to `maxEventId`). */
  async commentsAfter(
    afterId: bigint,
    maxEventId: bigint,
    limit: number,
  ): Promise<{ lastId: bigint; eventIds: bigint[] }> {
    const rows = await this.q<CommentIdRow>(
      'SELECT id, id_event FROM tevent_comment WHERE id > ? ORDER BY id LIMIT ?',
      [afterId, limit],
    );
    let lastId = afterId;
    const events = new Set<bigint>();
    for (const r of rows) {
      const id = BigInt(r.id);
      if (id > lastId) lastId = id;
      const ev = BigInt(r.id_event);
      if (ev <= maxEventId) events.add(ev);
    }
    return { lastId, eventIds: [...events] };
  }

  /**
   * How many comments each event has and their bytes: for `ids`, and when the ids are (nearly)
   * consecutive, for every event between the least and the greatest (`range`), read as one range.
   */
  private async commentStats(
    ids: bigint[],
  ): Promise<{ stats: Map<string, CommentStat>; range: [bigint, bigint] | null }> {
    const stats = new Map<string, CommentStat>();
    let min = ids[0];
    let max = ids[0];
    for (const id of ids) {
      if (id < min) min = id;
      if (id > max) max = id;
    }
    // A batch's ids are (nearly) consecutive: one range read instead of IN lists.
    const dense = max - min < BigInt(2 * ids.length);
    const head = `SELECT id_event, COUNT(*) AS n, SUM(${COMMENT_BYTES}) AS bytes FROM tevent_comment`;
    const reads = dense
      ? [
          () =>
            this.q<StatRow>(`${head} WHERE id_event BETWEEN ? AND ? GROUP BY id_event`, [min, max]),
        ]
      : chunks(ids, IN_LIST_MAX).map(
          (part) => () =>
            this.q<StatRow>(`${head} WHERE id_event IN (?) GROUP BY id_event`, [part]),
        );
    for (const read of reads) {
      for (const r of await read()) {
        stats.set(String(r.id_event), { count: Number(r.n), bytes: Number(r.bytes ?? 0) });
      }
    }
    return { stats, range: dense ? [min, max] : null };
  }

  /** The bytes a copy holds of each event's comments (see keptCommentBytes), for cutting batches. */
  async commentBytes(ids: bigint[]): Promise<Map<bigint, number>> {
    const out = new Map<bigint, number>();
    if (!this.present() || ids.length === 0) return out;
    const { stats } = await this.commentStats(ids);
    for (const id of ids) out.set(id, keptCommentBytes(stats.get(String(id)), this.budget));
    return out;
  }

  /**
   * The comments of each event as the JSON array Pandora kept in user_comment before MR 66
   * ({comment, action, id_user, utimestamp}, oldest first); '' for an event without comments.
   * An event with more comments than a copy keeps gets its newest that fit, after a mark that
   * says how many older ones were left out (see newestComments).
   */
  async commentsOf(ids: bigint[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (!this.present()) return out;
    if (ids.length === 0) return out;
    const { stats, range } = await this.commentStats(ids);
    const wanted = new Map(ids.map((id) => [String(id), id]));
    const whole: bigint[] = [];
    const cut: [bigint, CommentStat][] = [];
    for (const [key, id] of wanted) {
      const stat = stats.get(key);
      if (!stat) continue;
      if (overLimit(stat, this.budget)) cut.push([id, stat]);
      else whole.push(id);
    }
    // The range read also brings the comments of events in the range not asked for (left out
    // below): only when none is over the limits and they weigh no more than those asked for.
    let oneRange = range !== null;
    let asked = 0;
    let others = 0;
    for (const [key, stat] of stats) {
      if (overLimit(stat, this.budget)) oneRange = false;
      if (wanted.has(key)) asked += stat.bytes;
      else others += stat.bytes;
    }
    oneRange &&= others <= asked;
    const columns = 'SELECT id, id_event, comment, action, id_user, utimestamp FROM tevent_comment';
    const rows: CommentRow[] = [];
    if (oneRange && range) {
      rows.push(...(await this.q<CommentRow>(`${columns} WHERE id_event BETWEEN ? AND ?`, range)));
    } else {
      for (const part of chunks(whole, IN_LIST_MAX)) {
        rows.push(...(await this.q<CommentRow>(`${columns} WHERE id_event IN (?)`, [part])));
      }
    }
    // Oldest first, sorted here: an ORDER BY id could make the server walk the primary key.
    rows.sort(byId);
    const grouped = new Map<string, unknown[]>();
    for (const r of rows) {
      const list = grouped.get(r.id_event) ?? [];
      list.push(commentEntry(r));
      grouped.set(r.id_event, list);
    }
    for (const [id, stat] of cut) grouped.set(String(id), await this.newestComments(id, stat));
    for (const key of wanted.keys()) {
      const list = grouped.get(key);
      out.set(key, list ? JSON.stringify(list) : '');
    }
    return out;
  }

  /**
   * The newest comments of one event that fit the limits (a run back from the newest: it stops
   * at the first that does not fit), oldest first, after a mark that says how many older ones
   * this copy leaves out. The mark changes with the count, so a comment added later still
   * reaches the copy; the Instance keeps every comment.
   */
  private async newestComments(id: bigint, stat: CommentStat): Promise<unknown[]> {
    const { maxComments, maxCommentBytes } = this.budget;
    const sizes = await this.q<SizeRow>(
      `SELECT id, ${COMMENT_BYTES} AS bytes FROM tevent_comment WHERE id_event = ? ORDER BY id DESC LIMIT ?`,
      [id, maxComments],
    );
    const keep: bigint[] = [];
    let total = 0;
    for (const s of sizes) {
      const bytes = Number(s.bytes ?? 0);
      if (total + bytes > maxCommentBytes) break;
      total += bytes;
      keep.push(BigInt(s.id));
    }
    const rows: CommentRow[] = [];
    for (const part of chunks(keep, IN_LIST_MAX)) {
      rows.push(
        ...(await this.q<CommentRow>(
          'SELECT id, id_event, comment, action, id_user, utimestamp FROM tevent_comment WHERE id IN (?)',
          [part],
        )),
      );
    }
    rows.sort(byId);
    const list: unknown[] = rows.map(commentEntry);
    const left = Math.max(stat.count - rows.length, 0);
    if (left > 0) {
      list.unshift({
        comment: `[event-pull] ${left} older comment(s) not copied: this copy keeps the newest ${rows.length} of ${stat.count} (at most ${maxComments} comments and ${maxCommentBytes} bytes of text per event); the Instance has them all`,
        action: 'comments truncated',
        id_user: '',
        utimestamp: rows.length > 0 ? Number(rows[0].utimestamp) : 0,
      });
    }
    return list;
  }
}
