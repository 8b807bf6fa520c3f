/**
 * The replicator's process killed with SIGKILL at random moments, 20 times while the Command
 * Center keeps queueing and changing rows, and restarted each time. The queue carries
 * non-idempotent items (`max_agents = max_agents + 1`, INSERTs without a key) and, each time, a
 * console scene on the real schema (test/replicate/console.ts: module groups, OSes, calendars,
 * components, plugins, policies, users), so an item applied twice shows as a wrong count or a
 * failed insert. At the end: each node's counter equals the items queued for it, each keyless
 * INSERT made exactly one row, nothing but the named operations is left in the queue, and every
 * synchronized table on every node equals the Command Center's.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Pool } from '../../lib/db/pool';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { until } from '../helpers/wait';
import {
  consoleRound,
  COUNTER_GROUP,
  playOnCc,
  PLUGIN_REFRESH,
  seedConsoleBase,
} from '../replicate/console';
import { dump, makeSite, Site } from '../replicate/fixture';
import { TABLES } from '../../lib/replicate/tables';
import { seedFromEnv, seeded, sleep, count } from './util';
import { runChild } from '../helpers/child';

const KILLS = 20;
const CHILD = join(__dirname, 'replicate-child.js');
const TABLE_SOURCE = ['ttag', 'tcategory', 'tperfil', 'tusuario'];
/** tgrupo differs on purpose (the counter rows exist only on the nodes); the rest must not. */
const ALL_BUT_GROUPS = TABLES.map((t) => t.table).filter((t) => t !== 'tgrupo');
const LEFT = `SELECT COUNT(*) AS n FROM tsync_queue WHERE operation <> '${PLUGIN_REFRESH}'`;

async function enqueue(cc: Pool, target: number, sqls: string[]): Promise<void> {
  await cc.query(
    'INSERT INTO tsync_queue (`sql`, target, utimestamp, operation, `table`, error, result) VALUES ?',
    [sqls.map((s) => [s, target, 0, s.split(' ')[0], 'tgrupo', '', ''])],
  );
}

describe('fault: replicator killed with SIGKILL 20 times', () => {
  let db: PrivateMariaDb;
  let site: Site;
  before(async () => {
    db = await startMariaDb();
    site = await makeSite(db, [
      { db, name: 'cr_node1' },
      { db, name: 'cr_node2' },
    ]);
  });
  after(async () => {
    await site?.cc.end();
    for (const n of site?.nodes ?? []) await n.end();
    await db?.destroy();
  });

  it('applies every queue item exactly once and converges the tables', async () => {
    const seed = seedFromEnv();
    const rnd = seeded(seed);
    const { cc, nodes } = site;
    for (const n of nodes) {
      await n.query("INSERT INTO tgrupo (id_grupo, nombre, max_agents) VALUES (30, 'counter', 0)");
    }
    for (const p of [cc, ...nodes]) await seedConsoleBase(p);
    const queued = [0, 0];
    const inserts = [0, 0];
    let serial = 0;
    /** Queues `n` increments and one keyless INSERT for each node; changes the CC's tables. */
    const produce = async (n: number): Promise<void> => {
      for (const target of [1, 2]) {
        const sqls = Array.from(
          { length: n },
          () => 'UPDATE tgrupo SET max_agents = max_agents + 1 WHERE id_grupo = 30',
        );
        sqls.push(`INSERT INTO tgrupo (nombre) VALUES ('q${serial}')`);
        await enqueue(cc, target, sqls);
        queued[target - 1] += n;
        inserts[target - 1] += 1;
      }
      await playOnCc(cc, consoleRound(serial), [1, 2]);
      serial++;
      await cc.query('INSERT INTO ttag (id_tag, name, description, url) VALUES (?, ?, ?, ?)', [
        serial,
        `tag${serial}`,
        'd',
        '',
      ]);
      await cc.query(
        "INSERT INTO tusuario (id_user, fullname, firstname, lastname, middlename, password) VALUES (?, ?, 'F', 'L', '', 'x')",
        [`u${serial}`, `User&#x20;${serial}`],
      );
      if (serial % 3 === 0) {
        await cc.query('UPDATE tusuario SET fullname = CONCAT(fullname, ?) WHERE id_user = ?', [
          '+',
          `u${serial - 1}`,
        ]);
        await cc.query('DELETE FROM ttag WHERE id_tag = ?', [serial - 2]);
      }
    };
    await cc.query("INSERT INTO tcategory (id, name) VALUES (1, 'Networking')");
    await cc.query("INSERT INTO tperfil (id_perfil, name) VALUES (6, 'Operator')");
    await produce(600);

    const env = {
      ...process.env,
      REPLICATE_CC: JSON.stringify({ ...db.facts, database: 'cc' }),
    };
    const pendingAtKill: number[] = [];
    let midFlow = 0;
    const t0 = Date.now();
    for (let k = 0; k < KILLS; k++) {
      const child = await runChild(CHILD, { env });
      const adding = produce(1500);
      await sleep(100 + Math.floor(rnd() * 700));
      await child.kill();
      await adding;
      const pending = await count(cc, LEFT);
      pendingAtKill.push(pending);
      if (pending > 0) midFlow++;
    }
    const last = await runChild(CHILD, { env });
    const drained = await until(async () => (await count(cc, LEFT)) === 0, 45_000);
    // One more full round of the table source after the queue is empty.
    const converged = await until(async () => {
      const want = await dump(cc, TABLE_SOURCE);
      for (const n of nodes) {
        if (JSON.stringify(await dump(n, TABLE_SOURCE)) !== JSON.stringify(want)) return false;
      }
      return true;
    }, 30_000);
    await last.kill();
    const secs = (Date.now() - t0) / 1000;
    console.log(
      `# crash-replicate seed ${seed}: ${queued[0] + inserts[0]} items per node, ${KILLS} SIGKILLs (${midFlow} mid-queue), queue left at each kill ${pendingAtKill.join(', ')}; ${secs.toFixed(1)} s`,
    );
    assert.ok(drained, 'the queue drained after the last restart');
    assert.ok(midFlow >= KILLS / 4, `kills landed with items queued (${midFlow} of ${KILLS})`);
    for (const [i, n] of nodes.entries()) {
      assert.equal(
        await count(n, 'SELECT max_agents AS n FROM tgrupo WHERE id_grupo = 30'),
        queued[i],
        `node ${i + 1}: each increment applied exactly once`,
      );
      assert.equal(
        await count(n, "SELECT COUNT(*) AS n FROM tgrupo WHERE nombre LIKE 'q%'"),
        inserts[i],
        `node ${i + 1}: each keyless INSERT made one row`,
      );
      assert.equal(
        await count(n, "SELECT COUNT(DISTINCT nombre) AS n FROM tgrupo WHERE nombre LIKE 'q%'"),
        inserts[i],
      );
    }
    assert.ok(converged, 'table-source objects equal the Command Center on every node');
    for (const n of nodes) {
      assert.deepEqual(await dump(n, ALL_BUT_GROUPS), await dump(cc, ALL_BUT_GROUPS));
      assert.equal(
        await count(n, 'SELECT max_agents AS n FROM tgrupo WHERE id_grupo = ?', [COUNTER_GROUP]),
        serial,
        'each console scene applied exactly once',
      );
    }
    assert.equal(
      await count(
        cc,
        `SELECT COUNT(*) AS n FROM tsync_queue WHERE operation = '${PLUGIN_REFRESH}' AND error <> ''`,
      ),
      2 * serial,
      'the named operations stay, marked',
    );
  });
});
