/**
 * `dbHost` as a list of `host[:port]` (a Galera cluster without a proxy): parsing, and a pool
 * whose first host is dead connecting to the next, against a real MariaDB.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RowDataPacket } from 'mysql2';
import { parseHostList } from '../../lib/db/host-list';
import { createPool } from '../../lib/db/pool';
import { freePort, PrivateMariaDb, startMariaDb } from '../helpers/mariadb';

describe('dbHost list', () => {
  let db: PrivateMariaDb;
  before(async () => {
    db = await startMariaDb();
  });
  after(async () => {
    await db?.destroy();
  });

  it('reads host[:port] items, the port of dbPort where none is given', () => {
    assert.deepEqual(parseHostList('a, b:3307 ,[::1]:3308,[::1]', 3306), [
      { host: 'a', port: 3306 },
      { host: 'b', port: 3307 },
      { host: '::1', port: 3308 },
      { host: '::1', port: 3306 },
    ]);
    assert.throws(() => parseHostList('a:none,b', 3306), /dbHost: "a:none" has no valid port/);
    assert.throws(() => parseHostList(' , ', 3306), /dbHost is empty/);
  });

  it('connects to the first host that answers, in order', async () => {
    const dead = await freePort();
    const pool = createPool({
      host: `127.0.0.1:${dead},127.0.0.1:${db.port}`,
      port: 3306,
      database: 'mysql',
      user: db.user,
      password: db.password,
    });
    try {
      const [rows] = await pool.query<RowDataPacket[]>('SELECT @@port AS port');
      assert.equal(Number(rows[0].port), db.port);
      // Every host dead: a clear error, no hang.
      const none = createPool(
        {
          host: `127.0.0.1:${dead},127.0.0.1:${dead}`,
          port: 3306,
          database: 'mysql',
          user: 'root',
          password: '',
        },
        { connectTimeoutMs: 2000 },
      );
      await assert.rejects(none.query('SELECT 1'), /ECONNREFUSED/);
      await none.end();
    } finally {
      await pool.end();
    }
  });
});
