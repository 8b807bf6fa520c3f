/** The full checks of many Instances spread over the audit window instead of one tick (pure). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditOffset } from '../../lib/agentcache/instance-slot';

describe('agent-cache audit offsets', () => {
  it('spread 100 Instances over the window: no 5 s tick holds more than a few', () => {
    const window = 60_000;
    const perTick = new Map<number, number>();
    for (let id = 1; id <= 100; id++) {
      const o = auditOffset(id, window);
      assert.ok(o >= 0 && o < window);
      const tick = Math.floor(o / 5000);
      perTick.set(tick, (perTick.get(tick) ?? 0) + 1);
    }
    // 100 Instances over 12 ticks: about 8.3 each; never all at once.
    assert.ok(Math.max(...perTick.values()) <= 11, JSON.stringify([...perTick]));
    assert.equal(perTick.size, 12);
  });
});
