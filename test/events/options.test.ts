import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pool } from '../../lib/db/pool';
import { EVENT_PULL_DEFAULTS } from '../../lib/events';
import { budgetOf, fittingPrefix, keptCommentBytes, packed } from '../../lib/events/budget';
import { EventPullError } from '../../lib/events/errors';
import { resolveOptions } from '../../lib/events/options';
import { worded } from './fixtures/words';

// The options are only read here; no query is made.
const cc = {} as Pool;

/** Asserts `fn` throws an EventPullError whose words (the node's en-US catalogue) match `words`. */
function refuses(fn: () => unknown, words: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof EventPullError && words.test(worded(e)));
}

describe('event-pull options', () => {
  it('applies each default field by field; an explicit undefined is a missing field', () => {
    const o = resolveOptions({ cc, intervalMs: undefined, batchSize: 50, mode: undefined });
    assert.equal(o.intervalMs, EVENT_PULL_DEFAULTS.intervalMs);
    assert.equal(o.mode, 'all');
    assert.equal(o.batchSize, 50);
    assert.equal(o.maxBackoffMs, EVENT_PULL_DEFAULTS.maxBackoffMs);
  });

  it('keeps given zeros and falses (they are values, not gaps)', () => {
    const o = resolveOptions({ cc, intervalMs: 0, writeBack: false, recheckWindow: 0 });
    assert.equal(o.intervalMs, 0);
    assert.equal(o.writeBack, false);
    assert.equal(o.recheckWindow, 0);
  });

  it('refuses values the engine cannot work with, naming the option', () => {
    refuses(
      () => resolveOptions({ cc, mode: 'some' as 'all' }),
      /mode must be "all" or "only_validated"/,
    );
    refuses(() => resolveOptions({ cc, batchSize: 0 }), /batchSize must be a number from 1 to/);
    refuses(() => resolveOptions({ cc, batchSize: 1.5 }), /batchSize must be a whole number/);
    refuses(() => resolveOptions({ cc, intervalMs: -1 }), /intervalMs/);
    refuses(() => resolveOptions({ cc, queryTimeoutMs: Number.NaN }), /queryTimeoutMs/);
  });

  it('refuses a budget the engine cannot work with, naming the option', () => {
    refuses(() => resolveOptions({ cc, maxBatchBytes: 0 }), /maxBatchBytes/);
    refuses(() => resolveOptions({ cc, maxCommentsPerEvent: -1 }), /maxCommentsPerEvent/);
    refuses(
      () => resolveOptions({ cc, maxCommentsPerEvent: 2.5 }),
      /maxCommentsPerEvent must be a whole number/,
    );
    refuses(() => resolveOptions({ cc, maxCommentBytes: Number.NaN }), /maxCommentBytes/);
    const o = resolveOptions({ cc, maxCommentsPerEvent: 0 });
    assert.equal(o.maxCommentsPerEvent, 0, 'no comments at all is a choice');
    assert.equal(o.maxBatchBytes, 16 * 1024 * 1024);
  });

  it('cuts batches by count and bytes, always taking the first event', () => {
    const b = { ...budgetOf(), maxEvents: 3, maxBytes: 100 };
    assert.equal(fittingPrefix([40, 40, 40], b), 2);
    assert.equal(fittingPrefix([10, 10, 10, 10], b), 3);
    assert.equal(fittingPrefix([500, 1], b), 1, 'one event alone over the budget still goes');
    assert.equal(fittingPrefix([], b), 0);
    assert.deepEqual(
      packed([60, 30, 500, 10, 10, 10, 10], (x) => x, b),
      [[60, 30], [500], [10, 10, 10], [10]],
    );
    const c = { ...b, maxComments: 2, maxCommentBytes: 50 };
    assert.equal(keptCommentBytes(undefined, c), 0);
    assert.equal(keptCommentBytes({ count: 1, bytes: 20 }, c), 20 + 64);
    assert.equal(keptCommentBytes({ count: 1_000_000, bytes: 1e9 }, c), 50 + 2 * 64);
  });
});
