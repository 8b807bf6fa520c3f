/**
 * What event-pull reads from (and, for write-back, writes to) one Instance database: tevento rows
 * past a checkpoint with the names the Command Center cannot join for itself, light rows for the
 * change re-poll (tevent_comment is instance-comments.ts's).
 */
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { quoteId } from '../db/identifier';
import type { Pool } from '../db/pool';
import { budgetOf, EVENT_OVERHEAD, type Budget } from './budget';
import { EventPullError } from './errors';
import { chunks, IN_LIST_MAX } from './in-list';
import { InstanceComments } from './instance-comments';
import {
  FILLED_COLUMNS,
  REQUIRED_EVENT_COLUMNS,
  stateChecksum,
  toState,
  type StateSum,
  type EventState,
  type InstanceTables,
  type Row,
} from './model';
import { EventNames } from './names';

interface ColumnRow extends RowDataPacket {
  t: string;
  c: string;
}

interface SizeRow extends RowDataPacket {
  id: string;
  bytes: string | number | null;
}

export class InstanceSide {
  private selectHead = '';
  /** The SQL sum of the lengths of the tevento values a copy reads (set by prepare()). */
  private sizeExpr = '0';
  private names: EventNames | null = null;
  private serverId = 0;
  tables: InstanceTables | null = null;
  /** Its tevent_comment (nothing is read when the Instance has none). */
  readonly comments: InstanceComments;

  constructor(
    private readonly pool: Pool,
    private readonly queryTimeoutMs: number,
    budget: Budget = budgetOf(),
  ) {
    this.comments = new InstanceComments(
      (sql, values) => this.q(sql, values),
      budget,
      () => this.tables?.tevent_comment ?? false,
    );
  }

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
    if (tevento.size === 0) throw new EventPullError('ERR_EVENT_PULL_NO_TEVENTO');
    const missing = REQUIRED_EVENT_COLUMNS.filter((c) => !tevento.has(c));
    if (missing.length > 0) {
      throw new EventPullError('ERR_EVENT_PULL_TEVENTO_COLUMNS', { missing: missing.join(', ') });
    }
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
    const filled = FILLED_COLUMNS;
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

  /** Per bucket of RECHECK_BUCKET ids of (fromId, toId]: its events' count and state checksum. */
  async stateSums(fromId: bigint, toId: bigint, bucket: number): Promise<StateSum[]> {
    const rows = await this.q(
      `SELECT FLOOR((id_evento - ? - 1) / ?) AS b, COUNT(*) AS n, SUM(${stateChecksum()}) AS s FROM tevento WHERE id_evento > ? AND id_evento <= ? GROUP BY b`,
      [fromId, bucket, fromId, toId],
    );
    return rows.map((r) => ({ bucket: Number(r.b), count: Number(r.n), sum: String(r.s) }));
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
