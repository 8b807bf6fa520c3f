/**
 * The instance-query engine on real Pandora tables: three Instances in one MariaDB plus one on a
 * second MariaDB that is stopped, each read and each change, an Instance held back by a table
 * lock, a refused login, bad filters and unknown ids.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Connection } from 'mysql2/promise';
import { createPool, Pool } from '../../lib/db/pool';
import { InstanceQuery, QueryAnswer } from '../../lib/query';
import { createCommandCenter } from '../events/fixtures/pandora';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { waitFor } from '../helpers/wait';
import { createInstance, rowsOf } from './fixtures/pandora';
import { said, saying } from './words';

type Row = Record<string, unknown> & { instance: { id: number; name: string } };

const rows = (a: QueryAnswer) => a.rows as Row[];
const byInstance = (a: QueryAnswer, id: number) => rows(a).filter((r) => r.instance.id === id);
const report = (a: QueryAnswer, id: number) => a.instances.find((i) => i.id === id);

describe('instance-query engine', () => {
  let db: PrivateMariaDb;
  let other: PrivateMariaDb;
  let cc: Pool;
  let q: InstanceQuery;

  before(async () => {
    // One at a time: if the second fails to start, `after` still stops the first.
    db = await startMariaDb();
    other = await startMariaDb();
    await Promise.all([
      createInstance(db, 'qa', 1),
      createInstance(db, 'qb', 2),
      createInstance(db, 'qc', 3),
      createInstance(other, 'qd', 4),
    ]);
    await createCommandCenter(db, 'qcc', [
      { id: 1, name: 'alpha', port: db.port, dbname: 'qa' },
      { id: 2, name: 'beta', port: db.port, dbname: 'qb' },
      { id: 3, name: 'gamma', port: db.port, dbname: 'qc' },
      { id: 4, name: 'delta', port: other.port, dbname: 'qd' },
      { id: 5, name: 'locked out', port: db.port, dbname: 'qa', user: 'nobody', pass: 'wrong' },
      { id: 6, name: 'off', port: db.port, dbname: 'qa', disabled: 1 },
    ]);
    cc = createPool({ host: db.host, port: db.port, database: 'qcc', user: db.user, password: '' });
    q = new InstanceQuery({ cc, instances: [1, 2, 3], timeoutMs: 2000 });
  });

  after(async () => {
    await q?.close();
    await cc?.end();
    await Promise.all([db?.destroy(), other?.destroy()]);
  });

  it('reads agents on every Instance, names as the console shows them', async () => {
    // The console's list hides the disabled agent ("old"); asked for, it comes too.
    assert.equal((await q.run('agents', undefined)).rows.length, 9);
    const a = await q.run('agents', { disabled: 'all' });
    assert.equal(a.rows.length, 12);
    assert.deepEqual(
      a.instances.map((i) => [i.id, i.name, i.ok, i.rows, i.error]),
      [
        [1, 'alpha', true, 4, null],
        [2, 'beta', true, 4, null],
        [3, 'gamma', true, 4, null],
      ],
    );
    const web = byInstance(a, 2).find((r) => r.id === 1);
    assert.deepEqual(web, {
      instance: { id: 2, name: 'beta' },
      id: 1,
      name: 'Web server (main)',
      alias: 'Web server (main)',
      group: { id: 2, name: 'Servers & DB' },
      os: { id: 1, name: 'Linux', version: '' },
      address: '10.0.0.1',
      lastContact: '2026-12-01 08:00:00',
      disabled: false,
      status: 'critical',
      modules: { total: 2, normal: 1, warning: 0, critical: 1, unknown: 0, notinit: 0 },
      alertsFired: 1,
    });
    assert.deepEqual(
      byInstance(a, 3).map((r) => [r.name, r.status]),
      [
        ['Web server (main)', 'critical'],
        ['db01', 'normal'],
        ['lab-3', 'notinit'],
        ['old', 'warning'],
      ],
    );
  });

  it('filters by group, agent name with wildcards, status, module and instance', async () => {
    const names = (a: QueryAnswer) => rows(a).map((r) => `${r.instance.id}:${String(r.name)}`);
    assert.deepEqual(names(await q.run('agents', { status: 'critical' })), [
      '1:Web server (main)',
      '2:Web server (main)',
      '3:Web server (main)',
    ]);
    assert.deepEqual(names(await q.run('agents', { group: 'Servers & DB', instances: [1] })), [
      '1:Web server (main)',
      '1:db01',
    ]);
    assert.deepEqual(names(await q.run('agents', { group: 3, agent: 'LAB-*', instances: '2,3' })), [
      '2:lab-2',
      '3:lab-3',
    ]);
    assert.deepEqual(names(await q.run('agents', { agent: '*(main)', instances: [1] })), [
      '1:Web server (main)',
    ]);
    assert.deepEqual(names(await q.run('agents', { module: 'ping', instances: [1] })), ['1:db01']);
    assert.deepEqual(
      names(await q.run('agents', { status: ['normal', 'notinit'], instances: [1] })),
      ['1:db01', '1:lab-1'],
    );
    assert.deepEqual(names(await q.run('agents', { group: 'No such group' })), []);
  });

  it('limits the rows of each Instance', async () => {
    const small = new InstanceQuery({ cc, instances: [1, 2], limit: 3 });
    try {
      const a = await small.run('agents', undefined);
      assert.deepEqual(
        a.instances.map((i) => i.rows),
        [3, 3],
      );
    } finally {
      await small.close();
    }
  });

  it('reads modules with their current value and status', async () => {
    const a = await q.run('modules', { instances: [1], disabled: 'all' });
    assert.equal(a.rows.length, 5);
    const cpu = rows(a).find((r) => r.id === 11);
    assert.deepEqual(cpu, {
      instance: { id: 1, name: 'alpha' },
      id: 11,
      name: 'CPU Load',
      agent: { id: 1, name: 'Web server (main)', alias: 'Web server (main)' },
      type: { id: 1, name: 'generic_data' },
      unit: '%',
      value: '97',
      status: 'critical',
      estado: 1,
      disabled: false,
      lastData: '2026-12-01 08:00:00',
      lastDataUtimestamp: 1796112000,
      lastStatusChange: 1796100000,
    });
    const warn = await q.run('modules', { status: 'warning', module: 'm*', disabled: 'all' });
    assert.deepEqual(
      rows(warn).map((r) => `${r.instance.id}:${String(r.name)}`),
      ['1:Mem', '2:Mem', '3:Mem'],
    );
    const cpus = await q.run('modules', { module: 'cpu load', agent: 'db*', instances: [2] });
    assert.deepEqual(
      rows(cpus).map((r) => r.id),
      [21],
    );
  });

  it('reads alerts with template, times fired, standby and disabled', async () => {
    const a = await q.run('alerts', { instances: [1] });
    assert.deepEqual(rows(a)[0], {
      instance: { id: 1, name: 'alpha' },
      id: 5,
      agent: { id: 1, name: 'Web server (main)', alias: 'Web server (main)' },
      module: { id: 11, name: 'CPU Load' },
      template: { id: 3, name: 'Critical condition' },
      timesFired: 2,
      lastFired: 1796111000,
      fired: true,
      disabled: false,
      standby: false,
      policy: false,
    });
    const fired = await q.run('alerts', { status: 'fired' });
    assert.deepEqual(
      rows(fired).map((r) => `${r.instance.id}:${String(r.id)}`),
      ['1:5', '2:5', '3:5'],
    );
    const standby = await q.run('alerts', {
      status: ['standby'],
      instances: [3],
      disabled: 'all',
    });
    assert.deepEqual(
      rows(standby).map((r) => r.id),
      [7],
    );
  });

  it('reads policies and the tactical view, per Instance and in total', async () => {
    const p = await q.run('policies', { instances: [1] });
    assert.deepEqual(rows(p), [
      {
        instance: { id: 1, name: 'alpha' },
        id: 1,
        name: 'Linux base <prod>',
        description: '',
        group: { id: 2, name: 'Servers & DB' },
        status: 'applied',
        agents: 2,
        pendingApplications: 0,
      },
    ]);
    const t = await q.run('tactical', undefined);
    assert.equal(t.rows.length, 4);
    // Disabled agents are left out, as the console's tactical view does.
    assert.deepEqual(byInstance(t, 1)[0], {
      instance: { id: 1, name: 'alpha' },
      agents: { total: 3, normal: 1, warning: 0, critical: 1, unknown: 0, notinit: 1 },
      modules: { total: 4, normal: 3, warning: 0, critical: 1, unknown: 0, notinit: 0 },
      // Alert 7 is on the disabled agent's module: not counted.
      alertsDefined: 2,
      alertsFired: 1,
      monitorHealth: 75,
      moduleSanity: 100,
      alertLevel: 50,
      globalHealth: 75,
    });
    assert.deepEqual(byInstance(t, 0)[0], {
      instance: { id: 0, name: 'total' },
      total: true,
      agents: { total: 9, normal: 3, warning: 0, critical: 3, unknown: 0, notinit: 3 },
      modules: { total: 12, normal: 9, warning: 0, critical: 3, unknown: 0, notinit: 0 },
      alertsDefined: 6,
      alertsFired: 3,
      monitorHealth: 75,
      moduleSanity: 100,
      alertLevel: 50,
      globalHealth: 75,
    });
  });

  it('refuses bad messages before asking any Instance', async () => {
    await assert.rejects(q.run('agents', { grupo: 1 }), saying(/"agents" has no filter "grupo"/));
    await assert.rejects(q.run('agents', { status: 'red' }), saying(/status must be one of/));
    await assert.rejects(q.run('drop table', {}), saying(/unknown operation "drop table"/));
    await assert.rejects(
      q.run('agent.disable', { id: 1 }),
      saying(/instance must be a positive whole number/),
    );
    // Filter text is a parameter, never SQL.
    const a = await q.run('agents', { agent: "x' OR '1'='1", group: '1 OR 1=1; --' });
    assert.equal(a.rows.length, 0);
    assert.ok(a.instances.every((i) => i.ok));
  });

  it('reports an Instance it is not given, a disabled row and a refused login, beside the others', async () => {
    const wide = new InstanceQuery({ cc, timeoutMs: 3000 });
    try {
      await other.stop();
      const a = await wide.run('tactical', { instances: [1, 4, 5, 6, 9] });
      assert.equal(report(a, 1)?.ok, true);
      assert.match(
        String(said(report(a, 4)?.error)),
        /^instance 4 \(delta\) at root@127\.0\.0\.1:\d+\/qd: connection refused/,
      );
      assert.match(
        String(said(report(a, 5)?.error)),
        /^instance 5 \(locked out\) .*access denied: check dbuser\/dbpass in tmetaconsole_setup/,
      );
      assert.match(
        String(said(report(a, 6)?.error)),
        /instance 6 is not among this node's Instances/,
      );
      assert.match(
        String(said(report(a, 9)?.error)),
        /instance 9 is not among this node's Instances/,
      );
      // The total counts what answered.
      assert.equal((byInstance(a, 0)[0].agents as { total: number }).total, 3);
    } finally {
      await other.start();
    }
    try {
      // Back up: answered, and again after a restart that killed the pooled connection.
      assert.equal(report(await wide.run('agents', { instances: [4] }), 4)?.ok, true);
      await other.restart();
      const again = await wide.run('agents', { instances: [4] });
      assert.deepEqual(report(again, 4)?.error, null);
      assert.equal(again.rows.length, 3);
    } finally {
      await wide.close();
    }
    const named = new InstanceQuery({ cc, instances: [1, 6] });
    try {
      const a = await named.run('agents', { agent: 'db01' });
      assert.deepEqual(
        a.instances.map((i) => [i.id, i.ok, said(i.error)]),
        [
          [1, true, null],
          [6, false, 'instance 6 (off) is disabled in tmetaconsole_setup'],
        ],
      );
    } finally {
      await named.close();
    }
  });

  it('reports an Instance held by a table lock once its time is up, and stops its query', async () => {
    const locker: Connection = await db.connect('qb');
    const quick = new InstanceQuery({ cc, instances: [1, 2, 3], timeoutMs: 800 });
    try {
      await locker.query('LOCK TABLES tagente WRITE');
      const started = Date.now();
      const a = await quick.run('agents', undefined);
      const took = Date.now() - started;
      assert.equal(report(a, 1)?.ok, true);
      assert.equal(report(a, 3)?.ok, true);
      assert.equal(byInstance(a, 1).length, 3);
      assert.equal(report(a, 2)?.ok, false);
      assert.match(
        String(said(report(a, 2)?.error)),
        /instance 2 \(beta\): no answer within 0\.8 s \(database slow or a table locked\); its query was stopped/,
      );
      assert.ok(took < 5000, `the locked Instance held the message ${took} ms`);
      // The abandoned SELECT does not stay waiting on the lock.
      await waitFor(
        async () =>
          (
            await rowsOf(
              db,
              'qb',
              "SELECT id FROM information_schema.PROCESSLIST WHERE db = 'qb' AND info LIKE 'SELECT a.id_agente%'",
            )
          ).length === 0,
        10_000,
        'the abandoned query to be killed',
      );
      // A change under the lock is abandoned whole: nothing of it is left once the lock goes.
      const c = await quick.run('agent.disable', [
        { instance: 2, id: 1 },
        { instance: 1, id: 2 },
      ]);
      assert.deepEqual(
        rows(c).map((r) => [r.instance.id, r.id, r.ok]),
        [
          [2, 1, false],
          [1, 2, true],
        ],
      );
      await locker.query('UNLOCK TABLES');
      const agent = await rowsOf(db, 'qb', 'SELECT disabled FROM tagente WHERE id_agente = 1');
      assert.equal(Number(agent[0].disabled), 0);
      assert.equal((await rowsOf(db, 'qb', 'SELECT * FROM tsesion')).length, 0);
      // Once free, the Instance answers again.
      const again = await quick.run('agents', { instances: [2] });
      assert.equal(report(again, 2)?.ok, true);
      // No connection left behind: the locker's and at most the pool's two.
      await waitFor(
        async () =>
          Number(
            (
              await rowsOf(
                db,
                'qb',
                "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE db = 'qb' AND info IS NULL",
              )
            )[0].n,
          ) <= 3,
        10_000,
        'the abandoned connections to close',
      );
    } finally {
      await locker.query('UNLOCK TABLES').catch(() => {});
      await locker.end();
      await quick.run('agent.enable', { instance: 1, id: 2 }).catch(() => {});
      await quick.close();
    }
  });

  describe('changes', () => {
    const one = async (sql: string, params: unknown[] = [], database = 'qc') =>
      (await rowsOf(db, database, sql, params))[0];
    const audits = async () =>
      (
        await rowsOf(
          db,
          'qc',
          'SELECT id_usuario, accion, descripcion, utimestamp FROM tsesion ORDER BY id_sesion',
        )
      ).map((r) => `${String(r.accion)} / ${String(r.descripcion)}`);

    it('disables and enables an agent: tagente.disabled and an audit row', async () => {
      const d = await q.run('agent.disable', { instance: 3, id: 1 });
      assert.deepEqual(rows(d), [
        {
          instance: { id: 3, name: 'gamma' },
          action: 'agent.disable',
          id: 1,
          ok: true,
          changed: true,
          error: null,
        },
      ]);
      assert.deepEqual(report(d, 3), {
        id: 3,
        name: 'gamma',
        ok: true,
        ms: report(d, 3)?.ms,
        rows: 1,
        error: null,
      });
      assert.equal(
        Number((await one('SELECT disabled FROM tagente WHERE id_agente = 1')).disabled),
        1,
      );
      // Its modules and alerts are left as they were, as the console's list action does.
      assert.equal(
        Number(
          (await one('SELECT times_fired FROM talert_template_modules WHERE id = 5')).times_fired,
        ),
        2,
      );
      const again = await q.run('agent.disable', { instance: 3, id: 1 });
      assert.equal(rows(again)[0].changed, false);
      await q.run('agent.enable', { instance: 3, id: 1 });
      assert.equal(
        Number((await one('SELECT disabled FROM tagente WHERE id_agente = 1')).disabled),
        0,
      );
      assert.deepEqual(await audits(), [
        'Agent&#x20;management / Disable&#x20;&#x20;Web&#x20;server&#x20;&#40;main&#41;',
        'Agent&#x20;management / Fail&#x20;to&#x20;disable&#x20;Web&#x20;server&#x20;&#40;main&#41;',
        'Agent&#x20;management / Enable&#x20;&#x20;Web&#x20;server&#x20;&#40;main&#41;',
      ]);
      const who = await one('SELECT id_usuario, utimestamp FROM tsesion LIMIT 1');
      assert.equal(who.id_usuario, 'node-red');
      assert.ok(Number(who.utimestamp) > 1_700_000_000);
    });

    it('disables a module: its alerts validated, the agent flagged for recount', async () => {
      await db.connect('qc').then(async (c) => {
        await c.query('DELETE FROM tsesion');
        await c.end();
      });
      const d = await q.run('module.disable', { instance: 3, id: 11 });
      assert.equal(rows(d)[0].ok, true);
      assert.deepEqual(
        await one('SELECT disabled FROM tagente_modulo WHERE id_agente_modulo = 11'),
        { disabled: 1 },
      );
      assert.deepEqual(
        await one('SELECT times_fired, internal_counter FROM talert_template_modules WHERE id = 5'),
        {
          times_fired: 0,
          internal_counter: 0,
        },
      );
      assert.deepEqual(await one('SELECT update_module_count FROM tagente WHERE id_agente = 1'), {
        update_module_count: 1,
      });
      const e = await q.run('module.enable', [
        { instance: 3, id: 11 },
        { instance: 3, id: 12 },
      ]);
      assert.deepEqual(
        rows(e).map((r) => [r.id, r.ok, r.changed]),
        [
          [11, true, true],
          [12, true, false],
        ],
      );
      assert.deepEqual(
        await one('SELECT disabled FROM tagente_modulo WHERE id_agente_modulo = 11'),
        { disabled: 0 },
      );
      assert.deepEqual(await audits(), [
        'Module&#x20;management / Disable&#x20;#11&#x20;|&#x20;CPU&amp;#x20;Load&#x20;|&#x20;Web&#x20;server&#x20;&#40;main&#41;',
        'Module&#x20;management / Enable&#x20;#11&#x20;|&#x20;CPU&amp;#x20;Load&#x20;|&#x20;Web&#x20;server&#x20;&#40;main&#41;',
        'Module&#x20;management / Enable&#x20;#12&#x20;|&#x20;Disk&#x20;|&#x20;Web&#x20;server&#x20;&#40;main&#41;',
      ]);
    });

    it('disables, enables, stands by an alert; unknown ids reported per target', async () => {
      await db.connect('qc').then(async (c) => {
        await c.query('DELETE FROM tsesion');
        await c.query('UPDATE tagente SET update_alert_count = 0');
        await c.end();
      });
      const d = await q.run('alert.disable', [
        { instance: 3, id: 6 },
        { instance: 3, id: 999 },
        { instance: 1, id: 6 },
        { instance: 8, id: 6 },
      ]);
      assert.deepEqual(
        rows(d).map((r) => [r.instance.id, r.id, r.ok, said(r.error)]),
        [
          [3, 6, true, null],
          [3, 999, false, 'no alert with id 999 on this instance'],
          [1, 6, true, null],
          [
            8,
            6,
            false,
            "instance 8 is not among this node's Instances (enabled rows of tmetaconsole_setup, or the ids in its Instances property)",
          ],
        ],
      );
      assert.deepEqual(await one('SELECT disabled FROM talert_template_modules WHERE id = 6'), {
        disabled: 1,
      });
      assert.deepEqual(await one('SELECT update_alert_count FROM tagente WHERE id_agente = 2'), {
        update_alert_count: 1,
      });
      assert.deepEqual(
        await one('SELECT disabled FROM talert_template_modules WHERE id = 6', [], 'qa'),
        { disabled: 1 },
      );
      await q.run('alert.enable', { instance: 3, id: 6 });
      await q.run('alert.enable', { instance: 1, id: 6 });
      assert.deepEqual(await one('SELECT disabled FROM talert_template_modules WHERE id = 6'), {
        disabled: 0,
      });
      await q.run('alert.standby', { instance: 3, id: 5 });
      assert.deepEqual(await one('SELECT standby FROM talert_template_modules WHERE id = 5'), {
        standby: 1,
      });
      await q.run('alert.unstandby', { instance: 3, id: 5 });
      assert.deepEqual(await one('SELECT standby FROM talert_template_modules WHERE id = 5'), {
        standby: 0,
      });
      assert.deepEqual(await audits(), [
        'Alert&#x20;management / Disable&#x20;&#x20;6',
        'Alert&#x20;management / Enable&#x20;&#x20;6',
        'Alert&#x20;management / Standby&#x20;&#x20;5',
        'Alert&#x20;management / Standbyoff&#x20;&#x20;5',
      ]);
      const unknown = await q.run('agent.enable', { instance: 3, id: 77 });
      assert.deepEqual(
        { ...rows(unknown)[0], error: said(rows(unknown)[0].error) },
        {
          instance: { id: 3, name: 'gamma' },
          action: 'agent.enable',
          id: 77,
          ok: false,
          changed: false,
          error: 'no agent with id 77 on this instance',
        },
      );
      assert.equal(report(unknown, 3)?.ok, true);
    });

    it('queues a policy application once in tpolicy_queue', async () => {
      const a = await q.run('policy.apply', { instance: 3, id: 1 });
      assert.deepEqual(
        rows(a).map((r) => [r.ok, r.changed]),
        [[true, true]],
      );
      const queued = await rowsOf(
        db,
        'qc',
        'SELECT id_policy, id_agent, operation, progress, end_utimestamp FROM tpolicy_queue',
      );
      assert.deepEqual(queued, [
        { id_policy: 1, id_agent: 0, operation: 'apply', progress: 0, end_utimestamp: 0 },
      ]);
      const twice = await q.run('policy.apply', [
        { instance: 3, id: 1 },
        { instance: 3, id: 2 },
      ]);
      assert.deepEqual(
        rows(twice).map((r) => [r.ok, r.changed, said(r.error)]),
        [
          [true, false, null],
          [false, false, 'no policy with id 2 on this instance'],
        ],
      );
      assert.equal((await rowsOf(db, 'qc', 'SELECT id FROM tpolicy_queue')).length, 1);
      const p = await q.run('policies', { instances: [3] });
      assert.equal(rows(p)[0].pendingApplications, 1);
    });
  });
});
