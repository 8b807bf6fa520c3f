/**
 * A read's rows turned into the node's rows as they arrive from the server, one at a time: the
 * raw row is garbage as soon as it is mapped, so a read never holds an Instance's raw result set
 * beside its mapped one (at 100 Instances × 5,000 agents that halves what the old generation
 * holds and what the garbage collector goes through).
 */
import type { Connection as CoreConnection } from 'mysql2';
import type { PoolConnection } from '../db/pool';
import type { Statement } from './read-sql';

export function streamRows<R>(
  c: PoolConnection,
  statement: Statement,
  map: (row: Record<string, unknown>) => R,
): Promise<R[]> {
  // The promise wrapper's `connection` is the callback connection, whose query emits each row.
  const core = c.connection as unknown as CoreConnection;
  return new Promise<R[]>((resolve, reject) => {
    const out: R[] = [];
    let failed = false;
    core
      .query(statement.sql, statement.params)
      .on('result', (row) => {
        if (failed) return;
        try {
          out.push(map(row as Record<string, unknown>));
        } catch (err) {
          failed = true;
          reject(err);
        }
      })
      .on('error', (err) => {
        failed = true;
        reject(err);
      })
      .on('end', () => {
        if (!failed) resolve(out);
      });
  });
}
