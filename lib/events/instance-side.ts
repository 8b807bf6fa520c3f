/**
 * What event-pull reads from (and, for write-back, writes to) one Instance database: tevento rows
 * past a checkpoint with the names the Command Center cannot join for itself, light rows for the
 * change re-poll, and tevent_comment rows.
 */
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { quoteId } from '../db/identifier';
import type { Pool } from '../db/pool';
import {
  budgetOf,
  EVENT_OVERHEAD,
  keptCommentBytes,
  overLimit,
  type Budget,
  type CommentStat,
} from './budget';
import { chunks, IN_LIST_MAX } from './in-list';
import { EventNames, NAME_COLUMNS } from './names';

export type Row = Record<string, unknown>;

/** The fields whose change on an event already copied must reach the copy (or go back). */
export interface EventState {
  id: bigint;
  estado: number;
  id_usuario: string;
  owner_user: string;
  ack_utimestamp: string;
}

/** Which optional Instance tables exist; Pandora versions and trimmed installs differ. */
export interface InstanceTables {
  tevento: Set<string>;
  tagente: boolean;
  tgrupo: boolean;
  tagente_modulo: boolean;
  talert_template_modules: boolean;
  talert_templates: boolean;
  tevent_comment: boolean;
}

interface ColumnRow extends RowDataPacket {
  t: string;
  c: string;
}

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

const REQUIRED_EVENT_COLUMNS = [
  'id_evento',
  'estado',
  'ack_utimestamp',
  'id_usuario',
  'owner_user',
];

export function toState(row: Row): EventState {
  return {
    id: BigInt(String(row.id_evento ?? row.id_source_event)),
    estado: Number(row.estado),
    id_usuario: String(row.id_usuario ?? ''),
    owner_user: String(row.owner_user ?? ''),
    ack_utimestamp: String(row.ack_utimestamp ?? '0'),
  };
}

export function sameState(a: EventState, b: EventState): boolean {
  return (
    a.estado === b.estado &&
    a.id_usuario === b.id_usuario &&
    a.owner_user === b.owner_user &&
    a.ack_utimestamp === b.ack_utimestamp
  );
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

export class InstanceSide {
  private selectHead = '';
  /** The SQL sum of the lengths of the tevento values a copy reads (set by prepare()). */
  private sizeExpr = '0';
  private names: EventNames | null = null;
  private serverId = 0;
  tables: InstanceTables | null = null;

  constructor(
    private readonly pool: Pool,
    private readonly queryTimeoutMs: number,
    private readonly budget: Budget = budgetOf(),
  ) {}

  private async q<T extends RowDataPacket = RowDataPacket>(
    sql: string,
    values: unknown[] = [],
  ): Promise<T[]> {
    const [rows] = await this.pool.query<T[]>({ sql, timeout: this.queryTimeoutMs }, values);
    return rows;
  }

  /** Reads which tables and tevento columns this Instance has; fails clearly when tevento is unusable. */
  async describe(): Promise<InstanceTables> {
    const rows = await this.q<ColumnRow>(
      'SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?)',
      [
        [
          'tevento',
          'tagente',
          'tgrupo',
          'tagente_modulo',
          'talert_template_modules',
          'talert_templates',
          'tevent_comment',
        ],
      ],
    );
    const cols = (t: string): Set<string> => new Set(rows.filter((r) => r.t === t).map((r) => r.c));
    const tevento = cols('tevento');
    if (tevento.size === 0) throw new Error('table tevento does not exist in this database');
    const missing = REQUIRED_EVENT_COLUMNS.filter((c) => !tevento.has(c));
    if (missing.length > 0) throw new Error(`tevento lacks column(s) ${missing.join(', ')}`);
    const has = (t: string, ...c: string[]): boolean => c.every((x) => cols(t).has(x));
    const tables: InstanceTables = {
      tevento,
      tagente: has('tagente', 'id_agente', 'nombre'),
      tgrupo: has('tgrupo', 'id_grupo', 'nombre'),
      tagente_modulo: has('tagente_modulo', 'id_agente_modulo', 'nombre'),
      talert_template_modules: has('talert_template_modules', 'id', 'id_alert_template'),
      talert_templates: has('talert_templates', 'id', 'name'),
      tevent_comment: has('tevent_comment', 'id', 'id_event', 'comment'),
    };
    this.tables = tables;
    return tables;
  }

  /**
   * Builds the SELECT that returns events in the copy's shape: `copyColumns` in that order, with
   * id_evento as id_source_event, `serverId` as server_id, and the names and comments empty, to
   * be filled in place (every row keeps the one shape the driver gave it).
   */
  prepare(copyColumns: string[], serverId: number): void {
    const t = this.tables;
    if (!t) throw new Error('describe() first');
    const filled = new Set<string>([...NAME_COLUMNS, 'user_comment']);
    const fields = copyColumns.map((c) =>
      c === 'id_source_event'
        ? 'e.id_evento AS id_source_event'
        : c === 'server_id'
          ? '? AS server_id'
          : filled.has(c)
            ? `'' AS ${quoteId(c)}`
            : `e.${quoteId(c)}`,
    );
    this.selectHead = `SELECT ${fields.join(', ')} FROM tevento e`;
    const read = copyColumns.filter(
      (c) => c !== 'id_source_event' && c !== 'server_id' && !filled.has(c),
    );
    this.sizeExpr =
      read.length > 0 ? read.map((c) => `COALESCE(LENGTH(e.${quoteId(c)}), 0)`).join(' + ') : '0';
    this.serverId = serverId;
    this.names = new EventNames(t, new Set(copyColumns), (sql, values) => this.q(sql, values));
  }

  /** Forgets the names read more than `olderThanMs` ago (rounds read them afresh). */
  forgetNames(olderThanMs: number): void {
    this.names?.forget(olderThanMs);
  }

  /** Events with their four names set. */
  private async named(rows: Row[]): Promise<Row[]> {
    await this.names!.fill(rows);
    return rows;
  }

  /** Up to `limit` events with an id above `afterId`, in id order, in the copy's shape. */
  async eventsAfter(afterId: bigint, limit: number): Promise<Row[]> {
    return this.named(
      await this.q(`${this.selectHead} WHERE e.id_evento > ? ORDER BY e.id_evento LIMIT ?`, [
        this.serverId,
        afterId,
        limit,
      ]),
    );
  }

  /**
   * What each of the next `limit` events past `afterId` weighs (its values' bytes and
   * EVENT_OVERHEAD), in id order: the server measures, nothing big is read.
   */
  async sizesAfter(afterId: bigint, limit: number): Promise<{ id: bigint; bytes: number }[]> {
    const rows = await this.q<SizeRow>(
      `SELECT e.id_evento AS id, ${this.sizeExpr} AS bytes FROM tevento e WHERE e.id_evento > ? ORDER BY e.id_evento LIMIT ?`,
      [afterId, limit],
    );
    return rows.map((r) => ({ id: BigInt(r.id), bytes: Number(r.bytes ?? 0) + EVENT_OVERHEAD }));
  }

  /** The same for named events (absent ones are left out). */
  async sizesById(ids: bigint[]): Promise<Map<bigint, number>> {
    const out = new Map<bigint, number>();
    for (const part of chunks(ids, IN_LIST_MAX)) {
      const rows = await this.q<SizeRow>(
        `SELECT e.id_evento AS id, ${this.sizeExpr} AS bytes FROM tevento e WHERE e.id_evento IN (?)`,
        [part],
      );
      for (const r of rows) out.set(BigInt(r.id), Number(r.bytes ?? 0) + EVENT_OVERHEAD);
    }
    return out;
  }

  /** The named events (those that changed since they were copied). */
  async eventsById(ids: bigint[]): Promise<Row[]> {
    const out: Row[] = [];
    for (const part of chunks(ids, IN_LIST_MAX)) {
      out.push(
        ...(await this.q(`${this.selectHead} WHERE e.id_evento IN (?) ORDER BY e.id_evento`, [
          this.serverId,
          part,
        ])),
      );
    }
    return this.named(out);
  }

  /** Light rows of events in (fromId, toId]: the bounded re-check window of recent events. */
  async statesInRange(fromId: bigint, toId: bigint): Promise<EventState[]> {
    const rows = await this.q(
      'SELECT id_evento, estado, id_usuario, owner_user, ack_utimestamp FROM tevento WHERE id_evento > ? AND id_evento <= ?',
      [fromId, toId],
    );
    return rows.map(toState);
  }

  /**
   * Light rows of events up to `maxId` validated or taken at or after `sinceAck`. tevento has no
   * index on ack_utimestamp, so this scans the table; Pandora purges it (event_purge days).
   * An ack_utimestamp of 0 is an event nobody has validated or taken: not a change, and while
   * the cursor is still at 0 it would be every event of the table, every round.
   */
  async statesAckedSince(sinceAck: number, maxId: bigint, limit: number): Promise<EventState[]> {
    const rows = await this.q(
      'SELECT id_evento, estado, id_usuario, owner_user, ack_utimestamp FROM tevento WHERE ack_utimestamp >= ? AND id_evento <= ? ORDER BY ack_utimestamp LIMIT ?',
      [Math.max(1, sinceAck), maxId, limit],
    );
    return rows.map(toState);
  }

  async statesById(ids: bigint[]): Promise<Map<bigint, EventState>> {
    const out = new Map<bigint, EventState>();
    for (const part of chunks(ids, IN_LIST_MAX)) {
      const rows = await this.q(
        'SELECT id_evento, estado, id_usuario, owner_user, ack_utimestamp FROM tevento WHERE id_evento IN (?)',
        [part],
      );
      for (const r of rows.map(toState)) out.set(r.id, r);
    }
    return out;
  }

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
    if (!this.tables?.tevent_comment || ids.length === 0) return out;
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
    if (!this.tables?.tevent_comment) return out;
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

  /**
   * Writes a validation made on the Command Center's copy back to tevento, unless the Instance
   * changed the event itself at the same time or later (the newer ack_utimestamp wins).
   */
  async writeBack(state: EventState): Promise<boolean> {
    const [res] = await this.pool.query<ResultSetHeader>(
      {
        sql: 'UPDATE tevento SET estado = ?, id_usuario = ?, owner_user = ?, ack_utimestamp = ? WHERE id_evento = ? AND ack_utimestamp < ?',
        timeout: this.queryTimeoutMs,
      },
      [
        state.estado,
        state.id_usuario,
        state.owner_user,
        BigInt(state.ack_utimestamp),
        state.id,
        BigInt(state.ack_utimestamp),
      ],
    );
    return res.affectedRows === 1;
  }
}
