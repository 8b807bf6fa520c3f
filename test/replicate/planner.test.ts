/**
 * The replicate engine's pure parts, without a database: the queue planner (what a drain does
 * with a page), the dry-run planner, the state a round leaves, the options, the per-Instance lane,
 * the lifecycle after close(), and the catalogues' words for every code.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { createPool } from '../../lib/db/pool';
import {
  planDryRun,
  planPage,
  REPLICATE_DEFAULTS,
  ReplicateError,
  Replicator,
  resolveOptions,
  optionsFromProperties,
  roundState,
} from '../../lib/replicate';
import { InstanceLane } from '../../lib/replicate/instance-lane';
import { RoundSlots } from '../../lib/replicate/round-slots';
import { waitFor } from '../helpers/wait';
import type { QueueItem } from '../../lib/replicate/queue-items';

let next = 0;
function item(sql: string, table: string | null, operation = ''): QueueItem {
  next += 1;
  return { id: String(next), sql, table, operation, error: '' };
}

const root = resolve(__dirname, '../../..');

describe('metaconsole-replicate: the queue planner', () => {
  it('splits a page into runs of statements around named operations, stopping at a refusal', () => {
    const a = item("UPDATE tgrupo SET nombre = 'a' WHERE id_grupo = 1", 'tgrupo');
    const b = item("INSERT INTO ttag (id_tag, name) VALUES (1, 't')", 'ttag');
    const op = item('https://example.invalid/plugin.zip', 'tplugin', 'refresh_plugin');
    const c = item('DELETE FROM tcategory WHERE id = 3', 'tcategory');
    const bad = item('DELETE FROM tgrupo; DELETE FROM tusuario', 'tgrupo');
    const never = item('DELETE FROM ttag WHERE id_tag = 1', 'ttag');
    const plan = planPage([a, b, op, c, bad, never]);
    assert.deepEqual(
      plan.map((s) =>
        s.kind === 'apply' ? ['apply', s.steps.map((x) => x.item.id)] : [s.kind, s.item.id],
      ),
      [
        ['apply', [a.id, b.id]],
        ['operation', op.id],
        ['apply', [c.id]],
        ['refused', bad.id],
      ],
    );
    const refused = plan[3];
    assert.ok(refused.kind === 'refused');
    assert.equal(refused.error.code, 'ERR_REPLICATE_ITEM_STATEMENT');
    assert.deepEqual(planPage([]), []);
  });

  it('refuses an empty table column, an unmanaged table and a table column that lies', () => {
    const codes = [
      item("UPDATE tgrupo SET nombre = 'a' WHERE id_grupo = 1", ''),
      item("UPDATE tconfig SET `value` = 'x' WHERE token = 'MR'", 'tconfig'),
      item("UPDATE tgrupo SET nombre = 'a' WHERE id_grupo = 1", 'ttag'),
    ].map((i) => {
      const [s] = planPage([i]);
      return s.kind === 'refused' ? s.error.code : s.kind;
    });
    assert.deepEqual(codes, [
      'ERR_REPLICATE_ITEM_NO_TABLE',
      'ERR_REPLICATE_ITEM_UNMANAGED',
      'ERR_REPLICATE_ITEM_TABLE_MISMATCH',
    ]);
  });

  it('plans a dry run: blocked behind a refusal, named operations never blocked', () => {
    const items = [
      item("UPDATE tgrupo SET nombre = 'a' WHERE id_grupo = 1", 'tgrupo'),
      item("INSERT INTO ttag (id_tag, name) VALUES (1, 't')", 'ttag'),
      item("UPDATE tgrupo SET nombre = 'b' WHERE id_grupo = 1", 'tgrupo'),
      item('u', 'tplugin', 'refresh_plugin'),
    ];
    const planned = planDryRun(items, new Set(['tgrupo', 'tplugin']));
    assert.deepEqual(
      planned.map((p) => [p.action, p.verb ?? p.operation ?? p.error?.code]),
      [
        ['apply', 'UPDATE'],
        ['refused', 'ERR_REPLICATE_ITEM_MISSING_TABLE'],
        ['blocked', 'UPDATE'],
        ['named operation', 'refresh_plugin'],
      ],
    );
    assert.equal(planned[3].carries, 'u');
  });

  it('says the state a round leaves', () => {
    assert.equal(roundState(true, 0, 200), 'failing');
    assert.equal(roundState(false, 200, 200), 'degraded');
    assert.equal(roundState(false, 1, 200), 'behind');
    assert.equal(roundState(false, 0, 200), 'in sync');
  });
});

describe('metaconsole-replicate: options, lane and lifecycle', () => {
  const cc = createPool({ host: '127.0.0.1', port: 1, database: 'x', user: 'x', password: '' });

  it('resolves defaults in ms and refuses what the engine cannot use', () => {
    const o = resolveOptions({ cc });
    assert.equal(o.intervalMs, REPLICATE_DEFAULTS.intervalMs);
    assert.equal(o.queueBatch, 200);
    assert.equal(o.useQueue, true);
    assert.throws(
      () => resolveOptions({ cc, queueBatch: 0 }),
      (e: unknown) => e instanceof ReplicateError && e.code === 'ERR_REPLICATE_OPTION',
    );
    const props = optionsFromProperties({ interval: '2', instances: '3, 4', objects: 'tags' });
    assert.deepEqual(props, {
      intervalMs: 2000,
      instances: [3, 4],
      objects: ['tags'],
      ccDbAddress: null,
    });
    for (const bad of [{ interval: '-1' }, { interval: 'soon' }, { objects: 'nope' }]) {
      assert.throws(() => optionsFromProperties(bad), ReplicateError);
    }
  });

  it('runs one task at a time per Instance: a round is not started while busy, a skip waits', async () => {
    const lane = new InstanceLane();
    let release: () => void = () => undefined;
    const first = lane.tryRun(() => new Promise<string>((r) => (release = () => r('first'))));
    assert.ok(first);
    assert.equal(
      lane.tryRun(async () => 'second'),
      undefined,
    );
    const order: string[] = [];
    const waiting = lane.run(async () => {
      order.push('skip');
      return 'skip';
    });
    void first.then(() => order.push('first'));
    release();
    assert.equal(await waiting, 'skip');
    assert.deepEqual(order, ['first', 'skip']);
    await lane.idle();
    assert.equal(lane.busy, false);
  });

  it('lets at most `size` rounds run at once, the others in the order they asked', async () => {
    const slots = new RoundSlots(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const gates: (() => void)[] = [];
    const all = [1, 2, 3, 4].map((i) =>
      slots.run(async () => {
        running += 1;
        most = Math.max(most, running);
        order.push(i);
        await new Promise<void>((r) => gates.push(r));
        running -= 1;
      }),
    );
    await waitFor(() => gates.length === 2, 5000, 'two rounds running');
    assert.deepEqual(order, [1, 2]);
    gates.shift()?.();
    await waitFor(() => order.length === 3, 5000, 'the third round once one ended');
    gates.shift()?.();
    await waitFor(() => order.length === 4, 5000, 'the fourth round once another ended');
    for (const g of gates.splice(0)) g();
    await Promise.all(all);
    assert.equal(most, 2);
    assert.deepEqual(order, [1, 2, 3, 4]);
  });

  it('fails every call after close() with the closed error and its reason', async () => {
    const rep = new Replicator({ cc });
    await rep.close('removed');
    const closed = (e: unknown) =>
      e instanceof ReplicateError &&
      e.code === 'ERR_REPLICATE_CLOSED' &&
      e.facts.reason === 'removed';
    await assert.rejects(rep.requestRound('test'), closed);
    await assert.rejects(rep.requestPlan('test'), closed);
    await assert.rejects(rep.skip('1'), closed);
    await assert.rejects(rep.merge({ priority: [] }), closed);
    assert.throws(() => rep.start(), closed);
    await cc.end();
  });
});

describe('metaconsole-replicate: catalogues', () => {
  it('words every code in en-US and es-ES', () => {
    const source = readFileSync(join(root, 'lib/replicate/errors.ts'), 'utf8');
    const codes = [...new Set(source.match(/'ERR_REPLICATE_[A-Z_]+'/g) ?? [])].map((c) =>
      c.slice(1, -1),
    );
    assert.ok(codes.length > 20);
    for (const lang of ['en-US', 'es-ES']) {
      const cat = JSON.parse(
        readFileSync(
          join(root, `nodes/metaconsole-replicate/locales/${lang}/metaconsole-replicate.json`),
          'utf8',
        ),
      ) as { 'metaconsole-replicate': { errors: Record<string, string> } };
      const missing = codes.filter((c) => !cat['metaconsole-replicate'].errors[c]);
      assert.deepEqual(missing, [], lang);
    }
  });
});
