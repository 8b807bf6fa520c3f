import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPool, Pool } from '../../lib/db/pool';
import { EventPuller, PullProblem } from '../../lib/events';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { sleep, until } from '../helpers/wait';
import { worded } from './fixtures/words';
import { runChild } from '../helpers/child';
import { createCommandCenter, createInstance, insertEvents } from './fixtures/pandora';

async function count(c: { query: Pool['query'] }, sql: string): Promise<number> {
  const [rows] = (await c.query(sql)) as unknown as [{ n: string | number }[]];
  return Number(rows[0].n);
}

describe('event-pull durability', () => {
  let db: PrivateMariaDb;
  let db2: PrivateMariaDb;
  const pools: Pool[] = [];

  before(async () => {
    db = await startMariaDb();
    db2 = await startMariaDb();
  });
  after(async () => {
    for (const p of pools) await p.end().catch(() => {});
    await db?.destroy();
    await db2?.destroy();
  });

  it('a puller killed (SIGKILL) at random moments while batches flow, then restarted, copies each event once', async () => {
    await createInstance(db, 'k_node1');
    await createInstance(db, 'k_node2');
    await createCommandCenter(db, 'k_cc', [
      { id: 1, name: 'one', port: db.port, dbname: 'k_node1' },
      { id: 2, name: 'two', port: db.port, dbname: 'k_node2' },
    ]);
    const n1 = await db.connect('k_node1');
    const n2 = await db.connect('k_node2');
    const cc = await db.connect('k_cc');
    // Enough batches (of 13, see pull-child) that no kill below comes after the end of the copy.
    await insertEvents(n1, 18000);
    await insertEvents(n2, 12000);
    const script = join(__dirname, 'fixtures', 'pull-child.js');
    const env = { ...process.env, PULL_CC: JSON.stringify({ ...db.facts, database: 'k_cc' }) };
    let total = 30000;
    let kills = 0;
    let midFlow = 0;
    for (let i = 0; i < 5; i++) {
      // The first puller creates the copy table.
      const before = await count(cc, 'SELECT COUNT(*) AS n FROM tmetaconsole_event').catch(() => 0);
      const child = await runChild(script, { env });
      // More events arrive while the puller runs.
      await insertEvents(i % 2 === 0 ? n1 : n2, 300, 100000 + i * 1000);
      total += 300;
      // The kill lands once this puller is copying, at a random moment after that.
      await until(
        async () => (await count(cc, 'SELECT COUNT(*) AS n FROM tmetaconsole_event')) > before,
        20_000,
      );
      await sleep(Math.floor(Math.random() * 300));
      await child.kill();
      if ((await count(cc, 'SELECT COUNT(*) AS n FROM tmetaconsole_event')) < total) midFlow++;
      kills++;
    }
    assert.ok(midFlow >= 2, `kills landed while batches still flowed (${midFlow} of 5)`);
    const last = await runChild(script, { env });
    const done = await until(
      async () => (await count(cc, 'SELECT COUNT(*) AS n FROM tmetaconsole_event')) >= total,
      120_000,
    );
    await last.kill();
    assert.ok(done, 'caught up after the restart');
    assert.equal(kills, 5);
    assert.equal(await count(cc, 'SELECT COUNT(*) AS n FROM tmetaconsole_event'), total);
    assert.equal(
      await count(
        cc,
        'SELECT COUNT(DISTINCT server_id, id_source_event) AS n FROM tmetaconsole_event',
      ),
      total,
    );
    // The checkpoint and the copy moved together: every id up to it is there, none above it.
    for (const [id, conn] of [
      [1, n1],
      [2, n2],
    ] as const) {
      const max = await count(conn, 'SELECT MAX(id_evento) AS n FROM tevento');
      assert.equal(
        await count(cc, `SELECT last_id AS n FROM tevent_pull_checkpoint WHERE server_id = ${id}`),
        max,
      );
      assert.equal(
        await count(cc, `SELECT COUNT(*) AS n FROM tmetaconsole_event WHERE server_id = ${id}`),
        await count(conn, 'SELECT COUNT(*) AS n FROM tevento'),
      );
    }
    await Promise.all([n1.end(), n2.end(), cc.end()]);
  });

  it('an instance on a stopped server does not hold up the others, is reported once, and catches up', async () => {
    await createInstance(db, 'o_node1');
    await createInstance(db2, 'o_node2');
    await createCommandCenter(db, 'o_cc', [
      { id: 1, name: 'one', port: db.port, dbname: 'o_node1' },
      { id: 2, name: 'two', port: db2.port, dbname: 'o_node2' },
    ]);
    const ccPool = createPool({ ...db.facts, database: 'o_cc' });
    pools.push(ccPool);
    const puller = new EventPuller({
      cc: ccPool,
      intervalMs: 150,
      batchSize: 200,
      maxBackoffMs: 400,
      queryTimeoutMs: 5000,
    });
    const problems: PullProblem[] = [];
    const recovered: string[] = [];
    puller.on('problem', (p: PullProblem) => problems.push(p));
    puller.on('recovered', (r: { key: string }) => recovered.push(r.key));
    // Status reports while instance 2 is down (each of its failing rounds ends with one).
    let downReports = 0;
    puller.on('status', () => {
      if (puller.status().instances.find((i) => i.id === 2)?.down) downReports++;
    });
    const n1 = await db.connect('o_node1');
    let n2 = await db2.connect('o_node2');
    await insertEvents(n1, 500);
    await insertEvents(n2, 500);
    puller.start();
    assert.ok(
      await until(
        async () => (await count(ccPool, 'SELECT COUNT(*) AS n FROM tmetaconsole_event')) === 1000,
        20_000,
      ),
    );
    await n2.end();
    await db2.stop();
    await insertEvents(n1, 400, 1000);
    const t0 = Date.now();
    assert.ok(
      await until(
        async () =>
          (await count(
            ccPool,
            'SELECT COUNT(*) AS n FROM tmetaconsole_event WHERE server_id = 1',
          )) === 900,
        20_000,
      ),
      'instance 1 keeps flowing while instance 2 is down',
    );
    assert.ok(Date.now() - t0 < 15_000);
    // Several failing rounds of instance 2 go by.
    const before = downReports;
    assert.ok(await until(() => downReports >= before + 4, 20_000), 'instance 2 keeps failing');
    const down = problems.filter((p) => p.key === '2');
    assert.equal(down.length, 1, 'one report per outage');
    assert.match(
      worded(down[0].error),
      /instance 2 \(two\) at root@127.0.0.1:\d+\/o_node2: (connection refused|Connection lost)/,
    );
    const st = puller.status();
    assert.equal(st.commandCenter, null);
    assert.deepEqual(
      st.instances.map((i) => [i.id, i.down]),
      [
        [1, false],
        [2, true],
      ],
    );
    assert.match(worded(st.instances[1].error), /instance 2 \(two\)/);
    const r = await puller.requestRound();
    assert.ok(r.instances.find((i) => i.id === 2)?.error);
    assert.equal(problems.filter((p) => p.key === '2').length, 1);
    await db2.start();
    n2 = await db2.connect('o_node2');
    await insertEvents(n2, 250, 2000);
    assert.ok(
      await until(
        async () =>
          (await count(
            ccPool,
            'SELECT COUNT(*) AS n FROM tmetaconsole_event WHERE server_id = 2',
          )) === 750,
        30_000,
      ),
      'instance 2 catches up after its server is back',
    );
    // The recovery is reported when the instance's whole pull has ended, which may be a moment
    // after its last batch is visible in the Command Center.
    assert.ok(await until(() => recovered.length > 0, 10_000), 'the recovery is reported');
    assert.deepEqual(recovered, ['2']);
    assert.equal(await count(ccPool, 'SELECT COUNT(*) AS n FROM tmetaconsole_event'), 1650);
    await puller.close();
    await Promise.all([n1.end(), n2.end()]);
  });
});
