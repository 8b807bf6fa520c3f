/**
 * The balancing policy without a database: targets that add up to the units, surplus drained for
 * one tick before it is handed back, takes of free and expired units up to the target (orphans
 * beyond it), kinds shared only among the members that work them (its cost against the units:
 * bench/cluster-leases.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  plan,
  target,
  type LeaseRow,
  type MemberRow,
  type PlanView,
} from '../../lib/cluster/planner';

const LEASE_MS = 30_000;

function rows(units: string[], holder: (u: string, i: number) => string, live = true): LeaseRow[] {
  return units.map((unit, i) => {
    const h = holder(unit, i);
    return {
      unit,
      holder: h,
      token: '1',
      live: h !== '' && live,
      overdueMs: h === '' || !live ? 1 : -1000,
    };
  });
}

const members = (...sessions: [string, string[]][]): MemberRow[] =>
  sessions.map(([session, kinds]) => ({ session, member: session.split('/')[0], kinds }));

function view(
  session: string,
  wanted: string[],
  held: string[],
  draining: string[] = [],
): PlanView {
  return {
    session,
    leaseMs: LEASE_MS,
    wanted: new Set(wanted),
    held: new Set(held),
    draining: new Set(draining),
  };
}

const pull = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => `pull:10.0.${i >> 8}.${i & 255}:41121`);
const events = (n: number): string[] => Array.from({ length: n }, (_, i) => `events:${i + 1}`);

describe('lease planner', () => {
  it('targets add up to the units whatever their number and the members', () => {
    for (const n of [0, 1, 2, 7, 100, 1000, 1001]) {
      for (const m of [1, 2, 3, 5]) {
        const sessions = Array.from({ length: m }, (_, i) => `s${i}/1`);
        for (const kind of [0, 1, 2]) {
          const sum = sessions.reduce((s, me) => s + target(n, sessions, me, kind), 0);
          assert.equal(sum, n, `${n} units over ${m} members`);
          for (const me of sessions) {
            const t = target(n, sessions, me, kind);
            assert.ok(t === Math.floor(n / m) || t === Math.ceil(n / m));
          }
        }
      }
    }
  });

  it('a lone member takes every free unit; a second takes its share of free ones only', () => {
    const units = [...pull(6), ...events(2)];
    const free = rows(units, () => '');
    const p = plan(free, members(['a/1', ['events', 'pull']]), view('a/1', units, []));
    assert.deepEqual(p.take.sort(), [...units].sort());
    assert.deepEqual(p.release, []);
    // b arrives: a holds everything, live; b takes nothing held (it waits for a to hand back).
    const held = rows(units, () => 'a/1');
    const both = members(['a/1', ['events', 'pull']], ['b/1', ['events', 'pull']]);
    assert.deepEqual(plan(held, both, view('b/1', units, [])).take, []);
  });

  it('surplus is drained for one tick, then handed back', () => {
    const units = pull(6);
    const held = rows(units, () => 'a/1');
    const both = members(['a/1', ['pull']], ['b/1', ['pull']]);
    const first = plan(held, both, view('a/1', units, units));
    assert.equal(first.draining.size, 3);
    assert.deepEqual(first.release, []);
    const second = plan(held, both, view('a/1', units, units, [...first.draining]));
    assert.deepEqual(second.release.sort(), [...first.draining].sort());
    assert.equal(second.draining.size, 0);
  });

  it('units not wanted any more are released at once', () => {
    const held = rows(['events:1', 'events:2'], () => 'a/1');
    const p = plan(
      held,
      members(['a/1', ['events']]),
      view('a/1', ['events:1'], ['events:1', 'events:2']),
    );
    assert.deepEqual(p.release, ['events:2']);
  });

  it('expired units of a dead member: up to the target, the longest expired first; orphans beyond it', () => {
    const units = events(4);
    const dead: LeaseRow[] = units.map((unit, i) => ({
      unit,
      holder: 'dead/1',
      token: '3',
      live: false,
      overdueMs: i === 3 ? LEASE_MS : 10 * (i + 1),
    }));
    const both = members(['a/1', ['events']], ['b/1', ['events']]);
    const p = plan(dead, both, view('a/1', units, []));
    // Target 2: the orphan (expired half a lease ago) first, then the longest expired.
    assert.deepEqual(p.take, ['events:4', 'events:3']);
    // Already at its target, a member still takes an orphan.
    const mine: LeaseRow[] = [
      { unit: 'events:1', holder: 'a/1', token: '1', live: true, overdueMs: -5 },
      { unit: 'events:2', holder: 'a/1', token: '1', live: true, overdueMs: -5 },
      ...dead.slice(2),
    ];
    const q = plan(mine, both, view('a/1', units, ['events:1', 'events:2']));
    assert.deepEqual(q.take, ['events:4']);
  });

  it('a kind is shared only among the members that work it', () => {
    const units = [...pull(6), ...events(4)];
    const free = rows(units, () => '');
    const ms = members(['a/1', ['events', 'pull']], ['b/1', ['pull']]);
    const a = plan(free, ms, view('a/1', units, []));
    assert.equal(a.take.filter((u) => u.startsWith('events:')).length, 4);
    assert.equal(a.take.filter((u) => u.startsWith('pull:')).length, 3);
  });

  it('1,100 units over three members: each aims within ±10% of a third', () => {
    const units = [...pull(1000), ...events(100)];
    const ms = members(
      ['a/1', ['events', 'pull']],
      ['b/1', ['events', 'pull']],
      ['c/1', ['events', 'pull']],
    );
    const free = rows(units, () => '');
    const takes = ['a/1', 'b/1', 'c/1'].map((s) => plan(free, ms, view(s, units, [])).take.length);
    for (const n of takes) assert.ok(Math.abs(n - 1100 / 3) <= 110, `${n} units`);
    assert.equal(
      takes.reduce((x, y) => x + y, 0),
      1100,
    );
  });
});
