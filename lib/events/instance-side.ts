/**
 * What event-pull reads from (and, for write-back, writes to) one Instance database: tevento rows
 * past a checkpoint with the names the Command Center cannot join for itself, light rows for the
 * change re-poll, and tevent_comment rows.
 */
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { Pool } from '../db/pool';

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

/**
 * Most values in one IN list. MariaDB turns an IN list of 1000 values or more
 * (in_predicate_conversion_threshold) into a join with a derived table, which it may answer by
 * scanning the whole table instead of looking each value up in the index.
 */
export const IN_LIST_MAX = 500;

/** Splits a list into slices of at most `size` (IN lists and multi-row statements stay bounded). */
export function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

export class InstanceSide {
  private selectHead = '';
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

  /** Builds the SELECT that returns the given tevento columns plus the four denormalised names. */
  prepare(columns: string[]): void {
    const t = this.tables;
    if (!t) throw new Error('describe() first');
    const list = ['id_evento', ...columns.filter((c) => c !== 'id_evento')];
    const fields = list.map((c) => `e.\`${c}\``);
    const joins: string[] = [];
    // Pandora's own console shows group 0 as "All": there is no tgrupo row for it.
    const hasGroup = t.tevento.has('id_grupo');
    if (t.tagente && t.tevento.has('id_agente')) {
      joins.push('LEFT JOIN tagente a ON a.id_agente = e.id_agente');
      fields.push("COALESCE(a.nombre, '') AS agent_name");
    } else fields.push("'' AS agent_name");
    if (t.tgrupo && hasGroup) {
      joins.push('LEFT JOIN tgrupo g ON g.id_grupo = e.id_grupo');
      fields.push(
        "CASE WHEN e.id_grupo = 0 THEN 'All' ELSE COALESCE(g.nombre, '') END AS group_name",
      );
    } else if (hasGroup)
      fields.push("CASE WHEN e.id_grupo = 0 THEN 'All' ELSE '' END AS group_name");
    else fields.push("'' AS group_name");
    if (t.tagente_modulo && t.tevento.has('id_agentmodule')) {
      joins.push('LEFT JOIN tagente_modulo m ON m.id_agente_modulo = e.id_agentmodule');
      fields.push("COALESCE(m.nombre, '') AS module_name");
    } else fields.push("'' AS module_name");
    if (t.talert_template_modules && t.talert_templates && t.tevento.has('id_alert_am')) {
      joins.push('LEFT JOIN talert_template_modules tm ON tm.id = e.id_alert_am');
      joins.push('LEFT JOIN talert_templates tt ON tt.id = tm.id_alert_template');
      fields.push("COALESCE(tt.name, '') AS alert_template_name");
    } else fields.push("'' AS alert_template_name");
    this.selectHead = `SELECT ${fields.join(', ')} FROM tevento e ${joins.join(' ')}`;
  }

  /** Up to `limit` events with an id above `afterId`, in id order. */
  async eventsAfter(afterId: bigint, limit: number): Promise<Row[]> {
    return this.q(`${this.selectHead} WHERE e.id_evento > ? ORDER BY e.id_evento LIMIT ?`, [
      afterId,
      limit,
    ]);
  }

  /** The named events (those that changed since they were copied). */
  async eventsById(ids: bigint[]): Promise<Row[]> {
    const out: Row[] = [];
    for (const part of chunks(ids, IN_LIST_MAX)) {
      out.push(
        ...(await this.q(`${this.selectHead} WHERE e.id_evento IN (?) ORDER BY e.id_evento`, [
          part,
        ])),
      );
    }
    return out;
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
    const grouped = new Map<string, unknown[]>();
    for (const part of chunks(ids, IN_LIST_MAX)) {
      const rows = await this.q<CommentRow>(
        'SELECT id_event, comment, action, id_user, utimestamp FROM tevent_comment WHERE id_event IN (?) ORDER BY id',
        [part],
      );
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
