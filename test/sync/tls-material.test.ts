import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generateCertificates } from '../../lib/tls/generate';
import { readTlsMaterial } from '../../lib/tls/material';

describe('sync TLS material', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sync-tls-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const good = generateCertificates({ bits: 1024, days: 30 });
  const other = generateCertificates({ bits: 1024 });
  const expired = generateCertificates({
    bits: 1024,
    days: 1,
    notBefore: new Date(Date.now() - 10 * 86_400_000),
  });
  const future = generateCertificates({
    bits: 1024,
    notBefore: new Date(Date.now() + 10 * 86_400_000),
  });
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const ca = file('ca.pem', good.ca.cert);
  const cert = file('cert.pem', good.client.cert);
  const key = file('key.pem', good.client.key);

  it('reads matching material and reports the days left', () => {
    const m = readTlsMaterial({ ca, cert, key });
    assert.match(m.cert ?? '', /BEGIN CERTIFICATE/);
    assert.match(m.key ?? '', /PRIVATE KEY/);
    assert.match(m.ca ?? '', /BEGIN CERTIFICATE/);
    assert.ok(m.notAfter instanceof Date);
    assert.ok(m.daysLeft === 29 || m.daysLeft === 30, `daysLeft ${m.daysLeft}`);
    assert.deepEqual(readTlsMaterial({}), {});
  });

  it('names the file at fault', () => {
    const missing = join(dir, 'missing.pem');
    assert.throws(
      () => readTlsMaterial({ cert: missing, key }),
      (e: Error) => e.message.includes(missing),
    );
    const notPem = file('notpem.pem', 'hello');
    assert.throws(
      () => readTlsMaterial({ cert: notPem, key }),
      (e: Error) => e.message.includes(notPem) && /not a PEM certificate/.test(e.message),
    );
    const otherKey = file('other-key.pem', other.client.key);
    assert.throws(
      () => readTlsMaterial({ cert, key: otherKey }),
      (e: Error) => e.message.includes(cert) && /does not match/.test(e.message),
    );
    const old = file('old.pem', expired.client.cert);
    const oldKey = file('old-key.pem', expired.client.key);
    assert.throws(
      () => readTlsMaterial({ cert: old, key: oldKey }),
      (e: Error) => e.message.includes(old) && /expired/.test(e.message),
    );
    const early = file('early.pem', future.ca.cert);
    assert.throws(
      () => readTlsMaterial({ ca: early }),
      (e: Error) => e.message.includes(early) && /not valid yet/.test(e.message),
    );
    assert.throws(() => readTlsMaterial({ cert }), /sync_key is empty/);
  });
});
