/**
 * The four names a copy carries beside tevento's ids (agent, group, module, alert template),
 * looked up on the Instance by id and kept for the rest of the round (or a second, for rounds
 * more frequent than that). Joining them into every
 * SELECT of events cost more server time than writing the copies; a batch of events names few
 * distinct agents, groups, modules and alerts, so most lookups are answered from memory.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { chunks, IN_LIST_MAX } from './in-list';
import type { InstanceTables, NameColumn, Row } from './model';

interface NameRow extends RowDataPacket {
  id: string | number;
  name: string | null;
}

/** An id as a map key: INT ids come as numbers, BIGINT ones as strings (big ones stay strings). */
type Key = number | string;
const keyOf = (id: unknown): Key =>
  typeof id === 'number' ? id : /^\d{1,15}$/.test(String(id)) ? Number(id) : String(id);

interface NameKind {
  /** The copy's column. */
  column: NameColumn;
  /** The tevento column holding the id. */
  idColumn: string;
  /** Ids to names; `?` is the IN list. Null when this Instance lacks the tables. */
  sql: string | null;
  /** Names that are no row's (Pandora shows group 0 as "All": there is no tgrupo row for it). */
  fixed?: Map<Key, string>;
}

/** A round with this many names in memory starts over (a long drain over many modules). */
const MAX_KEPT = 100_000;

export class EventNames {
  private readonly kinds: NameKind[];
  private readonly known = new Map<NameKind['column'], Map<Key, string>>();
  private kept = 0;
  /** When the names now kept started to be read. */
  private since = 0;

  /** `wanted`: the copy's columns (names it has no column for are not looked up). */
  constructor(
    tables: InstanceTables,
    wanted: Set<string>,
    private readonly lookup: (sql: string, values: unknown[]) => Promise<NameRow[]>,
  ) {
    const t = tables;
    const ev = t.tevento;
    const all: NameKind[] = [
      {
        column: 'agent_name',
        idColumn: 'id_agente',
        sql:
          t.tagente && ev.has('id_agente')
            ? 'SELECT id_agente AS id, nombre AS name FROM tagente WHERE id_agente IN (?)'
            : null,
      },
      {
        column: 'group_name',
        idColumn: 'id_grupo',
        sql:
          t.tgrupo && ev.has('id_grupo')
            ? 'SELECT id_grupo AS id, nombre AS name FROM tgrupo WHERE id_grupo IN (?)'
            : null,
        fixed: ev.has('id_grupo') ? new Map([[0, 'All']]) : undefined,
      },
      {
        column: 'module_name',
        idColumn: 'id_agentmodule',
        sql:
          t.tagente_modulo && ev.has('id_agentmodule')
            ? 'SELECT id_agente_modulo AS id, nombre AS name FROM tagente_modulo WHERE id_agente_modulo IN (?)'
            : null,
      },
      {
        column: 'alert_template_name',
        idColumn: 'id_alert_am',
        sql:
          t.talert_template_modules && t.talert_templates && ev.has('id_alert_am')
            ? 'SELECT tm.id AS id, tt.name AS name FROM talert_template_modules tm JOIN talert_templates tt ON tt.id = tm.id_alert_template WHERE tm.id IN (?)'
            : null,
      },
    ];
    this.kinds = all.filter((k) => wanted.has(k.column));
    for (const k of this.kinds) this.known.set(k.column, new Map());
  }

  /** Forgets the names if read more than `olderThanMs` ago (all, when no age is given). */
  forget(olderThanMs = 0): void {
    if (olderThanMs > 0 && Date.now() - this.since < olderThanMs) return;
    for (const m of this.known.values()) m.clear();
    this.kept = 0;
    this.since = Date.now();
  }

  /** Sets the four name columns of each row, reading the names not yet known. */
  async fill(rows: Row[]): Promise<void> {
    if (this.kept > MAX_KEPT) this.forget();
    for (const kind of this.kinds) {
      const known = this.known.get(kind.column)!;
      const keys = new Array<Key | null>(rows.length);
      const missing = new Set<Key>();
      for (let i = 0; i < rows.length; i++) {
        const id = rows[i][kind.idColumn];
        const key = id === null || id === undefined ? null : keyOf(id);
        keys[i] = key;
        if (key !== null && kind.sql && !known.has(key) && !kind.fixed?.has(key)) missing.add(key);
      }
      for (const part of chunks([...missing], IN_LIST_MAX)) {
        for (const row of await this.lookup(kind.sql!, [part])) {
          known.set(keyOf(row.id), row.name ?? '');
        }
        // An id with no row has no name, as the LEFT JOIN it replaces gave.
        for (const key of part) if (!known.has(key)) known.set(key, '');
        this.kept += part.length;
      }
      for (let i = 0; i < rows.length; i++) {
        const key = keys[i];
        rows[i][kind.column] = key === null ? '' : (kind.fixed?.get(key) ?? known.get(key) ?? '');
      }
    }
  }
}
