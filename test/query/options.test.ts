/**
 * instance-query's options: the node's properties become the engine's options with the defaults of
 * lib/query/options.ts, bad values are refused with a code, and a closed engine refuses every call
 * with the reason it was closed for. No database: the pools open lazily.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPool } from '../../lib/db/pool';
import {
  INSTANCE_QUERY_DEFAULTS,
  INSTANCE_QUERY_PROPERTIES,
  InstanceQuery,
  optionsFromProperties,
  QueryError,
  resolveOptions,
} from '../../lib/query';

const cc = createPool({ host: '127.0.0.1', port: 9, database: 'x', user: 'x', password: '' });

const refused = (name: string) => (e: unknown) =>
  e instanceof QueryError && e.code === 'ERR_QUERY_OPTION' && e.facts.name === name;

describe('instance-query options', () => {
  it('takes the defaults from one place: seconds in properties, milliseconds in the engine', () => {
    const c = optionsFromProperties({});
    assert.equal(c.fallback, INSTANCE_QUERY_PROPERTIES.query.default);
    assert.equal(c.allowChanges, false);
    assert.deepEqual(c.options, {
      instances: [],
      timeoutMs: INSTANCE_QUERY_PROPERTIES.timeout.default * 1000,
      limit: INSTANCE_QUERY_PROPERTIES.limit.default,
    });
    const r = resolveOptions({ cc });
    assert.equal(r.timeoutMs, INSTANCE_QUERY_DEFAULTS.timeoutMs);
    assert.equal(r.concurrency, INSTANCE_QUERY_DEFAULTS.concurrency);
    const given = optionsFromProperties({
      instances: '1, 2',
      query: 'tactical',
      timeout: '2.5',
      limit: '10',
      allowChanges: 'true',
    });
    assert.deepEqual(given, {
      options: { instances: [1, 2], timeoutMs: 2500, limit: 10 },
      fallback: 'tactical',
      allowChanges: true,
    });
  });

  it('refuses values the engine cannot use, naming the property', () => {
    assert.throws(() => optionsFromProperties({ timeout: 0 }), refused('timeout'));
    assert.throws(() => optionsFromProperties({ timeout: 'soon' }), refused('timeout'));
    assert.throws(() => optionsFromProperties({ limit: 0 }), refused('limit'));
    assert.throws(() => optionsFromProperties({ instances: '1,x' }), refused('instances'));
    assert.throws(() => optionsFromProperties({ allowChanges: 'maybe' }), refused('allowChanges'));
    assert.throws(
      () => optionsFromProperties({ query: 'everything' }),
      (e: unknown) => e instanceof QueryError && e.code === 'ERR_QUERY_OPERATION',
    );
    assert.throws(() => resolveOptions({ cc, concurrency: 0 }), refused('concurrency'));
  });

  it('after close(reason) every call fails with that reason', async () => {
    const q = new InstanceQuery({ cc });
    await q.close('removed');
    for (const call of [() => q.run('agents', undefined), () => q.run('nothing', {})]) {
      await assert.rejects(
        call(),
        (e: unknown) =>
          e instanceof QueryError && e.code === 'ERR_QUERY_CLOSED' && e.facts.reason === 'removed',
      );
    }
    await q.close('again');
    await cc.end();
  });
});
