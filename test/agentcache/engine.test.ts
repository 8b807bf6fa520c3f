import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Connection } from 'mysql2/promise';
import {
  AgentCache,
  AgentCacheError,
  type CacheProblem,
  type InstanceRound,
} from '../../lib/agentcache';
import { LeaseLost, type UnitGate } from '../../lib/cluster/gate';
import { createPool, type Pool } from '../../lib/db/pool';
import { freePort, PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { waitFor } from '../helpers/wait';
import {
  assertCacheEquals,
  count,
  createCacheCc,
  createInstanceDb,
  insertAgents,
} from './fixtures';

describe('agent-cache engine (real MariaDB, Pandora tables: a Command Center and two Instances)', () => {
  let db: PrivateMariaDb;
  const pools: Pool[] = [];
  const conns: Connection[] = [];
  let seq = 0;

  before(async () => {
    db = await startMariaDb();
  });
  after(async () => {
    for (const c of conns) await c.end().catch(() => {});
    for (const p of pools) await p.end().catch(() => {});
    await db?.destroy();
  });

  async function world(
    opts: { agents?: [number, number]; port2?: number; gate?: UnitGate; auditMs?: number } = {},
  ) {
    const tag = `${++seq}`;
    const [a1, a2] = opts.agents ?? [1200, 300];
    await createInstanceDb(db, `ai1_${tag}`);
    await createInstanceDb(db, `ai2_${tag}`);
    await createCacheCc(db, `acc_${tag}`, [
      { id: 1, name: 'node-one', port: db.port, dbname: `ai1_${tag}` },
      { id: 2, name: 'node-two', port: opts.port2 ?? db.port, dbname: `ai2_${tag}` },
    ]);
    const n1 = await db.connect(`ai1_${tag}`);
    const n2 = await db.connect(`ai2_${tag}`);
    const c = await db.connect(`acc_${tag}`);
    conns.push(n1, n2, c);
    await insertAgents(n1, 1, a1);
    await insertAgents(n2, 1, a2);
    const cc = createPool({ ...db.facts, database: `acc_${tag}` });
    pools.push(cc);
    const cache = new AgentCache({
      cc,
      intervalMs: 0,
      rangeSize: 100,
      gate: opts.gate,
      auditMs: opts.auditMs,
    });
    const rounds: InstanceRound[] = [];
    const problems: CacheProblem[] = [];
    cache.on('round', (r) => rounds.push(r));
    cache.on('problem', (p) => problems.push(p));
    return { tag, n1, n2, c, cc, cache, rounds, problems };
  }

  const done = (s: Awaited<ReturnType<AgentCache['requestRound']>>) =>
    s.instances.map((i) =>
      i.outcome === 'done' ? [i.id, i.agents, i.written, i.removed] : [i.id, i.outcome],
    );

  it('fills the cache with every agent of every Instance, then an unchanged round writes nothing', async () => {
    const w = await world();
    const first = await w.cache.requestRound('test');
    assert.deepEqual(done(first), [
      [1, 1200, 1200, 0],
      [2, 300, 300, 0],
    ]);
    assert.equal(await assertCacheEquals(w.n1, w.c, 1), 1200);
    assert.equal(await assertCacheEquals(w.n2, w.c, 2), 300);
    const second = await w.cache.requestRound('again');
    assert.deepEqual(done(second), [
      [1, 1200, 0, 0],
      [2, 300, 0, 0],
    ]);
    for (const i of second.instances) assert.equal(i.outcome === 'done' && i.ranges, 0);
    await w.cache.close('test over');
  });

  it('follows new, changed, renamed, moved and deleted agents and their secondary groups; cache ids stay', async () => {
    const w = await world();
    await w.cache.requestRound('fill');
    const idOf = async (id: number) =>
      count(
        w.c,
        'SELECT id_agente AS n FROM tmetaconsole_agent WHERE id_tmetaconsole_setup = 1 AND id_tagente = ?',
        [id],
      );
    const before7 = await idOf(7);
    const before8 = await idOf(8);
    await insertAgents(w.n1, 5000, 3); // new
    await w.n1.query('UPDATE tagente SET critical_count = 9, total_count = 12 WHERE id_agente = 7'); // changed counters
    await w.n1.query(
      "UPDATE tagente SET alias = 'Renamed&#x20;&amp;&#x20;moved', id_grupo = 9 WHERE id_agente = 8",
    ); // renamed, moved
    await w.n1.query('DELETE FROM tagente WHERE id_agente IN (10, 11, 650)'); // deleted (groups cascade)
    await w.n1.query(
      'INSERT INTO tagent_secondary_group (id_agent, id_group) VALUES (12, 5), (12, 5)',
    ); // a duplicate membership
    await w.n1.query('DELETE FROM tagent_secondary_group WHERE id_agent = 14');
    await w.n1.query(
      "UPDATE tagente SET comentarios = NULL, os_version = 'NULL', agent_version = '' WHERE id_agente = 20",
    );
    const r = await w.cache.requestRound('changes');
    assert.equal(r.instances[0].outcome, 'done');
    await assertCacheEquals(w.n1, w.c, 1);
    await assertCacheEquals(w.n2, w.c, 2);
    assert.equal(await idOf(7), before7, 'a changed agent keeps its cache row');
    assert.equal(await idOf(8), before8, 'a renamed agent keeps its cache row');
    const one = r.instances[0];
    assert.ok(
      one.outcome === 'done' && one.written === 6 && one.removed === 3,
      JSON.stringify(one),
    );
    await w.cache.close('test over');
  });

  it('mends a cache changed behind its back (rows lost, duplicated, edited) at its next full check', async () => {
    const w = await world({ auditMs: 0 });
    await w.cache.requestRound('fill');
    await w.c.query(
      'DELETE FROM tmetaconsole_agent WHERE id_tmetaconsole_setup = 1 AND id_tagente IN (3, 400)',
    );
    await w.c.query(
      'INSERT INTO tmetaconsole_agent (id_tagente, id_tmetaconsole_setup, nombre) VALUES (5, 1, ?), (99999, 2, ?)',
      ['dup', 'ghost'],
    );
    await w.c.query("UPDATE tmetaconsole_agent SET alias = 'edited' WHERE id_tagente = 6");
    await w.c.query(
      'DELETE FROM tmetaconsole_agent_secondary_group WHERE id_tagente = 2 AND id_tmetaconsole_setup = 2',
    );
    await w.cache.requestRound('mend');
    await assertCacheEquals(w.n1, w.c, 1);
    await assertCacheEquals(w.n2, w.c, 2);
    await w.cache.close('test over');
  });

  it('between full checks an unchanged round reads no cache row; a hand edit waits for the next check', async () => {
    const w = await world({ auditMs: 3_600_000 });
    await w.cache.requestRound('fill');
    // Ranges written by a round are compared again by the next one; after that they are trusted.
    const settled = await w.cache.requestRound('settle');
    assert.deepEqual(
      settled.instances.map((i) => i.outcome === 'done' && [i.ranges, i.written]),
      [
        [0, 0],
        [0, 0],
      ],
    );
    await w.c.query("UPDATE tmetaconsole_agent SET alias = 'edited' WHERE id_tagente = 6");
    await w.n1.query('UPDATE tagente SET total_count = 77 WHERE id_agente = 250');
    const r = await w.cache.requestRound('between');
    const one = r.instances[0];
    assert.ok(one.outcome === 'done' && one.ranges === 1 && one.written === 1, JSON.stringify(one));
    assert.equal(r.instances[1].outcome === 'done' && r.instances[1].ranges, 0);
    await assert.rejects(assertCacheEquals(w.n1, w.c, 1), /agent 6/);
    const full = new AgentCache({ cc: w.cc, intervalMs: 0, auditMs: 0 });
    await full.requestRound('full');
    await assertCacheEquals(w.n1, w.c, 1);
    await full.close('test over');
    await w.cache.close('test over');
  });

  it("removes a deactivated or removed Instance's rows", async () => {
    const w = await world();
    await w.cache.requestRound('fill');
    await w.c.query('UPDATE tmetaconsole_setup SET disabled = 1 WHERE id = 2');
    const purged: number[] = [];
    w.cache.on('purged', (p) => purged.push(p.id));
    await w.cache.requestRound('disabled');
    assert.equal(
      await count(
        w.c,
        'SELECT COUNT(*) AS n FROM tmetaconsole_agent WHERE id_tmetaconsole_setup = 2',
      ),
      0,
    );
    assert.equal(
      await count(
        w.c,
        'SELECT COUNT(*) AS n FROM tmetaconsole_agent_secondary_group WHERE id_tmetaconsole_setup = 2',
      ),
      0,
    );
    assert.deepEqual(purged, [2]);
    await assertCacheEquals(w.n1, w.c, 1);
    // A node limited to Instance 1 leaves other Instances' rows to whoever keeps them.
    await w.c.query('UPDATE tmetaconsole_setup SET disabled = 0 WHERE id = 2');
    await w.cache.requestRound('back');
    await assertCacheEquals(w.n2, w.c, 2);
    const only1 = new AgentCache({ cc: w.cc, instances: [1], intervalMs: 0 });
    await only1.requestRound('limited');
    assert.equal(
      await count(
        w.c,
        'SELECT COUNT(*) AS n FROM tmetaconsole_agent WHERE id_tmetaconsole_setup = 2',
      ),
      300,
    );
    await only1.close('test over');
    await w.cache.close('test over');
  });

  it('one Instance down holds back nobody, is reported once, and is caught up when back', async () => {
    const w = await world({ port2: await freePort() });
    const r1 = await w.cache.requestRound('one');
    const r2 = await w.cache.requestRound('two');
    assert.equal(r1.instances[0].outcome, 'done');
    assert.equal(r1.instances[1].outcome, 'failed');
    assert.equal(r2.instances[1].outcome, 'failed');
    const down = w.problems.filter((p) => p.key === 'instance:2');
    assert.equal(down.length, 1, 'reported once');
    assert.equal(down[0].error.code, 'ERR_AGENT_CACHE_INSTANCE');
    assert.equal(w.cache.status().instances.find((i) => i.id === 2)?.down, true);
    await assertCacheEquals(w.n1, w.c, 1);
    const recovered: string[] = [];
    w.cache.on('recovered', (r) => recovered.push(r.key));
    await w.c.query('UPDATE tmetaconsole_setup SET dbport = ? WHERE id = 2', [String(db.port)]);
    await w.cache.requestRound('back');
    assert.deepEqual(recovered, ['instance:2']);
    await assertCacheEquals(w.n2, w.c, 2);
    await w.cache.close('test over');
  });

  it('on a timer, a change is in the cache within two intervals; status gives agents and lag', async () => {
    const w = await world({ agents: [50, 20] });
    const cache = new AgentCache({ cc: w.cc, intervalMs: 300 });
    cache.start();
    await waitFor(
      async () => (await count(w.c, 'SELECT COUNT(*) AS n FROM tmetaconsole_agent')) === 70,
      20_000,
      'first fill',
    );
    await w.n2.query("UPDATE tagente SET alias = 'timer' WHERE id_agente = 4");
    await waitFor(
      async () =>
        (await count(w.c, "SELECT COUNT(*) AS n FROM tmetaconsole_agent WHERE alias = 'timer'")) ===
        1,
      20_000,
      'the change',
    );
    const s = cache.status();
    assert.equal(s.commandCenter, null);
    assert.deepEqual(
      s.instances.map((i) => [i.id, i.agents, i.down]),
      [
        [1, 50, false],
        [2, 20, false],
      ],
    );
    assert.ok(s.instances.every((i) => i.lag !== null && i.lag < 60));
    await cache.close('test over');
    await w.cache.close('test over');
  });

  it('on a timer, an Instance that hangs holds back nobody', async () => {
    const w = await world({ agents: [40, 40] });
    const cache = new AgentCache({ cc: w.cc, intervalMs: 300 });
    // Instance 2's agents locked by another session: every read of them waits.
    const locker = await db.connect(`ai2_${w.tag}`);
    conns.push(locker);
    await locker.query('LOCK TABLES tagente WRITE');
    cache.start();
    const cached = (id: number) =>
      count(w.c, 'SELECT COUNT(*) AS n FROM tmetaconsole_agent WHERE id_tmetaconsole_setup = ?', [
        id,
      ]);
    await waitFor(async () => (await cached(1)) === 40, 20_000, 'Instance 1 filled');
    for (const alias of ['one', 'two']) {
      await w.n1.query('UPDATE tagente SET alias = ? WHERE id_agente = 3', [alias]);
      await waitFor(
        async () =>
          (await count(w.c, 'SELECT COUNT(*) AS n FROM tmetaconsole_agent WHERE alias = ?', [
            alias,
          ])) === 1,
        20_000,
        `change ${alias} while Instance 2 hangs`,
      );
    }
    assert.equal(await cached(2), 0);
    await locker.query('UNLOCK TABLES');
    await waitFor(async () => (await cached(2)) === 40, 20_000, 'Instance 2 once released');
    await assertCacheEquals(w.n2, w.c, 2);
    await cache.close('test over');
    await w.cache.close('test over');
  });

  it('after close every call fails with the reason it was closed with', async () => {
    const w = await world({ agents: [5, 5] });
    await w.cache.close('redeployed');
    await assert.rejects(w.cache.requestRound('late'), (e: unknown) => {
      assert.ok(e instanceof AgentCacheError);
      assert.equal(e.code, 'ERR_AGENT_CACHE_CLOSED');
      assert.equal(e.facts.reason, 'redeployed');
      return true;
    });
    assert.throws(() => w.cache.start(), /ERR_AGENT_CACHE_CLOSED/);
  });

  it('refuses a Command Center without the cache tables, as a typed problem', async () => {
    const w = await world({ agents: [5, 5] });
    await w.c.query('DROP TABLE tmetaconsole_agent_secondary_group');
    const r = await w.cache.requestRound('schema');
    assert.equal(r.problems[0]?.code, 'ERR_AGENT_CACHE_SCHEMA');
    assert.equal(r.problems[0]?.facts.table, 'tmetaconsole_agent_secondary_group');
    assert.equal(w.cache.status().commandCenter?.code, 'ERR_AGENT_CACHE_SCHEMA');
    await w.cache.close('test over');
  });

  it('with cluster on, works only the Instances leased here and writes nothing when its fence fails', async () => {
    let held = new Set(['agents:1', 'agents:2']);
    let fenced = 0;
    const gate: UnitGate = {
      offer: () => {},
      holds: (unit) => held.has(unit),
      fence: (unit) => async () => {
        fenced++;
        if (unit === 'agents:2') throw new LeaseLost(unit);
      },
    };
    const w = await world({ gate });
    held = new Set(['agents:1', 'agents:2']);
    const r = await w.cache.requestRound('fenced');
    assert.equal(r.instances[0].outcome, 'done');
    assert.equal(r.instances[1].outcome, 'failed');
    assert.ok(fenced >= 2);
    assert.equal(
      await count(
        w.c,
        'SELECT COUNT(*) AS n FROM tmetaconsole_agent WHERE id_tmetaconsole_setup = 2',
      ),
      0,
    );
    held = new Set(['agents:1']);
    const r2 = await w.cache.requestRound('elsewhere');
    assert.equal(r2.instances[1].outcome, 'elsewhere');
    assert.equal(w.cache.status().instances[1].elsewhere, true);
    await w.cache.close('test over');
  });
});
