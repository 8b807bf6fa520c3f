/**
 * The event puller's process killed with SIGKILL at random moments, 20 times while events keep
 * arriving on two instances, and restarted each time: at the end every (server_id,
 * id_source_event) is in tmetaconsole_event exactly once, each copy equals its source row with
 * the names resolved, and each checkpoint sits on its instance's last id.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { until } from '../helpers/wait';
import { createCommandCenter, createInstance, insertEvents } from '../events/fixtures/pandora';
import { debug, seedFromEnv, seeded, sleep, count } from './util';
import { runChild } from '../helpers/child';

const KILLS = 20;
// The event-pull suite's own child: a started EventPuller (interval 20 ms, batches of 13).
const CHILD = join(__dirname, '..', 'events', 'fixtures', 'pull-child.js');

/** Columns copied verbatim from tevento into tmetaconsole_event. */
const SAME = [
  'id_agente',
  'id_usuario',
  'id_grupo',
  'estado',
  'timestamp',
  'evento',
  'utimestamp',
  'event_type',
  'id_agentmodule',
  'id_alert_am',
  'criticity',
  'owner_user',
  'ack_utimestamp',
];

describe('fault: event puller killed with SIGKILL 20 times', () => {
  let db: PrivateMariaDb;
  before(async () => {
    db = await startMariaDb();
  });
  after(async () => {
    await db?.destroy();
  });

  it('copies every event exactly once, equal to its source, while events keep arriving', async () => {
    const seed = seedFromEnv();
    const rnd = seeded(seed);
    const names = ['ce_node1', 'ce_node2'];
    for (const n of names) await createInstance(db, n);
    await createCommandCenter(
      db,
      'ce_cc',
      names.map((n, i) => ({ id: i + 1, name: n, port: db.port, dbname: n })),
    );
    const nodes = await Promise.all(names.map((n) => db.connect(n)));
    const cc = await db.connect('ce_cc');
    await insertEvents(nodes[0], 8000);
    await insertEvents(nodes[1], 6000);
    let total = 14000;
    const env = { ...process.env, PULL_CC: JSON.stringify({ ...db.facts, database: 'ce_cc' }) };
    const copiedAtKill: number[] = [];
    let midFlow = 0;
    const t0 = Date.now();
    for (let k = 0; k < KILLS; k++) {
      const before = await count(cc, 'SELECT COUNT(*) AS n FROM tmetaconsole_event').catch(() => 0);
      const child = await runChild(CHILD, { env });
      // New events land while the puller runs, on both instances: enough that, however fast the
      // copy, a kill shortly after the puller starts copying finds batches still to write.
      const adding = insertEvents(nodes[k % 2], 1000, 100_000 + k * 1000);
      total += 1000;
      await until(
        async () => (await count(cc, 'SELECT COUNT(*) AS n FROM tmetaconsole_event')) > before,
        20_000,
      );
      await sleep(Math.floor(rnd() * 300));
      await child.kill();
      await adding;
      const copied = await count(cc, 'SELECT COUNT(*) AS n FROM tmetaconsole_event');
      copiedAtKill.push(copied);
      if (copied < total) midFlow++;
    }
    const last = await runChild(CHILD, { env });
    const caughtUp = await until(
      async () => (await count(cc, 'SELECT COUNT(*) AS n FROM tmetaconsole_event')) >= total,
      45_000,
    );
    await last.kill();
    const secs = (Date.now() - t0) / 1000;
    console.log(
      `# crash-events seed ${seed}: ${total} events, ${KILLS} SIGKILLs (${midFlow} mid-flow), copied at each kill ${copiedAtKill.join(', ')}; ${secs.toFixed(1)} s`,
    );
    assert.ok(caughtUp, 'caught up after the last restart');
    assert.ok(midFlow >= KILLS / 4, `kills landed while batches flowed (${midFlow} of ${KILLS})`);
    assert.equal(await count(cc, 'SELECT COUNT(*) AS n FROM tmetaconsole_event'), total);
    assert.equal(
      await count(
        cc,
        'SELECT COUNT(DISTINCT server_id, id_source_event) AS n FROM tmetaconsole_event',
      ),
      total,
      'nothing copied twice',
    );
    for (const [i, n] of names.entries()) {
      const id = i + 1;
      const source = await count(nodes[i], 'SELECT COUNT(*) AS n FROM tevento');
      const joined = await count(
        cc,
        `SELECT COUNT(*) AS n FROM tmetaconsole_event c JOIN \`${n}\`.tevento e ON e.id_evento = c.id_source_event WHERE c.server_id = ?`,
        [id],
      );
      assert.equal(joined, source, `instance ${id}: every source event has its copy`);
      const differ = await count(
        cc,
        `SELECT COUNT(*) AS n FROM tmetaconsole_event c JOIN \`${n}\`.tevento e ON e.id_evento = c.id_source_event ` +
          `LEFT JOIN \`${n}\`.tagente a ON a.id_agente = e.id_agente ` +
          `WHERE c.server_id = ? AND NOT (${SAME.map((col) => `c.\`${col}\` <=> e.\`${col}\``).join(' AND ')} AND c.agent_name <=> a.nombre)`,
        [id],
      );
      assert.equal(differ, 0, `instance ${id}: every copy equals its source`);
      assert.equal(
        await count(cc, 'SELECT last_id AS n FROM tevent_pull_checkpoint WHERE server_id = ?', [
          id,
        ]),
        await count(nodes[i], 'SELECT MAX(id_evento) AS n FROM tevento'),
        `instance ${id}: checkpoint on the last id`,
      );
    }
    debug('crash-events done');
    await Promise.all([...nodes.map((c) => c.end()), cc.end()]);
  });
});
