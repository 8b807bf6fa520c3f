/**
 * SharedDeliveries over the Command Center database: the files members stored from a buffer and
 * have not yet seen leave it. A file is recorded `stored` in one transaction fenced by the
 * buffer's lease, while it is durable under its temp name and before its rename: that commit is
 * the point of no return. A member that takes the buffer over never waits: a record means done
 * (it only removes the file from the buffer), no record means not done (its old holder can no
 * longer commit one, so it delivers the file again at once).
 *
 * Galera: every write here touches rows by primary key only (no range scan that would lock or
 * certify another member's rows), and a transaction that loses certification (1213) is run
 * again quietly.
 */
import type { ResultSetHeader, RowDataPacket } from 'mysql2';
import type { Pool } from '../db/pool';
import { inTransaction, type Fence } from '../db/transaction';
import { CommitUncertain } from './errors';
import { units, type DeliveredFile, type SharedDeliveries } from './gate';
import type { LeaseManager } from './lease-manager';
import { notWritten, retryNotWritten } from './retry';
import { quoted } from './schema';

interface StateRow extends RowDataPacket {
  state: string;
}

interface KeyRow extends RowDataPacket {
  unit: string;
  name: string;
  size: string;
  sha1: string;
}

const KEY = 'unit = ? AND name = ? AND size = ? AND sha1 = ?';
const done = (state: string | undefined): boolean => state === 'stored' || state === 'placed';
const PULL = units.pull('');

export class DbDeliveries implements SharedDeliveries {
  constructor(
    private readonly db: Pool,
    private readonly leases: LeaseManager,
  ) {}

  private key(address: string, e: DeliveredFile): unknown[] {
    return [units.pull(address), e.name, e.size, e.sha1];
  }

  async state(address: string, e: DeliveredFile): Promise<'stored' | null> {
    const [rows] = await this.db.query<StateRow[]>(
      `SELECT state FROM ${quoted.delivery} WHERE ${KEY}`,
      this.key(address, e),
    );
    // A `storing` record (earlier versions) was never a commitment: its file is not done.
    return done(rows[0]?.state) ? 'stored' : null;
  }

  record(address: string, e: DeliveredFile): Promise<boolean> {
    return retryNotWritten(() => this.recordOnce(address, e));
  }

  private async recordOnce(address: string, e: DeliveredFile): Promise<boolean> {
    const unit = units.pull(address);
    let wrote = false;
    let committing = false;
    // As late as possible: the lease row is written, so a take and this cannot both commit.
    const fence: Fence = async (conn) => {
      if (wrote) await this.leases.fence(unit)(conn);
      committing = true;
    };
    try {
      return await inTransaction(
        this.db,
        async (conn) => {
          const [rows] = await conn.query<StateRow[]>(
            `SELECT state FROM ${quoted.delivery} WHERE ${KEY} FOR UPDATE`,
            this.key(address, e),
          );
          if (done(rows[0]?.state)) return false;
          await conn.query(
            `INSERT INTO ${quoted.delivery} (unit, name, size, sha1, state, member, session, token, stored) VALUES (?, ?, ?, ?, 'stored', ?, ?, ?, NOW(6)) ` +
              "ON DUPLICATE KEY UPDATE state = 'stored', member = VALUES(member), session = VALUES(session), token = VALUES(token), stored = VALUES(stored)",
            [
              ...this.key(address, e),
              this.leases.member,
              this.leases.session,
              this.leases.token(unit) ?? '0',
            ],
          );
          wrote = true;
          return true;
        },
        // Certification failures are run again by the caller, after a pause.
        { fence, attempts: 1 },
      );
    } catch (err) {
      // The COMMIT failed: "not written" (certification) is thrown as is to be retried; any
      // other failure leaves it unknown, and the caller must then keep the file.
      if (committing && wrote && !notWritten(err)) throw new CommitUncertain(err);
      throw err;
    }
  }

  async placed(address: string, e: DeliveredFile): Promise<void> {
    // This member's own row, by primary key; no fence needed: nobody else writes a record
    // that is `stored` (the holder only reads it, and prunes it once placed).
    await retryNotWritten(() =>
      this.db.query(
        `UPDATE ${quoted.delivery} SET state = 'placed' WHERE ${KEY} AND session = ? AND state = 'stored'`,
        [...this.key(address, e), this.leases.session],
      ),
    );
  }

  async placedEarlier(): Promise<number> {
    const [rows] = await this.db.query<KeyRow[]>(
      `SELECT unit, name, size, sha1 FROM ${quoted.delivery} WHERE member = ? AND state = 'stored' AND session <> ?`,
      [this.leases.member, this.leases.session],
    );
    for (const r of rows) {
      await retryNotWritten(() =>
        this.db.query(
          `UPDATE ${quoted.delivery} SET state = 'placed' WHERE ${KEY} AND member = ? AND state = 'stored'`,
          [r.unit, r.name, r.size, r.sha1, this.leases.member],
        ),
      );
    }
    return rows.length;
  }

  async forget(address: string, e: DeliveredFile): Promise<void> {
    const unit = units.pull(address);
    await retryNotWritten(() =>
      inTransaction(
        this.db,
        async (conn) => {
          await conn.query(`DELETE FROM ${quoted.delivery} WHERE ${KEY} AND session = ?`, [
            ...this.key(address, e),
            this.leases.session,
          ]);
        },
        { fence: this.leases.fence(unit), attempts: 1 },
      ),
    );
  }

  async prune(address: string, listed: readonly string[]): Promise<void> {
    const unit = units.pull(address);
    // A plain read locks nothing; each gone record is then deleted by its primary key alone.
    // A `stored` one stays: its file may still wait under a temp name for its member's restart.
    const [rows] = await this.db.query<KeyRow[]>(
      `SELECT unit, name, size, sha1 FROM ${quoted.delivery} WHERE unit = ? AND state <> 'stored'`,
      [unit],
    );
    const present = new Set(listed);
    for (const r of rows) {
      if (present.has(r.name)) continue;
      try {
        await this.db.query<ResultSetHeader>(
          `DELETE FROM ${quoted.delivery} WHERE ${KEY} AND state <> 'stored'`,
          [r.unit, r.name, r.size, r.sha1],
        );
      } catch (err) {
        // Lost certification: the next round prunes it.
        if (!notWritten(err)) throw err;
      }
    }
  }

  async storedHere(e: DeliveredFile): Promise<string | null> {
    const [rows] = await this.db.query<KeyRow[]>(
      `SELECT unit FROM ${quoted.delivery} WHERE member = ? AND name = ? AND size = ? AND sha1 = ? AND state = 'stored' AND unit LIKE ? LIMIT 1`,
      [this.leases.member, e.name, e.size, e.sha1, `${PULL}%`],
    );
    const unit = rows[0]?.unit;
    return unit === undefined ? null : unit.slice(PULL.length);
  }
}
