/**
 * What event-pull reads from (and, for write-back, writes to) one Instance database: tevento rows
 * past a checkpoint with the names the Command Center cannot join for itself, light rows for the
 * change re-poll, and tevent_comment rows.
 */
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { quoteId } from '../db/identifier';
import type { Pool } from '../db/pool';
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

export class InstanceSide {
  private selectHead = '';
  private names: EventNames | null = null;
  private serverId = 0;
  tables: InstanceTables | null = null;

  constructor(
    private readonly pool: Pool,
    private readonly queryTimeoutMs: number,
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
   * The comments of each event as the JSON array Pandora kept in user_comment before MR 66
   * ({comment, action, id_user, utimestamp}, oldest first); '' for an event without comments.
   */
  async commentsOf(ids: bigint[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (!this.tables?.tevent_comment) return out;
    if (ids.length === 0) return out;
    const grouped = new Map<string, unknown[]>();
    let min = ids[0];
    let max = ids[0];
    for (const id of ids) {
      if (id < min) min = id;
      if (id > max) max = id;
    }
    // A batch's ids are (nearly) consecutive: one range read instead of IN lists; comments of
    // events not asked for are left out below.
    const dense = max - min < BigInt(2 * ids.length);
    const reads = dense
      ? [
          () =>
            this.q<CommentRow>(
              'SELECT id, id_event, comment, action, id_user, utimestamp FROM tevent_comment WHERE id_event BETWEEN ? AND ?',
              [min, max],
            ),
        ]
      : chunks(ids, IN_LIST_MAX).map(
          (part) => () =>
            this.q<CommentRow>(
              'SELECT id, id_event, comment, action, id_user, utimestamp FROM tevent_comment WHERE id_event IN (?)',
              [part],
            ),
        );
    const rows: CommentRow[] = [];
    for (const read of reads) rows.push(...(await read()));
    // Oldest first, sorted here: an ORDER BY id could make the server walk the primary key.
    rows.sort((a, b) => {
      const d = BigInt(a.id) - BigInt(b.id);
      return d < 0n ? -1 : d > 0n ? 1 : 0;
    });
    for (const r of rows) {
      const list = grouped.get(r.id_event) ?? [];
      list.push({
        comment: r.comment,
        action: r.action,
        id_user: r.id_user,
        utimestamp: Number(r.utimestamp),
      });
      grouped.set(r.id_event, list);
    }
    for (const id of ids) {
      const list = grouped.get(String(id));
      out.set(String(id), list ? JSON.stringify(list) : '');
    }
    return out;
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
