import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPool, DbFacts, Pool } from '../../lib/db/pool';
import { precedence } from '../../lib/replicate/merge';
import type { DbAddress } from '../../lib/replicate/replication-tokens';
import { Replicator } from '../../lib/replicate';
import { wordsOf } from './words';
import { startMariaDb, PrivateMariaDb } from '../helpers/mariadb';
import { dump, makeSite, Site } from './fixture';

async function token(db: Site['cc'], name: string): Promise<string | null> {
  const [rows] = (await db.query('SELECT `value` FROM tconfig WHERE token = ?', [
    name,
  ])) as unknown as [{ value: string }[]];
  return rows[0]?.value ?? null;
}

async function unified(site: Site): Promise<number[]> {
  const [rows] = (await site.cc.query(
    'SELECT id, unified FROM tmetaconsole_setup ORDER BY id',
  )) as unknown as [{ id: number; unified: number }[]];
  return rows.map((r) => Number(r.unified));
}

/** The Command Center database as the nodes reach it here (an explicit ccDbAddress). */
function reach(db: PrivateMariaDb): { ccFacts: DbFacts; ccDbAddress: DbAddress } {
  return {
    ccFacts: { ...db.facts, database: 'cc' },
    ccDbAddress: { host: '127.0.0.1', port: db.port },
  };
}

/**
 * Connects as a node's console does once centralised: with its own replication_db* tokens.
 * Returns the database it reached.
 */
async function ccSeenFromNode(node: Pool): Promise<string> {
  const t = async (name: string): Promise<string> => (await token(node, name)) ?? '';
  const pool = createPool({
    host: await t('replication_dbhost'),
    port: Number((await t('replication_dbport')) || 3306),
    database: await t('replication_dbname'),
    user: await t('replication_dbuser'),
    password: await t('replication_dbpass'),
  });
  try {
    const [[row]] = (await pool.query('SELECT DATABASE() AS d')) as unknown as [[{ d: string }]];
    await pool.query("SELECT `value` FROM tconfig WHERE token = 'MR'");
    return row.d;
  } finally {
    await pool.end();
  }
}

describe('metaconsole-replicate: merge (Merging tool)', () => {
  let db: PrivateMariaDb;
  let site: Site;

  before(async () => {
    db = await startMariaDb();
  });
  after(async () => {
    await site?.cc.end();
    for (const n of site?.nodes ?? []) await n.end();
    await db?.destroy();
  });

  it('orders participants: priority list, then the Command Center, then the rest', () => {
    assert.deepEqual(precedence([2, 1], [1, 2, 3]), [2, 1, 0, 3]);
    assert.deepEqual(precedence([0, 3], [1, 2, 3]), [0, 3, 1, 2]);
    assert.deepEqual(precedence([9], [1]), [0, 1]);
  });

  it('centralises conflicting instances by priority and marks them unified', async () => {
    site = await makeSite(db, [
      { db, name: 'm1', unified: false },
      { db, name: 'm2', unified: false },
    ]);
    const [m1, m2] = site.nodes;
    await site.cc.query(
      "INSERT INTO talert_commands (id, name, command) VALUES (1, 'eMail', 'cc version')",
    );
    await m1.query(
      "INSERT INTO talert_commands (id, name, command) VALUES (1, 'eMail', 'm1 version'), (5, 'Pager', 'm1 pager')",
    );
    await m2.query(
      "INSERT INTO talert_commands (id, name, command) VALUES (6, 'Pager', 'm2 pager')",
    );
    await m2.query(
      "INSERT INTO tgrupo (id_grupo, nombre, parent) VALUES (21, 'child', 20), (20, 'parent', 0)",
    );
    await m1.query("INSERT INTO ttag (id_tag, name) VALUES (3, 'only-m1')");

    const rep = new Replicator({ cc: site.cc, useQueue: false, ...reach(db) });
    const report = await rep.merge({ priority: [2, 1] });
    await rep.close('test');

    const sameName = report.conflicts.find((c) => c.kind === 'sameName');
    assert.deepEqual(sameName?.keys, ['6', '5'], 'instance 2 comes first: its Pager (id 6) wins');
    assert.ok(report.conflicts.some((c) => c.kind === 'sameId' && c.keys[0] === '1'));
    for (const r of report.instances) {
      assert.deepEqual(r.errors, []);
      assert.equal(r.unified, true);
    }
    assert.deepEqual(await unified(site), [1, 1]);
    // The settings Pandora reads in a centralised environment, written and reported.
    for (const [i, r] of report.instances.entries()) {
      assert.deepEqual(
        r.settings.map((c) => [c.token, c.from, c.to]),
        [
          ['replication_dbhost', null, '127.0.0.1'],
          ['replication_dbport', null, String(db.port)],
          ['replication_dbname', null, 'cc'],
          ['replication_dbuser', null, 'root'],
          ['replication_dbpass', null, ''],
          ['node_metaconsole', null, '1'],
          ['metaconsole_node_id', null, String(i + 1)],
          ['centralized_management', null, '1'],
        ],
      );
      assert.equal(await token(site.nodes[i], 'metaconsole_node_id'), String(i + 1));
      // From the node's side: what its console does with its own tokens reaches the CC.
      assert.equal(await ccSeenFromNode(site.nodes[i]), 'cc');
    }
    assert.deepEqual(
      report.settings.commandCenter.map((c) => [c.token, c.to, c.changed]),
      [['centralized_management', '1', true]],
    );
    assert.equal(await token(site.cc, 'centralized_management'), '1');
    const [cmds] = (await site.cc.query(
      'SELECT id, name, command FROM talert_commands ORDER BY id',
    )) as unknown as [{ id: number; command: string }[]];
    assert.deepEqual(
      cmds.map((c) => [c.id, c.command]),
      [
        [1, 'm1 version'],
        [6, 'm2 pager'],
      ],
    );
    const want = await dump(site.cc);
    assert.deepEqual(await dump(m1), want);
    assert.deepEqual(await dump(m2), want);
    assert.match(want.ttag, /only-m1/, 'instance-only objects are kept by default');
  });

  it('removes instance-only objects on request, but never one a cascade would take data with', async () => {
    await site.cc.query('UPDATE tmetaconsole_setup SET unified = 0');
    const [m1, m2] = site.nodes;
    await m1.query(
      "INSERT INTO talert_templates (id, name, type) VALUES (40, 'local template', 'critical')",
    );
    await m1.query(
      'INSERT INTO talert_template_modules (id_agent_module, id_alert_template) VALUES (7, 40)',
    );
    await m2.query("INSERT INTO tcategory (id, name) VALUES (8, 'local category')");

    const rep = new Replicator({ cc: site.cc, useQueue: false, ...reach(db) });
    const report = await rep.merge({ priority: [], removeInstanceOnly: true });
    await rep.close('test');
    const [r1, r2] = report.instances;
    assert.equal(r1.conflicts.length, 1);
    assert.equal(r1.conflicts[0].kind, 'cascade');
    assert.equal(r1.unified, false, 'a kept conflict leaves the instance not centralised');
    assert.equal(r2.applied.tcategory.deleted, 1);
    assert.equal(r2.unified, true);
    assert.deepEqual(await unified(site), [0, 1]);
    assert.deepEqual(r1.settings, [], 'no centralised settings on an instance left out');
    assert.deepEqual(report.settings.commandCenter, []);
    assert.deepEqual(report.settings.notUnified, [{ id: 1, name: 'm1' }], 'not unified yet');
    const [[t]] = (await m1.query(
      'SELECT COUNT(*) AS n FROM talert_template_modules',
    )) as unknown as [[{ n: number }]];
    assert.equal(Number(t.n), 1);
  });
  it('points each node at the Command Center: a loopback dbHost is refused, meta_db* win, a bad login stops the marking', async () => {
    await site.cc.end();
    for (const n of site.nodes) await n.end();
    site = await makeSite(db, [
      { db, name: 'n1', unified: false },
      { db, name: 'n2', unified: false },
    ]);
    // No ccDbAddress: the pandora-config's 127.0.0.1 would send a node's console to itself.
    const loop = new Replicator({ cc: site.cc, useQueue: false, ccFacts: reach(db).ccFacts });
    const refused = await loop.merge({ priority: [] });
    await loop.close('test');
    for (const r of refused.instances) {
      assert.equal(r.unified, false);
      assert.match(wordsOf(r.errors).join(' '), /loopback address.*set ccDbAddress/);
      assert.equal(await token(site.nodes[r.instance.id - 1], 'node_metaconsole'), null);
    }
    assert.deepEqual(await unified(site), [0, 0]);

    // Node 1's registry row names its own way in (a reader account); node 2's a wrong password.
    await site.cc.query("CREATE USER IF NOT EXISTS 'cc_reader'@'127.0.0.1' IDENTIFIED BY 'r3ader'");
    await site.cc.query("GRANT SELECT ON cc.* TO 'cc_reader'@'127.0.0.1'");
    await site.cc.query(
      "UPDATE tmetaconsole_setup SET meta_dbhost = '127.0.0.1', meta_dbport = ?, meta_dbname = 'cc', meta_dbuser = 'cc_reader', meta_dbpass = ? WHERE id = ?",
      [String(db.port), 'r3ader', 1],
    );
    await site.cc.query(
      "UPDATE tmetaconsole_setup SET meta_dbuser = 'cc_reader', meta_dbpass = 'wrong' WHERE id = 2",
    );
    const rep = new Replicator({ cc: site.cc, useQueue: false, ...reach(db) });
    const report = await rep.merge({ priority: [] });
    await rep.close('test');
    const [r1, r2] = report.instances;
    assert.deepEqual(r1.errors, []);
    assert.equal(r1.unified, true);
    assert.deepEqual(
      r1.settings.filter((c) => c.token.startsWith('replication_')).map((c) => [c.token, c.to]),
      [
        ['replication_dbhost', '127.0.0.1'],
        ['replication_dbport', String(db.port)],
        ['replication_dbname', 'cc'],
        ['replication_dbuser', 'cc_reader'],
        ['replication_dbpass', '********'],
      ],
      'the report never shows the password',
    );
    assert.equal(await token(site.nodes[0], 'replication_dbpass'), 'r3ader');
    assert.equal(await ccSeenFromNode(site.nodes[0]), 'cc');
    assert.equal(r2.unified, false);
    assert.match(
      wordsOf(r2.errors).join(' '),
      /would not reach the Command Center database.*Access denied/,
    );
    assert.equal(await token(site.nodes[1], 'replication_dbhost'), null, 'nothing written');
    assert.deepEqual(await unified(site), [1, 0]);
  });
});
