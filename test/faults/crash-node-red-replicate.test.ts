/**
 * The real node-red running metaconsole-replicate, killed with SIGKILL at random moments while
 * it drains a Command Center's queue for two Instances (the console keeps queueing scenes of the
 * real schema: module groups, OSes, calendars, components, plugins, policies, users), 20 times,
 * and started again on the same userDir. The table comparison covers only tags, so nothing but
 * the queue carries the scenes: a statement applied twice shows in the counter group or as a
 * failed insert, one applied never as a missing row. At the end: only the named operations are
 * left in the queue, every synchronized table on both Instances equals the Command Center's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Pool } from '../../lib/db/pool';
import { TABLES } from '../../lib/replicate/tables';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { launchNodeRed, prepareUserDir, type RunningNodeRed } from '../helpers/node-red';
import { sleep, waitFor } from '../helpers/wait';
import {
  consoleRound,
  COUNTER_GROUP,
  playOnCc,
  PLUGIN_REFRESH,
  seedConsoleBase,
} from '../replicate/console';
import { dump, makeSite, Site } from '../replicate/fixture';
import { count, seedFromEnv, seeded } from './util';

const KILLS = 20;
/** Scenes queued before the first start, so the first kills already find a backlog. */
const BACKLOG = 150;
const LEFT = `SELECT COUNT(*) AS n FROM tsync_queue WHERE operation <> '${PLUGIN_REFRESH}'`;

describe('node-red running metaconsole-replicate, killed with SIGKILL 20 times', () => {
  let db: PrivateMariaDb;
  let site: Site;
  before(async () => {
    db = await startMariaDb();
    site = await makeSite(db, [
      { db, name: 'nrr_node1' },
      { db, name: 'nrr_node2' },
    ]);
    for (const p of [site.cc, ...site.nodes]) await seedConsoleBase(p);
  });
  after(async () => {
    await site?.cc.end();
    for (const n of site?.nodes ?? []) await n.end();
    await db?.destroy();
  });

  it('applies every queued statement exactly once and leaves the tables identical', async () => {
    const seed = seedFromEnv();
    const rnd = seeded(seed);
    const { cc, nodes } = site;
    let scenes = 0;
    const play = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) await playOnCc(cc, consoleRound(scenes++), [1, 2]);
    };
    await play(BACKLOG);
    const tab = 'c3a1b2d4e5f60001';
    const prepared = await prepareUserDir({
      flows: [
        { id: tab, type: 'tab', label: 'replicate' },
        {
          id: 'c3a1b2d4e5f60002',
          type: 'pandora-config',
          name: 'Command Center',
          dbHost: '127.0.0.1',
          dbPort: String(db.port),
          dbName: 'cc',
          dbUser: 'root',
        },
        {
          id: 'c3a1b2d4e5f60003',
          type: 'metaconsole-replicate',
          z: tab,
          name: 'replicate',
          config: 'c3a1b2d4e5f60002',
          instances: '',
          objects: 'tags',
          interval: '1',
          wires: [[]],
        },
      ],
    });
    const left = () => count(cc, LEFT).catch(() => -1);
    const leftAtKill: number[] = [];
    let midFlow = 0;
    // The console keeps working the whole time: a scene every 100 ms.
    let feeding = true;
    const feeder = (async () => {
      while (feeding) {
        await play(1);
        await sleep(100);
      }
    })();
    let nr: RunningNodeRed | null = null;
    try {
      for (let k = 0; k < KILLS; k++) {
        nr = await launchNodeRed(prepared);
        await sleep(300 + Math.floor(rnd() * 1500));
        const exited = new Promise((r) => nr?.process.once('exit', r));
        nr.process.kill('SIGKILL');
        await exited;
        const at = await left();
        leftAtKill.push(at);
        if (at > 0) midFlow++;
      }
      feeding = false;
      await feeder;
      nr = await launchNodeRed(prepared);
      await waitFor(async () => (await left()) === 0, 120_000, 'the queue drained');
      await nr.stop();
      nr = null;
      console.log(
        `crash-node-red-replicate seed=${seed}: ${scenes} console scenes (${scenes * 23} items per node), ` +
          `${KILLS} SIGKILLs of node-red, statements left at each kill: ${leftAtKill.join(',')}`,
      );
      assert.ok(midFlow >= KILLS / 2, `${midFlow} kills landed while the queue was draining`);
      const tables = TABLES.map((t) => t.table);
      const want = await dump(cc, tables);
      for (const [i, n] of nodes.entries()) {
        assert.equal(
          await count(n as Pool, 'SELECT max_agents AS n FROM tgrupo WHERE id_grupo = ?', [
            COUNTER_GROUP,
          ]),
          scenes,
          `node ${i + 1}: each scene's counter statement applied exactly once`,
        );
        assert.deepEqual(await dump(n, tables), want, `node ${i + 1} equals the Command Center`);
      }
      assert.equal(
        await count(
          cc,
          `SELECT COUNT(*) AS n FROM tsync_queue WHERE operation = '${PLUGIN_REFRESH}' AND error <> ''`,
        ),
        2 * scenes,
        'the named operations stay, marked',
      );
    } finally {
      feeding = false;
      await feeder;
      await nr?.stop();
    }
  });
});
