/**
 * SharedDeliveries over the Command Center database: the files a member stored from a buffer and
 * has not yet seen leave it. Recorded with the buffer's lease (fenced, one transaction), so a
 * member that takes the buffer over finishes their removal instead of delivering them again.
 */
import type { RowDataPacket } from 'mysql2';
import type { Pool } from '../db/pool';
import { units, type DeliveredFile, type SharedDeliveries } from './gate';
import type { LeaseManager } from './lease-manager';
import { DELIVERY_TABLE } from './schema';

export class DbDeliveries implements SharedDeliveries {
  constructor(
    private readonly db: Pool,
    private readonly leases: LeaseManager,
  ) {}

  async has(address: string, e: DeliveredFile): Promise<boolean> {
    const [rows] = await this.db.query<RowDataPacket[]>(
      `SELECT 1 FROM \`${DELIVERY_TABLE}\` WHERE unit = ? AND name = ? AND size = ? AND sha1 = ?`,
      [units.pull(address), e.name, e.size, e.sha1],
    );
    return rows.length > 0;
  }

  async record(address: string, e: DeliveredFile): Promise<void> {
    const unit = units.pull(address);
    const conn = await this.db.getConnection();
    let open = false;
    try {
      await conn.beginTransaction();
      open = true;
      await conn.query(
        `INSERT INTO \`${DELIVERY_TABLE}\` (unit, name, size, sha1, session, token, stored) VALUES (?, ?, ?, ?, ?, ?, NOW(6)) ` +
          'ON DUPLICATE KEY UPDATE session = VALUES(session), token = VALUES(token), stored = VALUES(stored)',
        [unit, e.name, e.size, e.sha1, this.leases.session, this.leases.token(unit) ?? '0'],
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

  async forget(address: string, e: DeliveredFile): Promise<void> {
    await this.db.query(
      `DELETE FROM \`${DELIVERY_TABLE}\` WHERE unit = ? AND name = ? AND size = ? AND sha1 = ?`,
      [units.pull(address), e.name, e.size, e.sha1],
    );
  }
}
