import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import { LeaseLost } from '../../lib/cluster/gate';
import { createPool, type Pool } from '../../lib/db/pool';
import { inTransaction } from '../../lib/db/transaction';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';

describe('inTransaction (real MariaDB)', () => {
  let db: PrivateMariaDb;
  let pool: Pool;

  before(async () => {
    db = await startMariaDb();
    await db.freshDatabase('tx');
    pool = createPool({ ...db.facts, database: 'tx' }, { connectionLimit: 2 });
    await pool.query('CREATE TABLE t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB');
  });
  after(async () => {
    await pool?.end();
    await db?.destroy();
  });

  const rows = async () => {
    const [r] = await pool.query<RowDataPacket[]>('SELECT id FROM t ORDER BY id');
    return r.map((x) => Number(x.id));
  };

  it('commits the work and returns its value; the fence runs last, inside', async () => {
    const order: string[] = [];
    const out = await inTransaction(
      pool,
      async (conn) => {
        await conn.query('INSERT INTO t VALUES (1, 1)');
        order.push('work');
        return 7;
      },
      {
        fence: async (conn) => {
          const [r] = (await conn.query('SELECT COUNT(*) AS n FROM t')) as [RowDataPacket[]];
          order.push(`fence sees ${r[0].n}`);
        },
      },
    );
    assert.equal(out, 7);
    assert.deepEqual(order, ['work', 'fence sees 1']);
    assert.deepEqual(await rows(), [1]);
  });

  it('a failing fence or work rolls everything back and the pool keeps working', async () => {
    await assert.rejects(
      inTransaction(pool, (conn) => conn.query('INSERT INTO t VALUES (2, 2)'), {
        fence: async () => {
          throw new LeaseLost('agents:1');
        },
      }),
      LeaseLost,
    );
    await assert.rejects(
      inTransaction(pool, async (conn) => {
        await conn.query('INSERT INTO t VALUES (3, 3)');
        await conn.query('INSERT INTO t VALUES (1, 1)');
      }),
      /Duplicate/,
    );
    assert.deepEqual(await rows(), [1]);
    for (let i = 0; i < 5; i++) await inTransaction(pool, (c) => c.query('SELECT 1'));
  });

  it('runs a deadlock victim again', async () => {
    let runs = 0;
    await inTransaction(pool, async (conn) => {
      runs++;
      if (runs === 1) throw Object.assign(new Error('deadlock'), { code: 'ER_LOCK_DEADLOCK' });
      await conn.query('INSERT INTO t VALUES (4, 4)');
    });
    assert.equal(runs, 2);
    assert.deepEqual(await rows(), [1, 4]);
  });
});
