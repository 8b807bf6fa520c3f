import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pool } from '../../lib/db/pool';
import { EVENT_PULL_DEFAULTS } from '../../lib/events';
import { resolveOptions } from '../../lib/events/options';

// The options are only read here; no query is made.
const cc = {} as Pool;

describe('event-pull options', () => {
  it('applies each default field by field; an explicit undefined is a missing field', () => {
    const o = resolveOptions({ cc, intervalMs: undefined, batchSize: 50, mode: undefined });
    assert.equal(o.intervalMs, EVENT_PULL_DEFAULTS.intervalMs);
    assert.equal(o.mode, 'all');
    assert.equal(o.batchSize, 50);
    assert.equal(o.maxBackoffMs, EVENT_PULL_DEFAULTS.maxBackoffMs);
    assert.deepEqual(o.hooks, {});
  });

  it('keeps given zeros and falses (they are values, not gaps)', () => {
    const o = resolveOptions({ cc, intervalMs: 0, writeBack: false, recheckWindow: 0 });
    assert.equal(o.intervalMs, 0);
    assert.equal(o.writeBack, false);
    assert.equal(o.recheckWindow, 0);
  });

  it('refuses values the engine cannot work with, naming the option', () => {
    assert.throws(
      () => resolveOptions({ cc, mode: 'some' as 'all' }),
      /mode must be "all" or "only_validated"/,
    );
    assert.throws(() => resolveOptions({ cc, batchSize: 0 }), /batchSize must be .* at least 1/);
    assert.throws(() => resolveOptions({ cc, batchSize: 1.5 }), /batchSize must be a whole number/);
    assert.throws(() => resolveOptions({ cc, intervalMs: -1 }), /intervalMs/);
    assert.throws(() => resolveOptions({ cc, queryTimeoutMs: Number.NaN }), /queryTimeoutMs/);
  });
});
