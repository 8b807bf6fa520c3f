/**
 * The real node-red running event-pull, killed with SIGKILL at random moments while it copies
 * two Instances' events (more keep arriving), 20 times, and started again on the same userDir:
 * every event lands in tmetaconsole_event exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCommandCenter, createInstance, insertEvents } from '../events/fixtures/pandora';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { launchNodeRed, prepareUserDir, type RunningNodeRed } from '../helpers/node-red';
import { sleep, waitFor } from '../helpers/wait';
import { count, seedFromEnv, seeded } from './util';

const KILLS = 20;
const PER_INSTANCE = 5_000;

describe('node-red running event-pull, killed with SIGKILL 20 times', () => {
  let db: PrivateMariaDb;
  before(async () => {
    db = await startMariaDb();
  });
  after(async () => {
    await db?.destroy();
  });

  it('copies every event of both Instances exactly once', async () => {
    const seed = seedFromEnv();
    const rnd = seeded(seed);
    await createInstance(db, 'nr_node1');
    await createInstance(db, 'nr_node2');
    await createCommandCenter(db, 'nr_cc', [
      { id: 1, name: 'one', port: db.port, dbname: 'nr_node1' },
      { id: 2, name: 'two', port: db.port, dbname: 'nr_node2' },
    ]);
    const n1 = await db.connect('nr_node1');
    const n2 = await db.connect('nr_node2');
    const cc = await db.connect('nr_cc');
    await insertEvents(n1, PER_INSTANCE);
    await insertEvents(n2, PER_INSTANCE);
    const tab = 'e7b1c2d3a4f50001';
    const prepared = await prepareUserDir({
      flows: [
        { id: tab, type: 'tab', label: 'events' },
        {
          id: 'e7b1c2d3a4f50002',
          type: 'pandora-config',
          name: 'Command Center',
          dbHost: '127.0.0.1',
          dbPort: String(db.port),
          dbName: 'nr_cc',
          dbUser: 'root',
        },
        {
          id: 'e7b1c2d3a4f50003',
          type: 'event-pull',
          z: tab,
          name: 'events',
          config: 'e7b1c2d3a4f50002',
          instances: '',
          interval: '1',
          batchSize: '50',
          mode: 'all',
          wires: [[]],
        },
      ],
    });
    const copied = () => count(cc, 'SELECT COUNT(*) AS n FROM tmetaconsole_event').catch(() => 0);
    const killedAt: number[] = [];
    let midFlow = 0;
    // Events keep arriving on both Instances the whole time, about 1,000 a second, so a kill
    // always finds a backlog being copied.
    let inserted = 2 * PER_INSTANCE;
    let feeding = true;
    const feeder = (async () => {
      for (let k = 0; feeding; k++) {
        await insertEvents(k % 2 ? n1 : n2, 50, PER_INSTANCE + k * 50);
        inserted += 50;
        await sleep(50);
      }
    })();
    let nr: RunningNodeRed | null = null;
    try {
      for (let k = 0; k < KILLS; k++) {
        nr = await launchNodeRed(prepared);
        await sleep(800 + Math.floor(rnd() * 1500));
        const exited = new Promise((r) => nr?.process.once('exit', r));
        nr.process.kill('SIGKILL');
        await exited;
        const at = await copied();
        killedAt.push(at);
        if (at > 0 && at < inserted) midFlow++;
      }
      feeding = false;
      await feeder;
      const total = inserted;
      nr = await launchNodeRed(prepared);
      await waitFor(async () => (await copied()) >= total, 90_000, 'every event copied');
      // The checkpoints past every event: nothing is left for a round to write.
      const last = async (c: typeof n1) => count(c, 'SELECT MAX(id_evento) AS n FROM tevento');
      const [last1, last2] = [await last(n1), await last(n2)];
      await waitFor(
        async () =>
          (await count(
            cc,
            `SELECT COUNT(*) AS n FROM tevent_pull_checkpoint WHERE (server_id = 1 AND last_id >= ${last1}) OR (server_id = 2 AND last_id >= ${last2})`,
          )) === 2,
        30_000,
        'both checkpoints past the last event',
      );
      console.log(
        `crash-node-red-events seed=${seed}: ${total} events, ${KILLS} SIGKILLs of node-red, ` +
          `copied at each kill: ${killedAt.join(',')}`,
      );
      assert.ok(midFlow >= KILLS / 2, `${midFlow} kills landed while events were being copied`);
      assert.equal(await copied(), total, 'nothing twice');
      assert.equal(
        await count(
          cc,
          'SELECT COUNT(DISTINCT server_id, id_source_event) AS n FROM tmetaconsole_event',
        ),
        total,
      );
      for (const [id, c] of [
        [1, n1],
        [2, n2],
      ] as const) {
        const mine = await count(
          cc,
          `SELECT COUNT(*) AS n FROM tmetaconsole_event WHERE server_id = ${id}`,
        );
        assert.equal(mine, await count(c, 'SELECT COUNT(*) AS n FROM tevento'), `instance ${id}`);
      }
    } finally {
      feeding = false;
      await feeder;
      await nr?.stop();
      await Promise.all([n1.end(), n2.end(), cc.end()]);
    }
  });
});
