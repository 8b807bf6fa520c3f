import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { surelyWhole } from '../../lib/sync/names';
import { TENTACLE_BUFFER_PROPERTIES } from '../../lib/tentacle/options';

describe('a listing that may be cut', () => {
  it('is whole only below our buffer default lsLimit: a longer one never prunes delivery records', () => {
    const limit = TENTACLE_BUFFER_PROPERTIES.lsLimit.default;
    assert.equal(surelyWhole(0), true);
    assert.equal(surelyWhole(limit - 1), true);
    assert.equal(surelyWhole(limit), false);
    assert.equal(surelyWhole(limit * 100), false);
  });
});
