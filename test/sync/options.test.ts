/** tentacle-pull's options and address matching, without sockets. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveBufferAddresses } from '../../lib/sync/addresses';
import { SyncError } from '../../lib/sync/errors';
import {
  SYNC_DEFAULTS,
  TENTACLE_PULL_PROPERTIES,
  optionsFromProperties,
  resolveOptions,
} from '../../lib/sync/options';

const coded = (code: string) => (err: unknown) => err instanceof SyncError && err.code === code;

describe('tentacle-pull options', () => {
  it('applies the defaults field by field, an explicit undefined included', () => {
    const o = resolveOptions({
      buffers: [],
      incomingDir: '/tmp/in/data_in',
      pattern: /x/,
      concurrency: undefined,
    });
    assert.equal(o.concurrency, TENTACLE_PULL_PROPERTIES.concurrency.default);
    assert.equal(o.connections, 8);
    assert.equal(o.intervalMs, 5000);
    assert.equal(o.connectTimeoutMs, SYNC_DEFAULTS.timeout * 1000);
    assert.equal(o.journalPath, '/tmp/in/.pandora-sync/data_in.journal');
    assert.throws(
      () => resolveOptions({ buffers: [], incomingDir: '/x', pattern: /x/, connections: 0 }),
      coded('ERR_SYNC_OPTION'),
    );
  });

  it('reads the node properties: seconds to ms, strings to numbers, refusals coded', () => {
    const o = optionsFromProperties({ interval: '2', concurrency: '', safe: 'false' });
    assert.equal(o.intervalMs, 2000);
    assert.equal(o.concurrency, 4);
    assert.equal(o.safe, false);
    assert.equal(o.pattern.source, '\\.data$');
    assert.throws(
      () => optionsFromProperties({ connections: 65 }),
      (err: unknown) => {
        assert.ok(err instanceof SyncError);
        assert.deepEqual(err.facts, { name: 'connections', value: 65, min: 1, max: 64 });
        return true;
      },
    );
    assert.throws(() => optionsFromProperties({ deliver: 'ftp' }), coded('ERR_SYNC_DELIVER'));
    assert.throws(() => optionsFromProperties({ pattern: '(' }), coded('ERR_SYNC_PATTERN'));
    assert.throws(() => optionsFromProperties({ safe: 'maybe' }), coded('ERR_SYNC_BOOLEAN'));
  });
});

describe('msg.address matching', () => {
  const buffers = [
    { host: 'a.example', port: 41121, address: 'a.example:41121' },
    { host: '10.0.0.1', port: 41122, address: '10.0.0.1:41122' },
    { host: '10.0.0.1', port: 41123, address: '10.0.0.1:41123' },
  ];
  it('host:port names one buffer, a bare host every buffer on it, empty every buffer', () => {
    assert.deepEqual(resolveBufferAddresses('10.0.0.1:41122', buffers), ['10.0.0.1:41122']);
    assert.deepEqual(resolveBufferAddresses('10.0.0.1', buffers), [
      '10.0.0.1:41122',
      '10.0.0.1:41123',
    ]);
    // A bare host takes the first buffer's port: where that names a buffer, that one only.
    assert.deepEqual(resolveBufferAddresses('a.example', buffers), ['a.example:41121']);
    assert.equal(resolveBufferAddresses('  ', buffers), undefined);
  });
  it('a name of no buffer is ERR_SYNC_ADDRESS', () => {
    assert.throws(() => resolveBufferAddresses('10.0.0.9', buffers), coded('ERR_SYNC_ADDRESS'));
    assert.throws(() => resolveBufferAddresses('x:notaport', buffers), coded('ERR_SYNC_ADDRESS'));
  });
});
