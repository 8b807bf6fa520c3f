/**
 * The lease SQL, in one place: every statement a member sends to the lease and member tables.
 * Times are the database's (NOW(6)), never a member's clock. Each write touches rows by primary
 * key, or this session's own rows through the `holder` index, so that on Galera a member's write
 * certifies only against rows it writes. A tick's cost in statements does not grow with the units
 * a member holds: one renewal, one read of the rows, one take and one release at most.
 */
import type { ResultSetHeader, RowDataPacket } from 'mysql2';
import type { FenceConnection } from './gate';
import type { Pool } from '../db/pool';
import type { LeaseRow, MemberRow } from './planner';
import { notWritten, retryNotWritten } from './retry';
import { ensureClusterSchema, quoted } from './schema';

interface LeaseSqlRow extends RowDataPacket {
  unit: string;
  holder: string;
  token: string;
  live: number;
  overdue_us: string | null;
}

interface MemberSqlRow extends RowDataPacket {
  session: string;
  member: string;
  kinds: string;
}

interface TakenSqlRow extends RowDataPacket {
  unit: string;
  token: string;
  prev_holder: string;
  late_us: string | null;
}

/** A unit this session just took. */
export interface Taken {
  unit: string;
  token: string;
  /** The session that held it before ('' when it was free). */
  prevHolder: string;
  /** Milliseconds from the previous lease's end to this take (database clock). */
  lateMs: number;
}

export class LeaseTable {
  private readonly leaseUs: number;
  private readonly ensured = new Set<string>();
  private schemaReady = false;

  constructor(
    private readonly db: Pool,
    private readonly session: string,
    leaseMs: number,
  ) {
    this.leaseUs = leaseMs * 1000;
  }

  /** Creates the tables once (again after they were found missing). */
  async ensureSchema(): Promise<void> {
    if (this.schemaReady) return;
    await ensureClusterSchema(this.db);
    this.schemaReady = true;
  }

  /** The tables must be looked for again (a failure said one is missing). */
  schemaLost(): void {
    this.schemaReady = false;
    this.ensured.clear();
  }

  /** This session is alive and works these kinds. */
  async heartbeat(member: string, kinds: string): Promise<void> {
    await this.write(
      `INSERT INTO ${quoted.member} (session, member, kinds, seen, expires) VALUES (?, ?, ?, NOW(6), NOW(6) + INTERVAL ? MICROSECOND) ` +
        'ON DUPLICATE KEY UPDATE kinds = VALUES(kinds), seen = VALUES(seen), expires = VALUES(expires)',
      [this.session, member, kinds, this.leaseUs],
    );
  }

  /** A row for each unit not seen before (free, expired at once). */
  async ensureRows(units: readonly string[]): Promise<void> {
    const fresh = units.filter((u) => !this.ensured.has(u));
    if (fresh.length === 0) return;
    await this.write(
      `INSERT IGNORE INTO ${quoted.lease} (unit, holder, token, expires) VALUES ${fresh.map(() => "(?, '', 0, NOW(6))").join(', ')}`,
      fresh,
    );
    for (const u of fresh) this.ensured.add(u);
  }

  /**
   * Every lease of this session extended in one statement, whatever their number: the rows are
   * found through the `holder` index and are this session's alone, so the statement locks, and
   * on Galera certifies against, no other member's row.
   */
  async renew(): Promise<number> {
    const res = await this.write(
      `UPDATE ${quoted.lease} SET expires = NOW(6) + INTERVAL ? MICROSECOND WHERE holder = ?`,
      [this.leaseUs, this.session],
    );
    return res.affectedRows;
  }

  /** The live member sessions. */
  async members(): Promise<MemberRow[]> {
    const [rows] = await this.db.query<MemberSqlRow[]>(
      `SELECT session, member, kinds FROM ${quoted.member} WHERE expires > NOW(6)`,
    );
    return rows.map((r) => ({
      session: r.session,
      member: r.member,
      kinds: r.kinds === '' ? [] : r.kinds.split(','),
    }));
  }

  /** The lease rows of these units. */
  async leases(units: readonly string[]): Promise<LeaseRow[]> {
    if (units.length === 0) return [];
    const [rows] = await this.db.query<LeaseSqlRow[]>(
      `SELECT unit, holder, token, expires > NOW(6) AS live, TIMESTAMPDIFF(MICROSECOND, expires, NOW(6)) AS overdue_us FROM ${quoted.lease} WHERE unit IN (?)`,
      [units],
    );
    return rows.map((r) => ({
      unit: r.unit,
      holder: r.holder,
      token: String(r.token),
      live: Number(r.live) === 1,
      overdueMs: Number(r.overdue_us ?? 0) / 1000,
    }));
  }

  /**
   * Takes those of `units` still free or expired, each with the next fencing token, in one
   * statement, then reads what was taken. `units` must not be held by this session already (the
   * read tells this take's rows by holder). A take that loses to another member's write (Galera
   * certification, lock wait) takes nothing: the next tick looks again.
   */
  async take(units: readonly string[]): Promise<Taken[]> {
    if (units.length === 0) return [];
    try {
      await this.write(
        `UPDATE ${quoted.lease} SET prev_holder = holder, prev_expires = expires, holder = ?, token = token + 1, taken = NOW(6), expires = NOW(6) + INTERVAL ? MICROSECOND ` +
          "WHERE unit IN (?) AND (holder = '' OR expires < NOW(6))",
        [this.session, this.leaseUs, units],
      );
    } catch (err) {
      if (notWritten(err)) return [];
      throw err;
    }
    const [rows] = await this.db.query<TakenSqlRow[]>(
      `SELECT unit, token, prev_holder, TIMESTAMPDIFF(MICROSECOND, prev_expires, taken) AS late_us FROM ${quoted.lease} WHERE unit IN (?) AND holder = ?`,
      [units, this.session],
    );
    return rows.map((r) => ({
      unit: r.unit,
      token: String(r.token),
      prevHolder: r.prev_holder,
      lateMs: Number(r.late_us ?? 0) / 1000,
    }));
  }

  /** Hands these units back (free at once), in one statement. */
  async release(units: readonly string[]): Promise<void> {
    if (units.length === 0) return;
    await this.write(
      `UPDATE ${quoted.lease} SET holder = '', expires = NOW(6) WHERE unit IN (?) AND holder = ?`,
      [units, this.session],
    );
  }

  /**
   * The fence, inside the caller's transaction: writes the lease row, so that a take and this
   * transaction cannot both commit (on Galera too, where a row read FOR UPDATE is not certified
   * but a written one is). False when the lease is no longer this session's with `token`.
   */
  async fence(conn: FenceConnection, unit: string, token: string): Promise<boolean> {
    const [res] = (await conn.query(
      `UPDATE ${quoted.lease} SET fenced = fenced + 1 WHERE unit = ? AND holder = ? AND token = ? AND expires > NOW(6)`,
      [unit, this.session, token],
    )) as [ResultSetHeader];
    return res.affectedRows === 1;
  }

  /** A clean leave: every unit handed back and the session gone from the member list. */
  async leave(): Promise<void> {
    await this.write(`UPDATE ${quoted.lease} SET holder = '', expires = NOW(6) WHERE holder = ?`, [
      this.session,
    ]);
    await this.write(`DELETE FROM ${quoted.member} WHERE session = ?`, [this.session]);
  }

  /** Sessions gone for ten leases are only noise: found by a plain read, deleted by primary key. */
  async pruneGone(): Promise<void> {
    const [gone] = await this.db.query<MemberSqlRow[]>(
      `SELECT session FROM ${quoted.member} WHERE expires < NOW(6) - INTERVAL ? MICROSECOND`,
      [this.leaseUs * 10],
    );
    for (const g of gone) {
      await this.write(`DELETE FROM ${quoted.member} WHERE session = ?`, [g.session]);
    }
  }

  /** A write that loses certification (Galera, 1213) is run again: it wrote nothing. */
  private async write(sql: string, values: unknown[]): Promise<ResultSetHeader> {
    return retryNotWritten(async () => (await this.db.query<ResultSetHeader>(sql, values))[0]);
  }
}
