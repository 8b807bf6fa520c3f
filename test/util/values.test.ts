import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toBool, toInteger } from '../../lib/util/values';

describe('property values', () => {
  it('a boolean accepts the usual spellings, and empty means the default', () => {
    for (const v of [true, 'true', 'TRUE', ' 1 ', 1, 'on', 'yes'])
      assert.equal(toBool(v, false), true);
    for (const v of [false, 'false', '0', 0, 'off', 'No']) assert.equal(toBool(v, true), false);
    for (const v of [undefined, null, '']) assert.equal(toBool(v, true), true);
  });

  it('a junk boolean is refused naming the property, as a junk number is', () => {
    assert.throws(() => toInteger('12 please', 3, 'retries'), /retries must be a number/);
    const junk: unknown[] = ['yes please', 'ture', 2, -1, 'null', [], {}, { toString: 'x' }];
    for (const v of junk) {
      assert.throws(
        () => toBool(v, false, 'overwrite'),
        (e: Error) =>
          e instanceof TypeError && /^overwrite must be true or false, got /.test(e.message),
        JSON.stringify(v) ?? String(v),
      );
    }
  });
});
