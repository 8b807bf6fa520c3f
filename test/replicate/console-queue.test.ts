/**
 * The queue as a real Command Center's console fills it (test/replicate/console.ts), on the real
 * schema, for two Instances: node1 unified, node2 not yet centralised, running an older Pandora
 * (no tusuario.stop_lts_modal) and holding objects of its own. Every statement applies once on
 * node1; the named operation is reported once and passed over; the statement node2 cannot run
 * blocks node2 only, until it is skipped; plan shows it all beforehand; afterwards the tables of
 * both equal the Command Center's (on the columns each has).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Pool } from '../../lib/db/pool';
import { Replicator } from '../../lib/replicate';
import { wordsOf } from './words';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import {
  consoleRound,
  COUNTER_GROUP,
  playOnCc,
  PLUGIN_REFRESH,
  pluginUrl,
  seedConsoleBase,
} from './console';
import { dump, makeSite, Site } from './fixture';

async function num(db: Pool, sql: string, args: unknown[] = []): Promise<number> {
  const [rows] = (await db.query(sql, args)) as unknown as [{ n: string | number }[]];
  return Number(rows[0].n);
}

/** Dumps of both sides on the columns the Instance has. */
async function sameAsCc(cc: Pool, node: Pool, without: Record<string, string> = {}) {
  const [a, b] = [await dump(cc), await dump(node)];
  const out: string[] = [];
  for (const t of Object.keys(a)) {
    const mine = JSON.parse(b[t] ?? '[]') as Record<string, unknown>[];
    const theirs = (JSON.parse(a[t]) as Record<string, unknown>[]).map((row) => {
      const cols = mine[0] ? Object.keys(mine[0]) : Object.keys(row);
      return Object.fromEntries(cols.map((c) => [c, row[c]]));
    });
    const filter = without[t];
    const keep = (rows: Record<string, unknown>[]) =>
      filter ? rows.filter((r) => !String(Object.values(r)[0]).startsWith(filter)) : rows;
    if (JSON.stringify(keep(mine)) !== JSON.stringify(keep(theirs))) out.push(t);
  }
  return out;
}

describe('metaconsole-replicate: the queue a real console fills', () => {
  let db: PrivateMariaDb;
  let site: Site;

  before(async () => {
    db = await startMariaDb();
    site = await makeSite(db, [
      { db, name: 'cq_node1' },
      { db, name: 'cq_node2', unified: false },
    ]);
    for (const p of [site.cc, ...site.nodes]) await seedConsoleBase(p);
    // node2: an older Pandora, and objects of its own that a merge has not brought in yet.
    await site.nodes[1].query('ALTER TABLE tusuario DROP COLUMN stop_lts_modal');
    await site.nodes[1].query("INSERT INTO tgrupo (id_grupo, nombre) VALUES (500, 'Local')");
    await site.nodes[1].query("INSERT INTO tmodule_group (id_mg, name) VALUES (500, 'Local')");
  });
  after(async () => {
    await site?.cc.end();
    for (const n of site?.nodes ?? []) await n.end();
    await db?.destroy();
  });

  it('applies every statement once per node; the named operation and a failing statement hold back nothing else', async () => {
    const { cc, nodes } = site;
    const scene = consoleRound(0);
    const statements = scene.filter((s) => s.operation !== PLUGIN_REFRESH).length;
    await playOnCc(cc, scene, [1, 2]);
    let clock = 0;
    const rep = new Replicator(
      { cc, useTables: false, backoffBaseMs: 1, backoffMaxMs: 2, wordNote: (e) => wordsOf([e])[0] },
      { now: () => clock },
    );

    // plan: every item listed with what a round would do; nothing written.
    const plans = await rep.requestPlan('test');
    for (const p of plans) {
      assert.equal(p.queue.pending, scene.length);
      assert.equal(p.queue.items?.length, scene.length);
      assert.deepEqual(
        p.queue.items?.filter((i) => i.action === 'named operation').map((i) => i.operation),
        [PLUGIN_REFRESH],
      );
      assert.equal(p.queue.items?.filter((i) => i.action === 'apply').length, statements);
    }
    assert.equal(await num(cc, 'SELECT COUNT(*) AS n FROM tsync_queue'), 2 * scene.length);

    let [r1, r2] = await rep.requestRound('test');
    assert.deepEqual(r1.errors, []);
    assert.equal(r1.queue.dequeued, statements);
    assert.equal(r1.queue.pending, 1, 'only the named operation is left');
    assert.equal(r1.state, 'behind');
    assert.deepEqual(
      r1.queue.operations.map((o) => [o.operation, o.table, o.carries]),
      [[PLUGIN_REFRESH, 'tplugin', pluginUrl(1001)]],
      'a named operation is reported with what it carries',
    );
    const [[refresh]] = (await cc.query(
      'SELECT error FROM tsync_queue WHERE target = 1 AND operation = ?',
      [PLUGIN_REFRESH],
    )) as unknown as [[{ error: string }]];
    assert.ok(refresh.error.includes(pluginUrl(1001)), refresh.error);
    for (const t of [
      'tmodule_group',
      'tconfig_os',
      'talert_special_days',
      'tpolicy_alerts',
      'tmodule_inventory',
      'tpolicy_modules_inventory',
      'tpolicy_modules_synth',
      'tpolicy_groups',
      'tpolicy_agents',
      'tpolicy_group_agents',
      'ttag_policy_module',
    ]) {
      assert.ok(r1.applied[t], `${t} applied on node1`);
    }
    // node2 stops at the statement its older schema cannot run, after applying what came before.
    assert.equal(r2.state, 'failing');
    assert.match(wordsOf(r2.errors)[0], /stop_lts_modal/);
    const failing = r2.queue.error?.id as string;
    const [[head]] = (await cc.query('SELECT `table`, error FROM tsync_queue WHERE id = ?', [
      failing,
    ])) as unknown as [[{ table: string; error: string }]];
    assert.equal(head.table, 'tusuario');
    assert.match(head.error, /stop_lts_modal/);
    assert.equal(
      r2.queue.pending,
      4,
      'the failing statement, the two after it, the named operation',
    );
    assert.deepEqual(rep.status(), { 'in sync': 0, behind: 1, degraded: 0, failing: 1 });

    // Later rounds: node1 reports the named operation no more; node2 still waits.
    clock += 5; // past the failing head's backoff
    [r1, r2] = await rep.requestRound('test');
    assert.deepEqual(r1.queue.operations, []);
    assert.equal(r1.queue.dequeued, 0);
    assert.equal(r2.queue.error?.id, failing);

    // skip: the administrator discards it; node2 then drains the rest.
    const skipped = await rep.skip(failing);
    assert.equal(skipped.instance.id, 2);
    assert.equal(skipped.appliedBefore, false);
    assert.match(skipped.item.sql ?? '', /stop_lts_modal/);
    [r1, r2] = await rep.requestRound('test');
    assert.deepEqual(r2.errors, []);
    assert.equal(r2.queue.dequeued, 2);
    assert.equal(r2.queue.pending, 1);
    await rep.close('test');

    for (const n of nodes) {
      assert.equal(
        await num(n, 'SELECT max_agents AS n FROM tgrupo WHERE id_grupo = ?', [COUNTER_GROUP]),
        1,
        'the counter statement applied exactly once',
      );
    }
    assert.deepEqual(await sameAsCc(cc, nodes[0]), [], 'node1 equals the Command Center');
    // node2 misses only the skipped rename, and keeps its own objects.
    assert.deepEqual(await sameAsCc(cc, nodes[1], { tgrupo: '500', tmodule_group: '500' }), [
      'tusuario',
    ]);

    // The table comparison then has nothing to do on node1, and brings node2's user in line.
    const tables = new Replicator({ cc, useQueue: false });
    const [t1, t2] = await tables.requestRound('test');
    await tables.close('test');
    assert.deepEqual(t1.applied, {});
    assert.deepEqual(t2.applied, { tusuario: { inserted: 0, updated: 1, deleted: 0 } });
    assert.deepEqual(t2.kept, { tgrupo: 1, tmodule_group: 1 });
    assert.deepEqual(await sameAsCc(cc, nodes[1], { tgrupo: '500', tmodule_group: '500' }), []);
  });

  it('shows a node with a backlog of sync_queue_items_max items as degraded', async () => {
    const { cc } = site;
    await cc.query("INSERT INTO tconfig (token, `value`) VALUES ('sync_queue_items_max', '5')");
    // A backlog: items behind a refused head.
    await cc.query(
      "INSERT INTO tsync_queue (`sql`, target, utimestamp, operation, `table`, error, result) VALUES ('UPDATE tgrupo, tusuario SET tusuario.fullname = 1', 1, 0, 'UPDATE', 'tgrupo', '', '')",
    );
    await playOnCc(cc, consoleRound(1).slice(0, 6), [1]);
    const rep = new Replicator({ cc, useTables: false, instances: [1] });
    const [r] = await rep.requestRound('test');
    assert.equal(r.queue.limit, 5);
    assert.ok(r.queue.pending >= 5);
    assert.equal(r.state, 'failing', 'a refused head is a failure first');
    const head = r.queue.error?.id as string;
    await rep.skip(head);
    // Now the backlog drains in one round and the node is back to behind (named op) / in sync.
    const [again] = await rep.requestRound('test');
    assert.equal(again.queue.error, undefined);
    assert.ok(again.queue.pending < 5);
    await rep.close('test');

    // With items queued past the threshold and a round that is not allowed to drain (plan),
    // the state is degraded.
    await playOnCc(cc, consoleRound(2).slice(0, 6), [1]);
    const planner = new Replicator({ cc, useTables: false, instances: [1], queueItemsMax: 3 });
    const [p] = await planner.requestPlan('test');
    await planner.close('test');
    assert.equal(p.state, 'degraded');
    await cc.query("DELETE FROM tconfig WHERE token = 'sync_queue_items_max'");
  });
});

describe('metaconsole-replicate: the table comparison of every kind, on the real schema', () => {
  let db: PrivateMariaDb;
  let site: Site;

  before(async () => {
    db = await startMariaDb();
    site = await makeSite(db, [{ db, name: 'ct_node1' }]);
    for (const p of [site.cc, ...site.nodes]) await seedConsoleBase(p);
  });
  after(async () => {
    await site?.cc.end();
    for (const n of site?.nodes ?? []) await n.end();
    await db?.destroy();
  });

  it('inserts parents before children and deletes children first, every column copied', async () => {
    const { cc, nodes } = site;
    // Objects made on the Command Center without the queue (as by a restore or another tool).
    for (let r = 0; r < 3; r++) {
      for (const item of consoleRound(r))
        if (item.operation !== PLUGIN_REFRESH) await cc.query(item.sql);
    }
    await cc.query(
      "UPDATE talert_templates SET time_window = 'one_day', math_function = 'avg', `condition` = 'greater' WHERE id = 1",
    );
    await cc.query("UPDATE tusuario SET ehorus_user_level_user = 'eh', stop_lts_modal = 1");
    const rep = new Replicator({ cc, useQueue: false });
    const [first] = await rep.requestRound('test');
    assert.deepEqual(first.errors, []);
    for (const t of [
      'tmodule_group',
      'tconfig_os',
      'tnetwork_component_group',
      'talert_calendar',
      'talert_special_days',
      'tplugin',
      'tnetwork_component',
      'tpolicies',
      'tpolicy_modules',
      'tpolicy_alerts',
      'tpolicy_alerts_actions',
      'tpolicy_plugins',
      'tmodule_inventory',
      'tpolicy_modules_inventory',
      'tpolicy_modules_synth',
      'tpolicy_groups',
      'ttag_policy_module',
    ]) {
      assert.ok(first.applied[t]?.inserted > 0, `${t} inserted`);
    }
    // Rows naming an Instance's own agents never come through the comparison.
    for (const t of ['tpolicy_agents', 'tpolicy_group_agents']) {
      assert.equal(first.applied[t], undefined, `${t} is not compared`);
      assert.equal(await num(nodes[0], `SELECT COUNT(*) AS n FROM ${t}`), 0);
    }
    assert.deepEqual(await dump(nodes[0]), await dump(cc));
    // A tag leaves a policy module (a row of a two-column key): the comparison removes it.
    await cc.query('DELETE FROM ttag_policy_module WHERE id_tag = 1 AND id_policy_module = 1011');
    const [tagged] = await rep.requestRound('test');
    assert.deepEqual(tagged.applied, {
      ttag_policy_module: { inserted: 0, updated: 0, deleted: 1 },
    });

    // A policy and a calendar go: their children leave first (or by cascade), nothing fails.
    await cc.query('DELETE FROM tpolicies WHERE id = 1001');
    await cc.query('DELETE FROM talert_calendar WHERE id = 1011');
    const [second] = await rep.requestRound('test');
    await rep.close('test');
    assert.deepEqual(second.errors, []);
    assert.equal(second.applied.tpolicies.deleted, 1);
    assert.equal(second.applied.talert_calendar.deleted, 1);
    assert.deepEqual(await dump(nodes[0]), await dump(cc));
  });
});
