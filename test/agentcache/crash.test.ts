/**
 * Exactly right after crashes: the real node-red running agent-cache is killed with SIGKILL at
 * random moments while both Instances' agents keep changing (new, changed, renamed, moved,
 * deleted, secondary groups), then started again on the same userDir; and an Instance's link is
 * cut in the middle of rounds. After the next good round, the cache equals every Instance.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Connection } from 'mysql2/promise';
import { AgentCache } from '../../lib/agentcache';
import { createPool } from '../../lib/db/pool';
import { seedFromEnv, seeded } from '../faults/util';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { launchNodeRed, prepareUserDir, type RunningNodeRed } from '../helpers/node-red';
import { TcpProxy } from '../helpers/tcp-proxy';
import { sleep, until } from '../helpers/wait';
import {
  assertCacheEquals,
  createCacheCc,
  createInstanceDb,
  GROUPS,
  insertAgents,
} from './fixtures';

const KILLS = 8;
const AGENTS = 3000;

/** One random change of an Instance's agents, of every kind the cache must follow. */
async function change(c: Connection, rnd: () => number, next: () => number): Promise<void> {
  const id = 1 + Math.floor(rnd() * AGENTS);
  const group = GROUPS[Math.floor(rnd() * GROUPS.length)];
  switch (Math.floor(rnd() * 6)) {
    case 0:
      await insertAgents(c, next(), 5);
      return;
    case 1:
      await c.query('DELETE FROM tagente WHERE id_agente = ?', [id]);
      return;
    case 2:
      await c.query("UPDATE tagente SET alias = CONCAT('renamed&#x20;', ?) WHERE id_agente = ?", [
        rnd(),
        id,
      ]);
      return;
    case 3:
      await c.query('UPDATE tagente SET id_grupo = ? WHERE id_agente = ?', [group, id]);
      return;
    case 4:
      await c.query(
        'INSERT IGNORE INTO tagent_secondary_group (id_agent, id_group) SELECT ?, ? FROM tagente WHERE id_agente = ?',
        [id, group, id],
      );
      return;
    default:
      await c.query(
        'UPDATE tagente SET critical_count = critical_count + 1, total_count = total_count + 1 WHERE id_agente BETWEEN ? AND ?',
        [id, id + 40],
      );
  }
}

async function equal(n: Connection, cc: Connection, id: number): Promise<boolean> {
  try {
    await assertCacheEquals(n, cc, id);
    return true;
  } catch {
    return false;
  }
}

describe('agent-cache exactly right after SIGKILLs of node-red and cut Instance links', () => {
  let db: PrivateMariaDb;
  before(async () => {
    db = await startMariaDb();
  });
  after(async () => {
    await db?.destroy();
  });

  it(`node-red killed ${KILLS} times mid-round while agents change: the cache equals the Instances`, async () => {
    const seed = seedFromEnv();
    const rnd = seeded(seed);
    await createInstanceDb(db, 'kc_node1');
    await createInstanceDb(db, 'kc_node2');
    await createCacheCc(db, 'kc_cc', [
      { id: 1, name: 'one', port: db.port, dbname: 'kc_node1' },
      { id: 2, name: 'two', port: db.port, dbname: 'kc_node2' },
    ]);
    const n1 = await db.connect('kc_node1');
    const n2 = await db.connect('kc_node2');
    const cc = await db.connect('kc_cc');
    await insertAgents(n1, 1, AGENTS);
    await insertAgents(n2, 1, AGENTS);
    const tab = 'a9c1e2d3b4f50001';
    const prepared = await prepareUserDir({
      flows: [
        { id: tab, type: 'tab', label: 'agents' },
        {
          id: 'a9c1e2d3b4f50002',
          type: 'pandora-config',
          name: 'Command Center',
          dbHost: '127.0.0.1',
          dbPort: String(db.port),
          dbName: 'kc_cc',
          dbUser: 'root',
        },
        {
          id: 'a9c1e2d3b4f50003',
          type: 'agent-cache',
          z: tab,
          name: 'agents',
          config: 'a9c1e2d3b4f50002',
          instances: '',
          interval: '0.5',
          wires: [[]],
        },
      ],
    });
    let newId = 100_000;
    let feeding = true;
    const feeder = (async () => {
      while (feeding) {
        await change(n1, rnd, () => (newId += 5));
        await change(n2, rnd, () => (newId += 5));
        await sleep(20);
      }
    })();
    const cached = async () => {
      const [rows] = await cc.query('SELECT COUNT(*) AS n FROM tmetaconsole_agent');
      return Number((rows as { n: number }[])[0].n);
    };
    const atKill: number[] = [];
    let nr: RunningNodeRed | null = null;
    try {
      for (let k = 0; k < KILLS; k++) {
        nr = await launchNodeRed(prepared);
        await sleep(300 + Math.floor(rnd() * 1500));
        const exited = new Promise((r) => nr?.process.once('exit', r));
        nr.process.kill('SIGKILL');
        await exited;
        atKill.push(await cached());
      }
      feeding = false;
      await feeder;
      nr = await launchNodeRed(prepared);
      const ok = await until(
        async () => (await equal(n1, cc, 1)) && (await equal(n2, cc, 2)),
        90_000,
        250,
      );
      console.log(
        `agent-cache crash seed=${seed}: ${KILLS} SIGKILLs of node-red, cache rows at each kill: ${atKill.join(',')}`,
      );
      assert.ok(ok, 'the cache equals both Instances after the restart');
      await assertCacheEquals(n1, cc, 1);
      await assertCacheEquals(n2, cc, 2);
    } finally {
      feeding = false;
      await feeder;
      await nr?.stop();
      await Promise.all([n1.end(), n2.end(), cc.end()]);
    }
  });

  it("an Instance's link cut in the middle of rounds: the next good round makes it exact", async () => {
    await createInstanceDb(db, 'cut_node1');
    await createInstanceDb(db, 'cut_node2');
    let cut = 0;
    // Every connection through the proxy is cut after a few kilobytes while cutting is on.
    let cutting = true;
    const proxy = new TcpProxy({
      targetPort: db.port,
      plan: () => ({ afterBytes: cutting ? 20_000 + (cut++ % 7) * 9_000 : null }),
    });
    const port = await proxy.listen();
    await createCacheCc(db, 'cut_cc', [
      { id: 1, name: 'one', port: db.port, dbname: 'cut_node1' },
      { id: 2, name: 'two', port, dbname: 'cut_node2' },
    ]);
    const n1 = await db.connect('cut_node1');
    const n2 = await db.connect('cut_node2');
    const c = await db.connect('cut_cc');
    await insertAgents(n1, 1, 2000);
    await insertAgents(n2, 1, 4000);
    const pool = createPool({ ...db.facts, database: 'cut_cc' });
    const cache = new AgentCache({ cc: pool, intervalMs: 0, rangeSize: 200, writeBatch: 300 });
    try {
      const failed: string[] = [];
      for (let r = 0; r < 4; r++) {
        const s = await cache.requestRound(`cut ${r}`);
        assert.equal(s.instances[0].outcome, 'done', 'the other Instance is not held back');
        failed.push(s.instances[1].outcome);
        await n2.query(
          'UPDATE tagente SET normal_count = normal_count + 1 WHERE id_agente % 17 = ?',
          [r],
        );
        await n2.query('DELETE FROM tagente WHERE id_agente = ?', [100 + r]);
      }
      assert.ok(failed.includes('failed'), `rounds through the cut link: ${failed.join(',')}`);
      assert.ok(proxy.stats.cuts > 0);
      cutting = false;
      proxy.cutAll();
      const s = await cache.requestRound('link back');
      assert.equal(s.instances[1].outcome, 'done');
      await assertCacheEquals(n1, c, 1);
      await assertCacheEquals(n2, c, 2);
    } finally {
      await cache.close('test over');
      await pool.end();
      await proxy.close();
      await Promise.all([n1.end(), n2.end(), c.end()]);
    }
  });
});
