import assert from 'node:assert/strict';
import { ReplicateError } from '../../lib/replicate';
import { words } from './words';
import { describe, it } from 'node:test';
import {
  isLoopback,
  parseDbAddress,
  replicationFacts,
} from '../../lib/replicate/replication-tokens';

const cc = {
  host: '127.0.0.1',
  port: 3307,
  database: 'pandora_cc',
  user: 'pandora',
  password: 'pw',
};

/** Throws a coded failure whose en-US words match `re`. */
function throwsWords(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof ReplicateError && re.test(words(err)));
}

describe('metaconsole-replicate: the node tokens that point a console at the Command Center', () => {
  it('reads ccDbAddress as host, host:port or [v6]:port and refuses anything else', () => {
    assert.deepEqual(parseDbAddress(''), null);
    assert.deepEqual(parseDbAddress(' cc-db.example '), { host: 'cc-db.example' });
    assert.deepEqual(parseDbAddress('10.0.0.5:3306'), { host: '10.0.0.5', port: 3306 });
    assert.deepEqual(parseDbAddress('[fd00::5]:3307'), { host: 'fd00::5', port: 3307 });
    assert.deepEqual(parseDbAddress('fd00::5'), { host: 'fd00::5' });
    throwsWords(
      () => parseDbAddress('db:99999'),
      /ccDbAddress "db:99999": the port must be 1-65535/,
    );
    throwsWords(() => parseDbAddress('db:x'), /the port must be/);
    throwsWords(() => parseDbAddress('db/evil'), /not a host name or address/);
  });

  it('knows loopback names and addresses', () => {
    for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]', '::ffff:127.0.0.1']) {
      assert.equal(isLoopback(h), true, h);
    }
    for (const h of ['10.0.0.1', 'cc.example', 'fd00::1', '128.0.0.1']) {
      assert.equal(isLoopback(h), false, h);
    }
  });

  it('takes the registry row first, then ccDbAddress, then the config unless it is loopback', () => {
    assert.deepEqual(
      replicationFacts(
        { meta_dbhost: 'meta.example', meta_dbport: '3310', meta_dbuser: 'ro', meta_dbpass: '' },
        cc,
        { host: 'ignored' },
      ),
      { host: 'meta.example', port: 3310, database: 'pandora_cc', user: 'ro', password: '' },
    );
    assert.deepEqual(replicationFacts({}, cc, { host: '10.0.0.5' }), {
      ...cc,
      host: '10.0.0.5',
    });
    assert.deepEqual(replicationFacts({ meta_dbhost: ' ' }, { ...cc, host: '10.1.1.1' }, null), {
      ...cc,
      host: '10.1.1.1',
    });
    throwsWords(() => replicationFacts({}, cc, null), /loopback address.*set ccDbAddress/);
  });

  it('writes the first host of a Galera dbHost list, and judges loopback on it', () => {
    const list = { ...cc, host: '10.1.1.1:3307,10.1.1.2,10.1.1.3' };
    assert.deepEqual(replicationFacts({}, list, null), { ...cc, host: '10.1.1.1', port: 3307 });
    throwsWords(
      () => replicationFacts({}, { ...cc, host: '127.0.0.1:3307,10.1.1.2' }, null),
      /"127\.0\.0\.1" is a loopback address/,
    );
  });
});
