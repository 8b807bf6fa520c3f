/**
 * The one way the package runs a transaction: a connection of its own from the pool, BEGIN, the
 * caller's work, the fence (when the caller works a cluster unit) as the last thing before COMMIT,
 * then COMMIT. A connection that failed inside a transaction is destroyed, never handed back to
 * the pool half-used; a deadlock victim (InnoDB rolled it back) is run again from the start.
 */
import type { FenceConnection } from '../cluster/gate';
import type { Pool, PoolConnection } from './pool';

/**
 * The fence: inside the transaction, just before COMMIT; throws (e.g. LeaseLost) when the
 * transaction must not commit. One signature everywhere: the unit is bound by whoever builds it
 * (`(conn) => gate.fence(conn, unit)`).
 */
export type Fence = (conn: FenceConnection) => Promise<void>;

export interface TransactionOptions {
  fence?: Fence;
  /** Runs of the whole work after a deadlock or lock wait timeout; default 3. */
  attempts?: number;
  /**
   * READ COMMITTED for work whose rows are its own (no gap locks, so writers of different keys
   * of one table never deadlock each other); default: the server's own level.
   */
  isolation?: 'READ COMMITTED';
}

/** MariaDB rolled the transaction back by itself: running it again is safe. */
function retryable(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT';
}

/**
 * One transaction on a connection the caller holds and gives back (a connection a deadline may
 * kill, for one): BEGIN, the work, the fence, COMMIT; on failure a ROLLBACK, whose own failure
 * (the connection is gone, and the server rolls back itself) is not the caller's.
 */
export async function transactionOn<T, C extends PoolConnection>(
  conn: C,
  work: (conn: C) => Promise<T>,
  { fence, isolation }: Omit<TransactionOptions, 'attempts'> = {},
): Promise<T> {
  // Applies to the next transaction only; a released connection keeps the server's level.
  if (isolation) await conn.query(`SET TRANSACTION ISOLATION LEVEL ${isolation}`);
  await conn.beginTransaction();
  try {
    const out = await work(conn);
    if (fence) await fence(conn);
    await conn.commit();
    return out;
  } catch (err) {
    await conn.rollback().catch(() => {});
    throw err;
  }
}

async function once<T>(
  pool: Pool,
  work: (conn: PoolConnection) => Promise<T>,
  options: TransactionOptions,
): Promise<T> {
  const conn = await pool.getConnection();
  let out: T;
  try {
    out = await transactionOn(conn, work, options);
  } catch (err) {
    // Never handed back to the pool half-used.
    conn.destroy();
    throw err;
  }
  conn.release();
  return out;
}

/** Runs `work` in one transaction on a connection of `pool` and returns what it returned. */
export async function inTransaction<T>(
  pool: Pool,
  work: (conn: PoolConnection) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    try {
      return await once(pool, work, options);
    } catch (err) {
      if (attempt >= attempts || !retryable(err)) throw err;
    }
  }
}
