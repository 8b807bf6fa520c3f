import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPool, Pool } from '../../lib/db/pool';
import {
  CommandCenterSide,
  EventBatch,
  EventPuller,
  EventPullOptions,
  EventPullTesting,
  InstanceSide,
  PullProblem,
} from '../../lib/events';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { waitFor } from '../helpers/wait';
import { worded } from './fixtures/words';
import {
  AGENT_NAME,
  createCommandCenter,
  createInstance,
  GROUP_NAME,
  insertEvents,
  MODULE_NAME,
  TEMPLATE_NAME,
} from './fixtures/pandora';

describe('event-pull engine (real MariaDB: a Command Center and two instances)', () => {
  let db: PrivateMariaDb;
  const pools: Pool[] = [];
  let seq = 0;

  before(async () => {
    db = await startMariaDb();
  });
  after(async () => {
    for (const p of pools) await p.end().catch(() => {});
    await db?.destroy();
  });

  /** A fresh Command Center and two fresh instances (ids 1 and 2), with a puller over them. */
  async function world(options: Partial<EventPullOptions> = {}, testing: EventPullTesting = {}) {
    const tag = `${++seq}`;
    await createInstance(db, `node1_${tag}`);
    await createInstance(db, `node2_${tag}`);
    await createCommandCenter(db, `cc_${tag}`, [
      { id: 1, name: 'node-one', port: db.port, dbname: `node1_${tag}` },
      { id: 2, name: 'node-two', port: db.port, dbname: `node2_${tag}` },
    ]);
    const cc = createPool({ ...db.facts, database: `cc_${tag}` });
    pools.push(cc);
    const n1 = await db.connect(`node1_${tag}`);
    const n2 = await db.connect(`node2_${tag}`);
    const c = await db.connect(`cc_${tag}`);
    const puller = new EventPuller({ cc, intervalMs: 0, batchSize: 500, ...options }, testing);
    const batches: EventBatch[] = [];
    const problems: PullProblem[] = [];
    puller.on('batch', (b: EventBatch) => batches.push(b));
    puller.on('problem', (p: PullProblem) => problems.push(p));
    const close = async () => {
      await puller.close();
      await Promise.all([n1.end(), n2.end(), c.end()]);
    };
    return { tag, cc, n1, n2, c, puller, batches, problems, close };
  }

  async function count(c: { query: Pool['query'] }, sql: string, values: unknown[] = []) {
    const [rows] = (await c.query(sql, values)) as unknown as [{ n: string | number }[]];
    return Number(rows[0].n);
  }

  it('copies every event of every instance exactly once, with names, in batches', async () => {
    const w = await world();
    await insertEvents(w.n1, 1234);
    await insertEvents(w.n2, 777);
    const r1 = await w.puller.requestRound();
    assert.deepEqual(
      r1.instances.map((i) => [i.id, i.copied, i.error]),
      [
        [1, 1234, undefined],
        [2, 777, undefined],
      ],
    );
    await insertEvents(w.n1, 10, 5000);
    const r2 = await w.puller.requestRound();
    assert.equal(r2.instances[0].copied, 10);
    assert.equal(r2.instances[1].copied, 0);
    await w.puller.requestRound();
    assert.equal(await count(w.c, 'SELECT COUNT(*) AS n FROM tmetaconsole_event'), 2021);
    assert.equal(
      await count(
        w.c,
        'SELECT COUNT(DISTINCT server_id, id_source_event) AS n FROM tmetaconsole_event',
      ),
      2021,
    );
    // Messages: one per batch, none repeated, ids in order per instance.
    const ids = w.batches
      .filter((b) => b.kind === 'new')
      .flatMap((b) => b.events.map((e) => `${b.instance.id}:${String(e.id_source_event)}`));
    assert.equal(ids.length, 2021);
    assert.equal(new Set(ids).size, 2021);
    assert.ok(w.batches.every((b) => b.events.length <= 500));
    const [rows] = (await w.c.query(
      'SELECT * FROM tmetaconsole_event WHERE server_id = 1 AND id_source_event IN (1, 2, 4) ORDER BY id_source_event',
    )) as unknown as [Record<string, unknown>[]];
    // Event 1 is i=0: group 0 ("All"), module 11, alert 5.
    assert.equal(rows[0].agent_name, AGENT_NAME);
    assert.equal(rows[0].group_name, 'All');
    assert.equal(rows[0].module_name, MODULE_NAME);
    assert.equal(rows[0].alert_template_name, TEMPLATE_NAME);
    assert.equal(rows[1].group_name, GROUP_NAME);
    assert.equal(rows[1].module_name, '');
    assert.equal(rows[1].alert_template_name, '');
    assert.equal(rows[2].group_name, 'All');
    assert.deepEqual(w.puller.status(), {
      commandCenter: null,
      instances: [
        { id: 1, name: 'node-one', lag: 0, down: false, error: undefined },
        { id: 2, name: 'node-two', lag: 0, down: false, error: undefined },
      ],
    });
    await w.close();
  });

  it('names events as the Instance names them at the round that copies them', async () => {
    const w = await world();
    await insertEvents(w.n1, 2);
    await w.puller.requestRound();
    // Renamed between rounds; an instance without tagente_modulo or alert tables names nothing.
    await w.n1.query("UPDATE tagente SET nombre = 'renamed' WHERE id_agente = 7");
    await w.n2.query('SET FOREIGN_KEY_CHECKS = 0');
    await w.n2.query('DROP TABLE talert_template_modules');
    await w.n2.query('DROP TABLE tagente_modulo');
    await insertEvents(w.n1, 1, 10);
    await insertEvents(w.n2, 1);
    // A fresh puller reads the trimmed instance's tables anew.
    await w.puller.close();
    const p = new EventPuller({ cc: w.cc, intervalMs: 0 });
    await p.requestRound();
    await p.close();
    const [rows] = (await w.c.query(
      'SELECT server_id, id_source_event, agent_name, group_name, module_name, alert_template_name FROM tmetaconsole_event ORDER BY server_id, id_source_event',
    )) as unknown as [Record<string, unknown>[]];
    assert.deepEqual(
      rows.map((r) => [r.server_id, String(r.id_source_event), r.agent_name, r.module_name]),
      [
        [1, '1', AGENT_NAME, MODULE_NAME],
        [1, '2', AGENT_NAME, ''],
        [1, '3', 'renamed', MODULE_NAME],
        [2, '1', AGENT_NAME, ''],
      ],
    );
    assert.equal(rows[3].alert_template_name, '');
    assert.equal(rows[3].group_name, 'All');
    await Promise.all([w.n1.end(), w.n2.end(), w.c.end()]);
  });

  it('brings validations, owner changes and comments of copied events within one round', async () => {
    const w = await world({ recheckWindow: 50 });
    await insertEvents(w.n1, 600);
    await w.puller.requestRound();
    const now = Math.floor(Date.now() / 1000);
    // A validation (ack_utimestamp moves) on an old event, outside the re-check window of 50.
    await w.n1.query(
      "UPDATE tevento SET estado = 1, id_usuario = 'operator', ack_utimestamp = ? WHERE id_evento = 3",
      [now],
    );
    // An owner change without ack_utimestamp, inside the window.
    await w.n1.query("UPDATE tevento SET owner_user = 'ops&#x20;team' WHERE id_evento = 590");
    await w.n1.query(
      "INSERT INTO tevent_comment (id_event, utimestamp, comment, id_user, action) VALUES (10, ?, 'Looking&#x20;at&#x20;it', 'operator', 'Added comment')",
      [now],
    );
    const r = await w.puller.requestRound();
    assert.equal(r.instances[0].updated, 3);
    const [rows] = (await w.c.query(
      'SELECT id_source_event, estado, id_usuario, owner_user, user_comment FROM tmetaconsole_event WHERE server_id = 1 AND id_source_event IN (3, 10, 590) ORDER BY id_source_event',
    )) as unknown as [Record<string, unknown>[]];
    assert.equal(rows[0].estado, 1);
    assert.equal(rows[0].id_usuario, 'operator');
    assert.equal(rows[2].owner_user, 'ops&#x20;team');
    const comments = JSON.parse(String(rows[1].user_comment)) as { comment: string }[];
    assert.equal(comments[0].comment, 'Looking&#x20;at&#x20;it');
    // Nothing changed since: the next round re-checks and writes nothing.
    const r2 = await w.puller.requestRound();
    assert.equal(r2.instances[0].updated, 0);
    // A second puller on the same instance cannot write a batch the first already covered.
    await insertEvents(w.n1, 5, 900);
    const other = new EventPuller({ cc: w.cc, intervalMs: 0, instances: [1] });
    await other.requestRound();
    await other.close();
    const r3 = await w.puller.requestRound();
    assert.match(worded(r3.instances[0].error), /checkpoint of instance 1 moved/);
    const r4 = await w.puller.requestRound();
    assert.equal(r4.instances[0].error, undefined);
    assert.equal(
      await count(w.c, 'SELECT COUNT(*) AS n FROM tmetaconsole_event WHERE server_id = 1'),
      605,
    );
    await w.close();
  });

  it('automatic rounds faster than a second still bring validations, at most about a second later', async () => {
    const w = await world({ intervalMs: 50 });
    await insertEvents(w.n1, 5);
    w.puller.start();
    await waitFor(
      async () => (await count(w.c, 'SELECT COUNT(*) AS n FROM tmetaconsole_event')) === 5,
      10_000,
      'the copies',
    );
    await w.n1.query(
      "UPDATE tevento SET estado = 1, id_usuario = 'admin', ack_utimestamp = UNIX_TIMESTAMP() WHERE id_evento = 3",
    );
    await waitFor(
      async () =>
        (await count(
          w.c,
          'SELECT estado AS n FROM tmetaconsole_event WHERE server_id = 1 AND id_source_event = 3',
        )) === 1,
      10_000,
      'the validation on the copy',
    );
    await w.close();
  });

  it('emits updates as their own batches', async () => {
    const w = await world({ recheckWindow: 10 });
    await insertEvents(w.n2, 20);
    await w.puller.requestRound();
    await w.n2.query(
      "UPDATE tevento SET estado = 2, owner_user = 'me', ack_utimestamp = UNIX_TIMESTAMP() WHERE id_evento = 1",
    );
    const r = await w.puller.requestRound();
    assert.equal(r.instances[1].updated, 1);
    const upd = w.batches.filter((b) => b.kind === 'update');
    assert.equal(upd.length, 1);
    assert.equal(upd[0].instance.name, 'node-two');
    assert.equal(upd[0].events[0].owner_user, 'me');
    await w.close();
  });

  it('carries what round() was given on the batches of that round, and nothing on others', async () => {
    const w = await world();
    await insertEvents(w.n1, 3);
    await w.puller.requestRound('first');
    await insertEvents(w.n1, 2, 100);
    await w.puller.requestRound('second');
    // A round that copies nothing sends nothing.
    await w.puller.requestRound('third');
    assert.deepEqual(
      w.batches.map((x) => [x.instance.id, x.events.length, x.requests]),
      [
        [1, 3, ['first']],
        [1, 2, ['second']],
      ],
    );
    await w.close();
  });

  it('the validation re-polls never take untouched events (ack_utimestamp 0) for changes', async () => {
    const w = await world();
    // Every third event validated (ack_utimestamp set), the rest never touched.
    await insertEvents(w.n1, 30, 0, { estado: (i) => (i % 3 === 0 ? 1 : 0) });
    await w.puller.requestRound();
    // The instance's pool is not at hand here: read its tables through a pool of the same server.
    const inst = createPool({ ...db.facts, database: `node1_${w.tag}` });
    pools.push(inst);
    const acked = await new InstanceSide(inst, 5000).statesAckedSince(0, 1000n, 1000);
    assert.equal(acked.length, 10);
    assert.ok(acked.every((s) => s.estado === 1));
    const copies = await new CommandCenterSide(w.cc).copiesAckedSince(1, 0, 1000);
    assert.equal(copies.length, 10);
    await w.close();
  });

  it('only_validated copies an event only once it is validated', async () => {
    const w = await world({ mode: 'only_validated' });
    await insertEvents(w.n1, 100, 0, { estado: (i) => (i % 10 === 0 ? 1 : 0) });
    await w.puller.requestRound();
    assert.equal(await count(w.c, 'SELECT COUNT(*) AS n FROM tmetaconsole_event'), 10);
    assert.equal(
      await count(w.c, 'SELECT COUNT(*) AS n FROM tmetaconsole_event WHERE estado <> 1'),
      0,
    );
    await w.n1.query(
      "UPDATE tevento SET estado = 1, id_usuario = 'admin', ack_utimestamp = UNIX_TIMESTAMP() WHERE id_evento IN (2, 3)",
    );
    await w.n1.query(
      "UPDATE tevento SET estado = 2, owner_user = 'x', ack_utimestamp = UNIX_TIMESTAMP() WHERE id_evento = 4",
    );
    const r = await w.puller.requestRound();
    assert.equal(r.instances[0].updated, 2);
    assert.equal(await count(w.c, 'SELECT COUNT(*) AS n FROM tmetaconsole_event'), 12);
    const [cp] = (await w.c.query(
      'SELECT last_id FROM tevent_pull_checkpoint WHERE server_id = 1',
    )) as unknown as [{ last_id: string }[]];
    assert.equal(cp[0].last_id, '100');
    await w.close();
  });

  it('keeps ids above 2^53 exact', async () => {
    const w = await world({ batchSize: 3 });
    const base = '18446744073709551000';
    await w.n1.query(`ALTER TABLE tevento AUTO_INCREMENT = ${base}`);
    await insertEvents(w.n1, 10);
    await w.puller.requestRound();
    const [rows] = (await w.c.query(
      'SELECT CAST(id_source_event AS CHAR) AS id FROM tmetaconsole_event WHERE server_id = 1 ORDER BY id_source_event',
    )) as unknown as [{ id: string }[]];
    const expected = Array.from({ length: 10 }, (_, i) => (BigInt(base) + BigInt(i)).toString());
    assert.deepEqual(
      rows.map((r) => r.id),
      expected,
    );
    const sent = w.batches.flatMap((b) => b.events.map((e) => e.id_source_event));
    assert.deepEqual(sent, expected);
    // A change on the largest id travels too (the re-poll compares exact ids).
    await w.n1.query(
      `UPDATE tevento SET estado = 1, ack_utimestamp = UNIX_TIMESTAMP() WHERE id_evento = ${expected[9]}`,
    );
    const r = await w.puller.requestRound();
    assert.equal(r.instances[0].updated, 1);
    await w.close();
  });

  it('copies encoded text byte for byte', async () => {
    const w = await world();
    const texts = [
      'Module&#x20;&lt;CPU&gt;&#x20;&quot;high&quot;&#x20;&amp;&#x20;&#039;ok&#039;',
      'quotes \' " ` and backslashes \\ \\\\ \\n \\0 end\\',
      'emoji 🚨🔥 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 — ñ ü ç',
      'invalid-looking: \\xC3\\x28 %C3%28 &#xD800; &#0; \uFFFD \u0000 nul',
      'tabs\tand\r\nnewlines',
    ];
    await insertEvents(w.n1, texts.length, 0, { evento: (i) => texts[i] });
    await w.n1.query('INSERT INTO tevent_comment (id_event, comment, id_user) VALUES (1, ?, ?)', [
      texts[2],
      'us&#x20;er',
    ]);
    await w.puller.requestRound();
    const [src] = (await w.n1.query(
      'SELECT id_evento, HEX(evento) AS h FROM tevento ORDER BY id_evento',
    )) as unknown as [{ id_evento: string; h: string }[]];
    const [dst] = (await w.c.query(
      'SELECT id_source_event, HEX(evento) AS h, user_comment FROM tmetaconsole_event WHERE server_id = 1 ORDER BY id_source_event',
    )) as unknown as [{ id_source_event: string; h: string; user_comment: string }[]];
    assert.deepEqual(
      dst.map((r) => r.h),
      src.map((r) => r.h),
    );
    assert.equal(Buffer.from(dst[2].h, 'hex').toString('utf8'), texts[2]);
    assert.equal((JSON.parse(dst[0].user_comment) as { comment: string }[])[0].comment, texts[2]);
    await w.close();
  });

  it('writeBack: a validation made on the copy reaches the instance, and not the other way round', async () => {
    const w = await world({ writeBack: true });
    await insertEvents(w.n1, 5, 0, { utimestamp: () => Math.floor(Date.now() / 1000) - 100 });
    await w.puller.requestRound();
    const t = Math.floor(Date.now() / 1000);
    await w.c.query(
      "UPDATE tmetaconsole_event SET estado = 1, id_usuario = 'cc&#x20;admin', ack_utimestamp = ? WHERE server_id = 1 AND id_source_event = 2",
      [t],
    );
    const r = await w.puller.requestRound();
    assert.equal(r.instances[0].writtenBack, 1);
    const [rows] = (await w.n1.query(
      'SELECT estado, id_usuario, ack_utimestamp FROM tevento WHERE id_evento = 2',
    )) as unknown as [{ estado: number; id_usuario: string; ack_utimestamp: string }[]];
    assert.deepEqual(rows[0], {
      estado: 1,
      id_usuario: 'cc&#x20;admin',
      ack_utimestamp: String(t),
    });
    // The instance changes it later: the instance's newer change wins and reaches the copy.
    await w.n1.query(
      "UPDATE tevento SET estado = 0, id_usuario = 'node', ack_utimestamp = ? WHERE id_evento = 2",
      [t + 5],
    );
    const r2 = await w.puller.requestRound();
    assert.equal(r2.instances[0].writtenBack, 0);
    assert.equal(r2.instances[0].updated, 1);
    assert.equal(
      await count(
        w.c,
        "SELECT COUNT(*) AS n FROM tmetaconsole_event WHERE id_usuario = 'node' AND estado = 0",
      ),
      1,
    );
    await w.close();
  });

  it('survives the Command Center connection dying between the upsert and the commit', async () => {
    let kills = 0;
    const w = await world(
      { batchSize: 100 },
      {
        beforeCommit: async ({ threadId, serverId }) => {
          if (serverId === 1 && kills < 2) {
            kills++;
            const killer = await db.connect();
            await killer.query(`KILL ${Number(threadId)}`);
            await killer.end();
          }
        },
      },
    );
    await insertEvents(w.n1, 450);
    await insertEvents(w.n2, 250);
    const r1 = await w.puller.requestRound();
    assert.ok(r1.instances[0].error, 'the killed transaction is reported');
    assert.match(worded(r1.instances[0].error), /Command Center/);
    assert.equal(r1.instances[1].copied, 250, 'the other instance is not held up');
    assert.equal(
      await count(w.c, 'SELECT COUNT(*) AS n FROM tmetaconsole_event WHERE server_id = 1'),
      0,
    );
    for (
      let i = 0;
      i < 5 &&
      (await count(w.c, 'SELECT COUNT(*) AS n FROM tmetaconsole_event WHERE server_id = 1')) < 450;
      i++
    ) {
      await w.puller.requestRound();
    }
    assert.equal(kills, 2);
    assert.equal(
      await count(w.c, 'SELECT COUNT(*) AS n FROM tmetaconsole_event WHERE server_id = 1'),
      450,
    );
    const [cp] = (await w.c.query(
      'SELECT last_id FROM tevent_pull_checkpoint WHERE server_id = 1',
    )) as unknown as [{ last_id: string }[]];
    assert.equal(cp[0].last_id, '450');
    // One problem per outage, and no duplicate messages.
    assert.equal(w.problems.filter((p) => p.key === '1').length, 1);
    const ids = w.batches
      .filter((b) => b.instance.id === 1)
      .flatMap((b) => b.events.map((e) => e.id_source_event));
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(ids.length, 450);
    await w.close();
  });

  it('bad registry rows give clear errors and do not stop the good instance', async () => {
    const tag = `bad${++seq}`;
    await createInstance(db, `good_${tag}`);
    const admin = await db.connect();
    await admin.query("CREATE USER IF NOT EXISTS 'pandora'@'127.0.0.1' IDENTIFIED BY 'secret'");
    await admin.query(`GRANT ALL ON \`good_${tag}\`.* TO 'pandora'@'127.0.0.1'`);
    await admin.end();
    const { freePort } = await import('../helpers/mariadb');
    const deadPort = await freePort();
    await createCommandCenter(db, `cc_${tag}`, [
      { id: 1, name: 'good', port: db.port, dbname: `good_${tag}` },
      { id: 2, name: 'wrong-port', port: deadPort, dbname: `good_${tag}` },
      {
        id: 3,
        name: 'wrong-pass',
        port: db.port,
        dbname: `good_${tag}`,
        user: 'pandora',
        pass: 'nope',
      },
      { id: 4, name: 'no-db', port: db.port, dbname: `missing_${tag}` },
      {
        id: 5,
        name: 'encrypted',
        port: db.port,
        dbname: `good_${tag}`,
        user: 'pandora',
        pass: 'q2Vh6cN0n1uL0yXcYx1m1A==',
      },
    ]);
    const cc = createPool({ ...db.facts, database: `cc_${tag}` });
    pools.push(cc);
    const n = await db.connect(`good_${tag}`);
    await insertEvents(n, 30);
    const puller = new EventPuller({ cc, intervalMs: 0, instances: [1, 2, 3, 4, 5, 9] });
    const problems: PullProblem[] = [];
    puller.on('problem', (p: PullProblem) => problems.push(p));
    const r = await puller.requestRound();
    const byId = new Map(r.instances.map((i) => [i.id, i]));
    assert.equal(byId.get(1)?.copied, 30);
    assert.match(worded(byId.get(2)?.error), /instance 2 \(wrong-port\).*connection refused/);
    assert.match(worded(byId.get(3)?.error), /instance 3 \(wrong-pass\).*access denied/);
    assert.match(worded(byId.get(4)?.error), /database "missing_bad\d+" does not exist/);
    assert.match(worded(byId.get(5)?.error), /encryption_passphrase/);
    assert.ok(r.problems.some((p) => /instance 9 is not in tmetaconsole_setup/.test(worded(p))));
    await puller.requestRound();
    // Once per outage: a second failing round adds nothing.
    assert.equal(problems.length, 5);
    const st = puller.status();
    assert.deepEqual(
      st.instances.map((i) => [i.id, i.down, i.lag]),
      [
        [1, false, 0],
        [2, true, null],
        [3, true, null],
        [4, true, null],
        [5, true, null],
      ],
    );
    await puller.close();
    await n.end();
  });

  it('refuses a legacy tmetaconsole_event without the unique key, with the fix in the message', async () => {
    const tag = `legacy${++seq}`;
    await createInstance(db, `n_${tag}`);
    await createCommandCenter(db, `cc_${tag}`, [
      { id: 1, name: 'n', port: db.port, dbname: `n_${tag}` },
    ]);
    const c = await db.connect(`cc_${tag}`);
    await c.query(
      'CREATE TABLE tmetaconsole_event (id_evento BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, id_source_event BIGINT UNSIGNED NOT NULL, server_id INT NOT NULL, estado TINYINT NOT NULL DEFAULT 0, ack_utimestamp BIGINT NOT NULL DEFAULT 0, evento TEXT)',
    );
    const cc = createPool({ ...db.facts, database: `cc_${tag}` });
    pools.push(cc);
    const puller = new EventPuller({ cc, intervalMs: 0 });
    const r = await puller.requestRound();
    assert.match(
      r.problems.map(worded).join('\n'),
      /ALTER TABLE tmetaconsole_event ADD UNIQUE KEY/,
    );
    await c.query('ALTER TABLE tmetaconsole_event ADD UNIQUE KEY k (server_id, id_source_event)');
    const n = await db.connect(`n_${tag}`);
    await insertEvents(n, 3);
    const r2 = await puller.requestRound();
    // The legacy table lacks most columns: the common ones are copied.
    assert.equal(r2.instances[0].copied, 3);
    await puller.close();
    await Promise.all([n.end(), c.end()]);
  });

  it('catches an event committed late with an id below the checkpoint', async () => {
    const w = await world();
    await insertEvents(w.n1, 5);
    // Reserve id 6 in an open transaction while id 7 commits first.
    const late = await db.connect(`node1_${w.tag}`);
    await late.beginTransaction();
    await insertEvents(late, 1, 100);
    await insertEvents(w.n1, 1, 200);
    await w.puller.requestRound();
    assert.equal(await count(w.c, 'SELECT COUNT(*) AS n FROM tmetaconsole_event'), 6);
    await late.commit();
    await late.end();
    const r = await w.puller.requestRound();
    assert.equal(r.instances[0].updated, 1);
    assert.equal(await count(w.c, 'SELECT COUNT(*) AS n FROM tmetaconsole_event'), 7);
    await w.close();
  });
});
