/**
 * event-pull's model, defined once: an event row and its state, what an Instance offers, the
 * checkpoint, and the copy's columns (tmetaconsole_event beside tevento). Every other file of
 * lib/events imports these from here, so no two of them import each other.
 */

/** An event as the driver returns it, in the copy's shape (see InstanceSide.prepare). */
export type Row = Record<string, unknown>;

/** The fields whose change on an event already copied must reach the copy (or go back). */
export interface EventState {
  id: bigint;
  estado: number;
  id_usuario: string;
  owner_user: string;
  ack_utimestamp: string;
}

/** A copy's state, with the SHA-1 (hex) of its user_comment instead of the text. */
export type CopyState = EventState & { commentSha1: string };

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
 * The SQL checksum of one event's state (the fields sameState compares), the same text on both
 * sides: `?` is the table alias's prefix. CONCAT_WS skips NULLs, as toState reads NULL as ''.
 */
export function stateChecksum(prefix = ''): string {
  const f = ['estado', 'id_usuario', 'owner_user', 'ack_utimestamp'].map((c) => `${prefix}${c}`);
  return `CRC32(CONCAT_WS('|', ${f.join(', ')}))`;
}

/** The events of one bucket of ids (a slice of the re-check window): how many, and their checksum. */
export interface StateSum {
  bucket: number;
  count: number;
  /** The sum of the events' state checksums, as text (a DECIMAL). */
  sum: string;
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

/** tevento columns the copy cannot do without. */
export const REQUIRED_EVENT_COLUMNS = [
  'id_evento',
  'estado',
  'ack_utimestamp',
  'id_usuario',
  'owner_user',
];

/** tmetaconsole_event columns the copy cannot do without. */
export const REQUIRED_COPY_COLUMNS = ['id_source_event', 'server_id', 'estado', 'ack_utimestamp'];

/** How far one Instance has been copied; stored in tevent_pull_checkpoint. */
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

export function sameCheckpoint(a: Checkpoint, b: Checkpoint): boolean {
  return (
    a.lastId === b.lastId &&
    a.lastAck === b.lastAck &&
    a.lastCommentId === b.lastCommentId &&
    a.lastCcAck === b.lastCcAck
  );
}

/** The copy's key: which Instance (server_id) and which of its events (id_source_event). */
export const KEY_COLUMNS = ['id_source_event', 'server_id'] as const;

/** The names a copy carries beside tevento's ids (looked up on the Instance, names.ts). */
export const NAME_COLUMNS = [
  'agent_name',
  'group_name',
  'module_name',
  'alert_template_name',
] as const;

export type NameColumn = (typeof NAME_COLUMNS)[number];

/** The copy's comments: a JSON array of tevent_comment rows (as Pandora kept it before MR 66). */
export const COMMENT_COLUMN = 'user_comment';

/** The copy's own columns, beside those that have the same name as in tevento. */
export const COPY_ONLY_COLUMNS: readonly string[] = [
  ...KEY_COLUMNS,
  ...NAME_COLUMNS,
  COMMENT_COLUMN,
];

/** Columns of a copy filled in after the SELECT (names and comments), empty until then. */
export const FILLED_COLUMNS: ReadonlySet<string> = new Set<string>([
  ...NAME_COLUMNS,
  COMMENT_COLUMN,
]);

/**
 * The copy's columns, in the order of every batch's rows and values: the key, the tevento
 * columns both sides have, the names the Command Center has columns for, and the comments when
 * both sides keep them.
 */
export function copyColumns(
  tevento: Iterable<string>,
  cc: ReadonlySet<string>,
  comments: boolean,
): string[] {
  const shared = [...tevento].filter(
    (c) => c !== 'id_evento' && cc.has(c) && !COPY_ONLY_COLUMNS.includes(c),
  );
  const names = NAME_COLUMNS.filter((c) => cc.has(c));
  const comment = comments && cc.has(COMMENT_COLUMN) ? [COMMENT_COLUMN] : [];
  return [...KEY_COLUMNS, ...shared, ...names, ...comment];
}

/** A batch ready to write: the copy's columns, each row's values in that order, the events sent. */
export interface Copies {
  columns: string[];
  values: unknown[][];
  events: Row[];
}

/** The values of `rows` in the order of `columns` (the rows are the events the batch sends). */
export function copiesOf(rows: Row[], columns: string[]): Copies {
  const values = new Array<unknown[]>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const vals = new Array<unknown>(columns.length);
    for (let k = 0; k < columns.length; k++) vals[k] = r[columns[k]];
    values[i] = vals;
  }
  return { columns, values, events: rows };
}
