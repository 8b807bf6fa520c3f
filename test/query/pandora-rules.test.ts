/**
 * instance-query counts as Pandora does (pandora_server's counters, the console's agent list,
 * monitor view, alert list and the Command Center's tactical view), on one Instance seeded to
 * show each rule (fixtures/pandora.ts createRulesInstance).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPool, Pool } from '../../lib/db/pool';
import { InstanceQuery, QueryAnswer } from '../../lib/query';
import { saying } from './words';
import { createCommandCenter } from '../events/fixtures/pandora';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { createRulesInstance, rowsOf } from './fixtures/pandora';

type Row = Record<string, unknown> & { instance: { id: number; name: string } };

const rows = (a: QueryAnswer) => a.rows as Row[];
const ids = (a: QueryAnswer) => rows(a).map((r) => r.id);

describe('instance-query counts as Pandora does', () => {
  let db: PrivateMariaDb;
  let cc: Pool;
  let q: InstanceQuery;

  before(async () => {
    db = await startMariaDb();
    await createRulesInstance(db, 'ra');
    await createRulesInstance(db, 'rb');
    await createCommandCenter(db, 'rcc', [
      { id: 1, name: 'alpha', port: db.port, dbname: 'ra' },
      { id: 2, name: 'beta', port: db.port, dbname: 'rb' },
    ]);
    cc = createPool({ host: db.host, port: db.port, database: 'rcc', user: db.user, password: '' });
    q = new InstanceQuery({ cc, instances: [1, 2] });
  });

  after(async () => {
    await q?.close();
    await cc?.end();
    await db?.destroy();
  });

  it('an alert is fired only when it, its module and its agent are enabled', async () => {
    const all = await q.run('alerts', { instances: [1], disabled: 'all' });
    assert.deepEqual(
      rows(all).map((r) => [r.id, r.timesFired, r.fired]),
      [
        [5, 2, true],
        [6, 1, false],
        [7, 1, false],
        [8, 3, false],
        [9, 0, false],
      ],
    );
    assert.deepEqual(ids(await q.run('alerts', { instances: [1], status: 'fired' })), [5]);
    assert.deepEqual(ids(await q.run('alerts', { instances: [1], status: 'notfired' })), [9]);
    // Even when disabled rows are shown, the filters follow the rule.
    assert.deepEqual(
      ids(await q.run('alerts', { instances: [1], status: 'fired', disabled: 'all' })),
      [5],
    );
    assert.deepEqual(
      ids(await q.run('alerts', { instances: [1], status: 'notfired', disabled: 'all' })),
      [9],
    );
  });

  it('a module without data is not initialised; critical and warning need data', async () => {
    const m = await q.run('modules', { instances: [1], agent: 'web1' });
    assert.deepEqual(
      rows(m).map((r) => [r.name, r.status]),
      [
        ['CPU', 'critical'],
        ['Fresh', 'notinit'],
        ['Async', 'normal'],
        ['Crit0', 'notinit'],
      ],
    );
    const name = (a: QueryAnswer) => rows(a).map((r) => r.name);
    assert.deepEqual(name(await q.run('modules', { instances: [1], status: 'notinit' })), [
      'Fresh',
      'Crit0',
      'Boot',
    ]);
    assert.deepEqual(name(await q.run('modules', { instances: [1], status: 'critical' })), ['CPU']);
    assert.deepEqual(name(await q.run('modules', { instances: [1], status: 'normal' })), [
      'Async',
      'Ping',
    ]);
  });

  it('an agent whose counters fit no case is normal, as the agent list shows it', async () => {
    const a = await q.run('agents', { instances: [1] });
    assert.deepEqual(
      rows(a).map((r) => [r.name, r.status]),
      [
        ['web1', 'critical'],
        ['lab-sec', 'normal'],
        ['odd', 'normal'],
      ],
    );
    assert.deepEqual(ids(await q.run('agents', { instances: [1], status: 'normal' })), [2, 3]);
    assert.deepEqual(ids(await q.run('agents', { instances: [1], status: 'unknown' })), []);
  });

  it('hides disabled agents, modules and alerts unless asked', async () => {
    const agents = (disabled?: string) => q.run('agents', { instances: [1], disabled });
    assert.deepEqual(ids(await agents()), [1, 2, 3]);
    assert.deepEqual(ids(await agents('enabled')), [1, 2, 3]);
    assert.deepEqual(ids(await agents('disabled')), [4]);
    assert.deepEqual(ids(await agents('all')), [1, 2, 3, 4]);
    const modules = (disabled?: string) => q.run('modules', { instances: [1], disabled });
    assert.deepEqual(ids(await modules()), [11, 12, 13, 14, 21, 22]);
    // A module counts as disabled when it or its agent is.
    assert.deepEqual(ids(await modules('disabled')), [15, 41]);
    assert.equal((await modules('all')).rows.length, 8);
    const alerts = (filters: Record<string, unknown>) =>
      q.run('alerts', { instances: [1], ...filters });
    assert.deepEqual(ids(await alerts({})), [5, 9]);
    assert.deepEqual(ids(await alerts({ disabled: 'disabled' })), [6, 7, 8]);
    // Asking for disabled alerts by status shows them without a disabled filter.
    assert.deepEqual(ids(await alerts({ status: 'disabled' })), [8]);
    await assert.rejects(
      q.run('agents', { disabled: 'yes' }),
      saying(/disabled must be one of enabled, disabled, all, got "yes"/),
    );
    await assert.rejects(
      q.run('tactical', { disabled: 'all' }),
      saying(/"tactical" has no filter "disabled"/),
    );
  });

  it('a group takes its child groups with recursion, and its secondary agents', async () => {
    const agents = (f: Record<string, unknown>) => q.run('agents', { instances: [1], ...f });
    // Agent 2 is in Servers as a secondary group; agent 4 (disabled) is hidden.
    assert.deepEqual(ids(await agents({ group: 2 })), [2]);
    assert.deepEqual(ids(await agents({ group: 2, recursion: true })), [1, 2]);
    assert.deepEqual(ids(await agents({ group: 'Servers', recursion: true })), [1, 2]);
    assert.deepEqual(ids(await agents({ group: 2, recursion: true, disabled: 'all' })), [1, 2, 4]);
    assert.deepEqual(ids(await agents({ group: 5 })), [1]);
    assert.deepEqual(ids(await agents({ group: 6, recursion: true })), []);
    assert.deepEqual(
      ids(await q.run('modules', { instances: [1], group: 'Servers', recursion: 'true' })),
      [11, 12, 13, 14, 21, 22],
    );
    assert.deepEqual(
      ids(await q.run('alerts', { instances: [1], group: 2, recursion: true })),
      [5, 9],
    );
    assert.deepEqual(ids(await q.run('policies', { instances: [1], group: 2 })), []);
    assert.deepEqual(
      ids(await q.run('policies', { instances: [1], group: 2, recursion: true })),
      [1],
    );
    await assert.rejects(
      q.run('agents', { group: 2, recursion: 'maybe' }),
      saying(/recursion must be true or false, got "maybe"/),
    );
  });

  it('tactical: alerts defined, the five states, and the tactical view percentages', async () => {
    const t = await q.run('tactical', undefined);
    const alpha = {
      instance: { id: 1, name: 'alpha' },
      agents: { total: 3, normal: 2, warning: 0, critical: 1, unknown: 0, notinit: 0 },
      // The sum of the five states (agent 3's total_count says 3, its states add up to 1).
      modules: { total: 7, normal: 4, warning: 0, critical: 2, unknown: 0, notinit: 1 },
      alertsDefined: 2,
      alertsFired: 1,
      monitorHealth: 57.1,
      moduleSanity: 85.7,
      alertLevel: 50,
      globalHealth: 71.4,
    };
    assert.deepEqual(rows(t)[0], alpha);
    assert.deepEqual(rows(t)[2], {
      instance: { id: 0, name: 'total' },
      total: true,
      agents: { total: 6, normal: 4, warning: 0, critical: 2, unknown: 0, notinit: 0 },
      modules: { total: 14, normal: 8, warning: 0, critical: 4, unknown: 0, notinit: 2 },
      alertsDefined: 4,
      alertsFired: 2,
      monitorHealth: 57.1,
      moduleSanity: 85.7,
      alertLevel: 50,
      globalHealth: 71.4,
    });
    const servers = await q.run('tactical', { instances: [1], group: 2, recursion: true });
    assert.deepEqual(rows(servers)[0], {
      instance: { id: 1, name: 'alpha' },
      agents: { total: 2, normal: 1, warning: 0, critical: 1, unknown: 0, notinit: 0 },
      modules: { total: 6, normal: 3, warning: 0, critical: 2, unknown: 0, notinit: 1 },
      alertsDefined: 2,
      alertsFired: 1,
      monitorHealth: 50,
      moduleSanity: 83.3,
      alertLevel: 50,
      globalHealth: 66.7,
    });
    // Nothing to count: every percentage is 100, as the console shows an empty group.
    const empty = await q.run('tactical', { instances: [1], group: 6 });
    assert.deepEqual(rows(empty)[0], {
      instance: { id: 1, name: 'alpha' },
      agents: { total: 0, normal: 0, warning: 0, critical: 0, unknown: 0, notinit: 0 },
      modules: { total: 0, normal: 0, warning: 0, critical: 0, unknown: 0, notinit: 0 },
      alertsDefined: 0,
      alertsFired: 0,
      monitorHealth: 100,
      moduleSanity: 100,
      alertLevel: 100,
      globalHealth: 100,
    });
  });

  it('agent.disable and agent.enable flag the agent for a recount (update_module_count)', async () => {
    const flag = async () =>
      (
        await rowsOf(
          db,
          'rb',
          'SELECT disabled, update_module_count FROM tagente WHERE id_agente = 2',
        )
      )[0];
    await q.run('agent.disable', { instance: 2, id: 2 });
    assert.deepEqual(await flag(), { disabled: 1, update_module_count: 1 });
    // The Pandora server recounts and clears the flag; enabling sets it again.
    await rowsOf(db, 'rb', 'UPDATE tagente SET update_module_count = 0');
    await q.run('agent.enable', { instance: 2, id: 2 });
    assert.deepEqual(await flag(), { disabled: 0, update_module_count: 1 });
  });
});
