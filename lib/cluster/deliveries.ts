/**
 * SharedDeliveries over the Command Center database: the files a member is storing or stored from
 * a buffer and has not yet seen leave it. `storing` is recorded with the buffer's lease (fenced, one
 * transaction) before the file is renamed into place, `stored` after; so a member that takes the
 * buffer over never delivers a file a second time, and never drops one whose delivery is in doubt:
 * it waits for the member that wrote the record to settle it from its own disk at its restart (or
 * for the record to be older than `doubtSeconds`, when it delivers it after all).
 */
import type { RowDataPacket } from 'mysql2';
import type { Pool } from '../db/pool';
import { units, type DeliveredFile, type DeliveryState, type SharedDeliveries } from './gate';
import type { LeaseManager } from './lease-manager';
import { quoted } from './schema';

interface StateRow extends RowDataPacket {
  state: DeliveryState;
  session: string;
  stale: number;
}

interface RecordRow extends RowDataPacket {
  unit: string;
  session: string;
  name: string;
  size: string;
  sha1: string;
}

const KEY = 'unit = ? AND name = ? AND size = ? AND sha1 = ?';

export class DbDeliveries implements SharedDeliveries {
  /** How long a `storing` record of a member that stopped is waited for; default 10 leases. */
  readonly doubtMs: number;

  constructor(
    private readonly db: Pool,
    private readonly leases: LeaseManager,
    doubtSeconds?: number,
  ) {
    this.doubtMs = doubtSeconds !== undefined ? doubtSeconds * 1000 : leases.leaseMs * 10;
  }

  private key(address: string, e: DeliveredFile): unknown[] {
    return [units.pull(address), e.name, e.size, e.sha1];
  }

  async state(address: string, e: DeliveredFile): Promise<DeliveryState | null> {
    const [rows] = await this.db.query<StateRow[]>(
      `SELECT state, session, stored < NOW(6) - INTERVAL ? MICROSECOND AS stale FROM ${quoted.delivery} WHERE ${KEY}`,
      [this.doubtMs * 1000, ...this.key(address, e)],
    );
    const r = rows[0];
    if (!r) return null;
    if (r.state === 'storing' && Number(r.stale) === 1) return null;
    return r.state;
  }

  async storing(address: string, e: DeliveredFile): Promise<void> {
    const unit = units.pull(address);
    const conn = await this.db.getConnection();
    let open = false;
    try {
      await conn.beginTransaction();
      open = true;
      await conn.query(
        `INSERT INTO ${quoted.delivery} (unit, name, size, sha1, state, member, session, token, stored) VALUES (?, ?, ?, ?, 'storing', ?, ?, ?, NOW(6)) ` +
          "ON DUPLICATE KEY UPDATE state = 'storing', member = VALUES(member), session = VALUES(session), token = VALUES(token), stored = VALUES(stored)",
        [
          ...this.key(address, e),
          this.leases.member,
          this.leases.session,
          this.leases.token(unit) ?? '0',
        ],
      );
      await this.leases.fence(conn, unit);
      await conn.commit();
      open = false;
    } catch (err) {
      if (open) await conn.rollback().catch(() => undefined);
      conn.release();
      throw err;
    }
    conn.release();
  }

  async stored(address: string, e: DeliveredFile): Promise<void> {
    await this.db.query(
      `UPDATE ${quoted.delivery} SET state = 'stored', stored = NOW(6) WHERE ${KEY} AND session = ?`,
      [...this.key(address, e), this.leases.session],
    );
  }

  async forget(address: string, e: DeliveredFile): Promise<void> {
    await this.db.query(`DELETE FROM ${quoted.delivery} WHERE ${KEY}`, this.key(address, e));
  }

  async prune(address: string, listed: readonly string[]): Promise<void> {
    const unit = units.pull(address);
    const [rows] = await this.db.query<RecordRow[]>(
      `SELECT name FROM ${quoted.delivery} WHERE unit = ? AND state = 'stored'`,
      [unit],
    );
    const present = new Set(listed);
    const gone = [...new Set(rows.map((r) => r.name))].filter((n) => !present.has(n));
    if (gone.length === 0) return;
    await this.db.query(
      `DELETE FROM ${quoted.delivery} WHERE unit = ? AND state = 'stored' AND name IN (?)`,
      [unit, gone],
    );
  }

  async settle(
    addresses: readonly string[],
    delivered: (address: string, entry: DeliveredFile) => Promise<boolean>,
  ): Promise<number> {
    if (addresses.length === 0) return 0;
    const byUnit = new Map(addresses.map((a) => [units.pull(a), a]));
    const [rows] = await this.db.query<RecordRow[]>(
      `SELECT unit, session, name, size, sha1 FROM ${quoted.delivery} WHERE member = ? AND state = 'storing' AND unit IN (?)`,
      [this.leases.member, [...byUnit.keys()]],
    );
    let settled = 0;
    for (const r of rows) {
      const address = byUnit.get(r.unit) as string;
      const e = { name: r.name, size: Number(r.size), sha1: r.sha1 };
      const mine = r.session === this.leases.session;
      const done = await delivered(address, e);
      // This run's own record may be a store still in progress: only a finished one is settled.
      if (mine && !done) continue;
      settled++;
      if (done) {
        await this.db.query(
          `UPDATE ${quoted.delivery} SET state = 'stored' WHERE ${KEY} AND state = 'storing'`,
          this.key(address, e),
        );
      } else {
        await this.db.query(
          `DELETE FROM ${quoted.delivery} WHERE ${KEY} AND state = 'storing'`,
          this.key(address, e),
        );
      }
    }
    return settled;
  }
}
