/**
 * agent-cache on two cluster members (the real LeaseManager over the Command Center database):
 * each Instance is worked by the member that holds its `agents:<id>` lease, and the cache is
 * exact; when one member leaves, the other takes its Instances over.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AgentCache } from '../../lib/agentcache';
import { LeaseManager } from '../../lib/cluster';
import { createPool, type Pool } from '../../lib/db/pool';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { waitFor } from '../helpers/wait';
import { assertCacheEquals, createCacheCc, createInstanceDb, insertAgents } from './fixtures';

describe('agent-cache with cluster on (two members, real leases)', () => {
  let db: PrivateMariaDb;
  let pool: Pool;

  before(async () => {
    db = await startMariaDb();
  });
  after(async () => {
    await pool?.end();
    await db?.destroy();
  });

  it('each Instance is cached by the member holding its lease; the other takes over', async () => {
    const ids = [1, 2, 3, 4];
    for (const id of ids) {
      await createInstanceDb(db, `cl_${id}`);
      const c = await db.connect(`cl_${id}`);
      await insertAgents(c, 1, 100 * id);
      await c.end();
    }
    await createCacheCc(
      db,
      'cl_cc',
      ids.map((id) => ({ id, name: `n${id}`, port: db.port, dbname: `cl_${id}` })),
    );
    pool = createPool({ ...db.facts, database: 'cl_cc' }, { connectionLimit: 12 });
    const members = ['a', 'b'].map((name) => {
      const manager = new LeaseManager({ db: pool, member: name, leaseMs: 2000 });
      const gate = manager.gate();
      const cache = new AgentCache({ cc: pool, intervalMs: 200, gate });
      manager.start();
      cache.start();
      return { manager, gate, cache };
    });
    const cc = await db.connect('cl_cc');
    const exact = async () => {
      for (const id of ids) {
        const c = await db.connect(`cl_${id}`);
        try {
          await assertCacheEquals(c, cc, id);
        } catch {
          return false;
        } finally {
          await c.end();
        }
      }
      return true;
    };
    try {
      await waitFor(
        () =>
          ids.every((id) => members.filter((m) => m.gate.holds(`agents:${id}`)).length === 1) &&
          members.every((m) => m.gate.held().length > 0),
        30_000,
        'the Instances spread over both members',
      );
      await waitFor(exact, 30_000, 'the cache equal to every Instance');
      const [a, b] = members;
      const worked = (m: (typeof members)[number]) =>
        m.cache
          .status()
          .instances.filter((i) => !i.elsewhere && i.agents !== null)
          .map((i) => i.id);
      await waitFor(
        () => worked(a).length + worked(b).length === ids.length,
        10_000,
        'each Instance worked by one member',
      );
      assert.deepEqual([...worked(a), ...worked(b)].sort(), ids);
      // Member a leaves: b takes its Instances over and keeps them exact.
      await a.cache.close('leaving');
      await a.manager.close();
      await waitFor(() => ids.every((id) => b.gate.holds(`agents:${id}`)), 30_000, 'b holds all');
      const c4 = await db.connect('cl_4');
      await c4.query("UPDATE tagente SET alias = 'after takeover' WHERE id_agente = 5");
      await c4.end();
      await waitFor(exact, 30_000, 'the cache exact after the takeover');
      await b.cache.close('test over');
      await b.manager.close();
    } finally {
      await cc.end();
      for (const m of members) {
        await m.cache.close('test over');
        await m.manager.close();
      }
    }
  });
});
