import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AGENT_CACHE_DEFAULTS,
  AGENT_CACHE_PROPERTIES,
  AgentCacheError,
  optionsFromProperties,
  resolveOptions,
} from '../../lib/agentcache';
import type { Pool } from '../../lib/db/pool';

const cc = {} as Pool;

describe('agent-cache options (pure)', () => {
  it('the node property default (seconds) is the engine default (milliseconds)', () => {
    assert.equal(AGENT_CACHE_DEFAULTS.intervalMs, AGENT_CACHE_PROPERTIES.interval.default * 1000);
    assert.deepEqual(optionsFromProperties({}), { instances: [], intervalMs: 5000 });
    assert.deepEqual(optionsFromProperties({ interval: '2.5', instances: '1, 3' }), {
      instances: [1, 3],
      intervalMs: 2500,
    });
  });

  it('refuses a bad property with a typed error naming it', () => {
    for (const [props, name] of [
      [{ interval: -1 }, 'interval'],
      [{ interval: 'soon' }, 'interval'],
      [{ interval: 86_401 }, 'interval'],
      [{ instances: '1,x' }, 'instances'],
      [{ instances: '0' }, 'instances'],
    ] as const) {
      assert.throws(
        () => optionsFromProperties(props),
        (e: unknown) =>
          e instanceof AgentCacheError &&
          e.code === 'ERR_AGENT_CACHE_OPTION' &&
          e.facts.name === name,
      );
    }
  });

  it('applies defaults field by field and refuses what the engine cannot use', () => {
    const r = resolveOptions({ cc, intervalMs: undefined, rangeSize: 50 });
    assert.equal(r.intervalMs, 5000);
    assert.equal(r.rangeSize, 50);
    assert.deepEqual(r.instances, []);
    assert.throws(() => resolveOptions({ cc, rangeSize: 0 }), /ERR_AGENT_CACHE_OPTION/);
    assert.throws(() => resolveOptions({ cc, writeBatch: Number.NaN }), /ERR_AGENT_CACHE_OPTION/);
  });
});
