import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff, backoffDelay, BackoffMap } from '../../lib/util/backoff';

describe('backoff', () => {
  const opts = { baseMs: 1000, maxMs: 60_000 };

  it('doubles from the base per failure in a row, up to the ceiling', () => {
    assert.equal(backoffDelay(0, opts), 0);
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8].map((f) => backoffDelay(f, opts)),
      [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000],
    );
  });

  it('stays finite and at the ceiling after any number of failures', () => {
    assert.equal(backoffDelay(10_000, opts), 60_000);
    assert.equal(
      backoffDelay(10_000, { baseMs: 5000, maxMs: Number.MAX_SAFE_INTEGER }),
      5000 * 2 ** 30,
    );
  });

  it('a ceiling below the base wins', () => {
    assert.equal(backoffDelay(1, { baseMs: 5000, maxMs: 2000 }), 2000);
  });

  it('remembers when the next attempt is due and forgets it on success', () => {
    let now = 1_000_000;
    const b = new Backoff(opts, () => now);
    assert.equal(b.waiting, false);
    assert.equal(b.fail('refused'), 1000);
    assert.equal(b.retryAt, now + 1000);
    assert.equal(b.lastError, 'refused');
    assert.equal(b.waiting, true);
    now += 999;
    assert.equal(b.waiting, true);
    now += 1;
    assert.equal(b.waiting, false);
    assert.equal(b.fail('refused again'), 2000);
    assert.equal(b.failures, 2);
    b.succeed();
    assert.equal(b.failures, 0);
    assert.equal(b.waiting, false);
    assert.equal(b.lastError, null);
    assert.equal(b.fail(), 1000);
    assert.equal(b.lastError, null);
  });

  it('keeps one state per key', () => {
    const now = 5000;
    const m = new BackoffMap<string>(opts, () => now);
    assert.equal(m.peek('a'), undefined);
    m.of('a').fail('x');
    m.of('a').fail('x');
    m.of('b').fail('y');
    assert.equal(m.of('a').failures, 2);
    assert.equal(m.of('b').retryAt, now + 1000);
    m.delete('a');
    assert.equal(m.peek('a'), undefined);
    assert.equal(m.of('a').failures, 0);
  });
});
