import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Replicator } from '../../lib/replicate';
import { startMariaDb, PrivateMariaDb } from '../helpers/mariadb';
import { dump, makeSite, seedCc, Site } from './fixture';

describe('metaconsole-replicate: table source', () => {
  let db: PrivateMariaDb;
  let site: Site;
  let rep: Replicator;

  before(async () => {
    db = await startMariaDb();
    site = await makeSite(db, [
      { db, name: 'node1' },
      { db, name: 'node2', unified: false },
    ]);
    await seedCc(site.cc);
    // node1 already has the event filter the admin user points at; node2 does not.
    await site.nodes[0].query("INSERT INTO tevent_filter (id_filter, id_name) VALUES (3, 'mine')");
    rep = new Replicator({ cc: site.cc, useQueue: false, chunkSize: 2 });
  });
  after(async () => {
    await rep?.close('test');
    await site?.cc.end();
    for (const n of site?.nodes ?? []) await n.end();
    await db?.destroy();
  });

  it('inserts every object kind on every instance, parents before children', async () => {
    const plan = await rep.requestPlan('test');
    const reports = await rep.requestRound('test');
    assert.deepEqual(
      reports.map((r) => r.applied),
      plan.map((r) => r.applied),
      'a plan equals what the sync then does',
    );
    for (const r of reports) {
      assert.deepEqual(r.errors, []);
      assert.equal(r.applied.tgrupo.inserted, 3);
      assert.equal(r.applied.talert_templates.inserted, 1);
      assert.equal(r.state, 'in sync');
    }
    const want = await dump(site.cc);
    for (const n of site.nodes) assert.deepEqual(await dump(n), want);
    const [[u1]] = (await site.nodes[0].query(
      "SELECT id_filter FROM tusuario WHERE id_user='admin'",
    )) as unknown as [[{ id_filter: number | null }]];
    const [[u2]] = (await site.nodes[1].query(
      "SELECT id_filter FROM tusuario WHERE id_user='admin'",
    )) as unknown as [[{ id_filter: number | null }]];
    assert.equal(u1.id_filter, 3);
    assert.equal(u2.id_filter, null, 'a filter missing on the instance is written as NULL (FK)');
    const again = await rep.requestRound('test');
    for (const r of again) assert.deepEqual(r.applied, {});
  });

  it('replicates updates and deletes, counting what cascades took', async () => {
    // Instance data hanging off the synchronized objects.
    for (const n of site.nodes) {
      await n.query(
        'INSERT INTO talert_template_modules (id, id_agent_module, id_alert_template) VALUES (1, 100, 1), (2, 101, 1)',
      );
      await n.query(
        'INSERT INTO talert_template_module_actions (id_alert_template_module, id_alert_action) VALUES (2, 1)',
      );
      await n.query("INSERT INTO tuser_double_auth (id_user, secret) VALUES ('admin', 'S3CR3T')");
    }
    await site.cc.query(
      "UPDATE tgrupo SET nombre = 'Web&#x20;farm', max_agents = 7 WHERE id_grupo = 11",
    );
    await site.cc.query("UPDATE tusuario SET email = 'a@b.c' WHERE id_user = 'admin'");
    await site.cc.query('DELETE FROM talert_templates WHERE id = 1');
    await site.cc.query('DELETE FROM tusuario_perfil WHERE id_up = 1');
    await site.cc.query("DELETE FROM tusuario WHERE id_user = 'admin'");
    await site.cc.query('DELETE FROM talert_commands WHERE id = 2');
    await site.cc.query('DELETE FROM tgrupo WHERE id_grupo IN (11, 12)');
    const plan = await rep.requestPlan('test');
    const reports = await rep.requestRound('test');
    assert.deepEqual(
      reports.map((r) => r.applied),
      plan.map((r) => r.applied),
    );
    for (const r of reports) {
      assert.deepEqual(r.errors, []);
      assert.deepEqual(r.applied.tgrupo, { inserted: 0, updated: 0, deleted: 2 });
      assert.deepEqual(r.applied.talert_commands, { inserted: 0, updated: 0, deleted: 1 });
      assert.deepEqual(r.applied.talert_actions, { inserted: 0, updated: 0, deleted: 1 });
      assert.equal(r.cascaded.talert_template_modules, 2);
      assert.equal(r.cascaded.tuser_double_auth, 1);
    }
    const want = await dump(site.cc);
    for (const n of site.nodes) assert.deepEqual(await dump(n), want);
  });

  it("keeps a not-centralised instance's own rows and removes only what it inserted", async () => {
    await site.nodes[0].query("INSERT INTO ttag (id_tag, name) VALUES (50, 'node1-own')");
    await site.nodes[1].query("INSERT INTO ttag (id_tag, name) VALUES (50, 'node2-own')");
    await site.cc.query("INSERT INTO ttag (id_tag, name) VALUES (2, 'transient')");
    const [first] = await rep.requestRound('test');
    assert.deepEqual(
      first.applied.ttag,
      { inserted: 1, updated: 0, deleted: 1 },
      'node1 is centralised: its own tag goes',
    );
    await site.cc.query('DELETE FROM ttag WHERE id_tag = 2');
    const [r1, r2] = await rep.requestRound('test');
    assert.equal(r1.applied.ttag.deleted, 1);
    assert.equal(r2.applied.ttag.deleted, 1, 'node2 is not: only the tag we put there goes');
    assert.deepEqual(r2.kept, { ttag: 1 });
    const [rows] = (await site.nodes[1].query(
      'SELECT id_tag, name FROM ttag ORDER BY id_tag',
    )) as unknown as [{ id_tag: number; name: string }[]];
    assert.deepEqual(
      rows.map((r) => r.name),
      ['critical', 'node2-own'],
    );
  });

  it('copies hostile values byte for byte', async () => {
    const hostile = [
      'O\'Brien "quoted" \\ back\\slash',
      'Mail&#x20;to&#x20;Admin &amp; &lt;b&gt;',
      'nul\u0000byte and ; DROP TABLE tgrupo; --',
      'x'.repeat(100),
      'ünïcødé 🐧 \r\n\t',
    ];
    for (const [i, v] of hostile.entries()) {
      await site.cc.query('INSERT INTO tgrupo (id_grupo, nombre, description) VALUES (?, ?, ?)', [
        100 + i,
        v,
        v.repeat(50),
      ]);
    }
    await site.cc.query('INSERT INTO talert_commands (id, name, command) VALUES (9, ?, ?)', [
      'long',
      'c'.repeat(60000),
    ]);
    await rep.requestRound('test');
    const want = await dump(site.cc, ['tgrupo', 'talert_commands']);
    for (const n of site.nodes)
      assert.deepEqual(await dump(n, ['tgrupo', 'talert_commands']), want);
    const [[row]] = (await site.nodes[0].query(
      'SELECT HEX(nombre) AS h FROM tgrupo WHERE id_grupo = 102',
    )) as unknown as [[{ h: string }]];
    assert.equal(row.h, Buffer.from(hostile[2], 'utf8').toString('hex').toUpperCase());
  });
  it("never copies a user's lockout state: login_blocked and failed_attempt are each node's own", async () => {
    await site.cc.query(
      "INSERT INTO tusuario (id_user, fullname, firstname, lastname, middlename, password) VALUES ('locky', 'Locky', 'L', 'K', '', 'x')",
    );
    for (const r of await rep.requestRound('test')) assert.deepEqual(r.errors, []);
    await site.cc.query(
      "UPDATE tusuario SET login_blocked = 1, failed_attempt = 5, fullname = 'Admin (locked on the CC)' WHERE id_user = 'locky'",
    );
    await site.nodes[1].query(
      "UPDATE tusuario SET login_blocked = 1, failed_attempt = 3 WHERE id_user = 'locky'",
    );
    const reports = await rep.requestRound('test');
    for (const r of reports) assert.deepEqual(r.errors, []);
    const state = async (i: number): Promise<[number, number, string]> => {
      const [[u]] = (await site.nodes[i].query(
        "SELECT login_blocked, failed_attempt, fullname FROM tusuario WHERE id_user = 'locky'",
      )) as unknown as [[{ login_blocked: number; failed_attempt: number; fullname: string }]];
      return [Number(u.login_blocked), Number(u.failed_attempt), u.fullname];
    };
    assert.deepEqual(await state(0), [0, 0, 'Admin (locked on the CC)'], 'node1 stays unlocked');
    assert.deepEqual(await state(1), [1, 3, 'Admin (locked on the CC)'], 'node2 stays locked');
  });
});
