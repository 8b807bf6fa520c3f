/**
 * One piece of work on one Instance's connection, bounded in time. When the time runs out the
 * caller gets a TimeoutError at once, the connection is destroyed (never returned to its pool)
 * and its server thread is killed from a separate short-lived connection, so that a statement
 * waiting on a lock does not keep running (nor keep a transaction open) on the Instance.
 */
import mysql from 'mysql2/promise';
import type { Instance } from '../db/registry';
import type { PoolConnection } from '../db/pool';

export class TimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${(ms / 1000).toFixed(1)} s`);
    this.name = 'TimeoutError';
  }
}

/** Kills abandoned server threads; close() waits for the kills still under way. */
export class Reaper {
  private readonly running = new Set<Promise<void>>();

  /** Ends thread `threadId` on the instance's server, giving up after `ms`. */
  kill(instance: Instance, threadId: number, ms: number): void {
    const job = (async () => {
      let c: mysql.Connection | null = null;
      const t = setTimeout(() => c?.destroy(), ms);
      try {
        c = await mysql.createConnection({ ...instance.facts, connectTimeout: ms });
        await c.query('KILL CONNECTION ?', [threadId]);
      } catch {
        // Already gone, or the server is unreachable: then the thread ends with its socket.
      } finally {
        clearTimeout(t);
        await c?.end().catch(() => c?.destroy());
      }
    })();
    this.running.add(job);
    void job.finally(() => this.running.delete(job));
  }

  async settle(): Promise<void> {
    await Promise.all([...this.running]);
  }
}

/** Runs `work` on a connection of the instance's pool within `ms`. */
export async function withDeadline<T>(
  instance: Instance,
  ms: number,
  reaper: Reaper,
  work: (c: PoolConnection) => Promise<T>,
): Promise<T> {
  let expired = false;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expired = true;
      reject(new TimeoutError(ms));
    }, ms);
  });
  const acquiring = instance.pool.getConnection();
  let conn: PoolConnection | null = null;
  try {
    conn = await Promise.race([acquiring, deadline]);
    const working = work(conn);
    // Once abandoned, the work fails with the destroyed connection: nobody waits for it any more.
    working.catch(() => {});
    const out = await Promise.race([working, deadline]);
    conn.release();
    conn = null;
    return out;
  } catch (err) {
    if (expired) {
      if (conn) {
        const threadId = conn.threadId;
        conn.destroy();
        if (threadId) reaper.kill(instance, threadId, ms);
      } else {
        // The connection arrives after we gave up: do not leave it in the pool half-used.
        acquiring.then(
          (c) => c.release(),
          () => {},
        );
      }
    } else if (conn) {
      // A failed statement may leave the session in any state: start the next one afresh.
      conn.destroy();
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
