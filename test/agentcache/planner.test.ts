import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  differingRanges,
  knownAfter,
  rangeKey,
  rangesToCheck,
  planRows,
  spans,
  splitPlan,
  type RangeSum,
} from '../../lib/agentcache/planner';

const sum = (
  range: number,
  agents: number,
  agentSum: string,
  groups = 0,
  groupSum = '0',
): RangeSum => ({
  range,
  agents,
  agentSum,
  groups,
  groupSum,
});

describe('agent-cache planner (pure)', () => {
  it('finds the ranges whose counts or sums differ, on either side only too', () => {
    const mine = [sum(0, 10, '100'), sum(1, 10, '200'), sum(2, 5, '50', 2, '9'), sum(4, 1, '1')];
    const theirs = [sum(0, 10, '100'), sum(1, 10, '201'), sum(2, 5, '50', 2, '8'), sum(3, 1, '1')];
    assert.deepEqual(differingRanges(mine, theirs), [1, 2, 3, 4]);
    assert.deepEqual(differingRanges(mine, mine), []);
    assert.deepEqual(differingRanges([], []), []);
  });

  it('checks the Command Center side only where the Instance moved since the last round', () => {
    const mine = [sum(0, 10, '100'), sum(1, 10, '200'), sum(3, 1, '7')];
    assert.equal(rangesToCheck(mine, null), 'all');
    const known = knownAfter(
      [sum(0, 10, '100'), sum(1, 10, '199'), sum(2, 4, '4'), sum(3, 1, '7')],
      [3],
    );
    assert.deepEqual([...known.keys()], [0, 1, 2]);
    assert.equal(known.get(0), rangeKey(sum(0, 10, '100')));
    // 1 moved, 2 is gone from the Instance (its cached rows must go), 3 was written last round.
    assert.deepEqual([...(rangesToCheck(mine, known) as Set<number>)].sort(), [1, 2, 3]);
  });

  it('joins neighbouring ranges into id spans, bounded in length', () => {
    assert.deepEqual(spans([0, 1, 2, 5, 7, 8], 100), [
      { from: 0, to: 300 },
      { from: 500, to: 600 },
      { from: 700, to: 900 },
    ]);
    assert.deepEqual(spans([0, 1, 2, 3], 10, 2), [
      { from: 0, to: 20 },
      { from: 20, to: 40 },
    ]);
  });

  it('plans new, changed, gone and duplicated rows and changed group memberships', () => {
    const plan = planRows(
      [
        { id: '1', hash: 'a' }, // unchanged
        { id: '2', hash: 'b2' }, // changed
        { id: '3', hash: 'c' }, // new
        { id: '4', hash: 'd' }, // groups changed
        { id: '5', hash: 'e' }, // duplicated in the cache
      ],
      [
        { cacheId: '11', id: '1', hash: 'a' },
        { cacheId: '12', id: '2', hash: 'b' },
        { cacheId: '14', id: '4', hash: 'd' },
        { cacheId: '16', id: '5', hash: 'e' },
        { cacheId: '15', id: '5', hash: 'e' },
        { cacheId: '19', id: '9', hash: 'z' }, // gone from the Instance
      ],
      [
        { id: '1', group: '3' },
        { id: '3', group: '4' },
        { id: '4', group: '5' },
        { id: '4', group: '5' },
      ],
      [
        { id: '1', group: '3' },
        { id: '4', group: '5' },
        { id: '9', group: '2' },
      ],
    );
    assert.deepEqual(plan.write, [
      { id: '2', cacheId: '12' },
      { id: '3', cacheId: null },
    ]);
    assert.deepEqual(plan.remove.sort(), ['16', '19']);
    assert.deepEqual(plan.regroup, ['3', '4', '5']);
  });

  it('an equal span plans nothing', () => {
    const plan = planRows(
      [{ id: '1', hash: 'a' }],
      [{ cacheId: '7', id: '1', hash: 'a' }],
      [
        { id: '1', group: '10' },
        { id: '1', group: '9' },
      ],
      [
        { id: '1', group: '9' },
        { id: '1', group: '10' },
      ],
    );
    assert.deepEqual(plan, { write: [], remove: [], regroup: [] });
  });

  it('cuts a plan into transactions of at most n agents, regrouping with the rows written', () => {
    const parts = splitPlan(
      {
        write: [1, 2, 3].map((i) => ({ id: String(i), cacheId: null })),
        remove: ['a', 'b', 'c'],
        regroup: ['1', '3', '8'],
      },
      2,
    );
    assert.deepEqual(parts, [
      {
        write: [
          { id: '1', cacheId: null },
          { id: '2', cacheId: null },
        ],
        remove: [],
        regroup: ['1'],
      },
      { write: [{ id: '3', cacheId: null }], remove: [], regroup: ['3'] },
      { write: [], remove: [], regroup: ['8'] },
      { write: [], remove: ['a', 'b'], regroup: [] },
      { write: [], remove: ['c'], regroup: [] },
    ]);
  });
});
