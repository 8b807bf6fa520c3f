/**
 * Authentication faults between the Sync puller and a buffer with mutual TLS and a password:
 * a wrong password, no client certificate, a certificate from another CA, an expired client
 * certificate, an expired server certificate, no sync_ca for a buffer with a private CA. Each is
 * refused, nothing moves (buffer and incomingDir unchanged), and the puller's summary says why;
 * the right credentials work.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SyncPuller, type BufferSummary } from '../../lib/sync/puller';
import { TentacleServer } from '../../lib/tentacle/server';
import { generateCertificates, type CertificateSet } from '../../lib/tls/generate';
import type { TlsMaterial } from '../../lib/tls/material';
import { removeDir, snapshot, tempDir } from './util';

const PASSWORD = 's3cret';
const FILES = 20;

describe('authentication faults between puller and buffer', { timeout: 120_000 }, () => {
  const root = tempDir('fault-auth-');
  let good: CertificateSet;
  let foreign: CertificateSet;
  let expired: CertificateSet;
  const servers: TentacleServer[] = [];
  let n = 0;

  async function buffer(
    serverPair: { cert: string; key: string },
    ca: string,
  ): Promise<{ port: number; storage: string }> {
    const storage = join(root, `buffer-${++n}`);
    mkdirSync(storage);
    for (let i = 0; i < FILES; i++) writeFileSync(join(storage, `a.${i}.data`), `data ${i}`);
    const server = new TentacleServer({
      address: '127.0.0.1',
      port: 0,
      storage,
      password: PASSWORD,
      tls: { cert: serverPair.cert, key: serverPair.key, ca },
      timeout: 2,
      retries: 1,
    });
    servers.push(server);
    return { port: (await server.listen()).port, storage };
  }

  async function pull(
    port: number,
    tls: TlsMaterial,
    password: string,
  ): Promise<{ summary: BufferSummary; incoming: string }> {
    const incoming = join(root, `incoming-${++n}`);
    const puller = new SyncPuller({
      buffers: [{ host: '127.0.0.1', port, address: `127.0.0.1:${port}` }],
      incomingDir: incoming,
      pattern: /\.data$/,
      tls,
      password,
      timeout: 2,
      retries: 1,
    });
    try {
      const [summary] = await puller.requestRound();
      return { summary, incoming };
    } finally {
      await puller.close();
    }
  }

  before(() => {
    const t0 = Date.now();
    good = generateCertificates({ bits: 1024 });
    foreign = generateCertificates({ bits: 1024, caName: 'Someone else CA' });
    // Valid for 30 days, a year ago.
    expired = generateCertificates({
      bits: 1024,
      caName: 'Expired CA',
      notBefore: new Date(Date.now() - 400 * 86_400_000),
      days: 30,
    });
    console.log(`auth: three certificate sets made in ${Date.now() - t0} ms`);
  });

  after(async () => {
    for (const s of servers) await s.close(500);
    removeDir(root);
  });

  const refused: [
    string,
    () => Promise<{ port: number; storage: string; tls: TlsMaterial; password: string }>,
    RegExp,
  ][] = [
    [
      'a wrong password',
      async () => ({
        ...(await buffer(good.server, good.ca.cert)),
        tls: { ca: good.ca.cert, cert: good.client.cert, key: good.client.key },
        password: 'wrong',
      }),
      /password/i,
    ],
    [
      'no password',
      async () => ({
        ...(await buffer(good.server, good.ca.cert)),
        tls: { ca: good.ca.cert, cert: good.client.cert, key: good.client.key },
        password: '',
      }),
      /closed|refused|password/i,
    ],
    [
      'no client certificate',
      async () => ({
        ...(await buffer(good.server, good.ca.cert)),
        tls: { ca: good.ca.cert },
        password: PASSWORD,
      }),
      /certificate|tls|ssl|alert|closed|reset/i,
    ],
    [
      'a client certificate from another CA',
      async () => ({
        ...(await buffer(good.server, good.ca.cert)),
        tls: { ca: good.ca.cert, cert: foreign.client.cert, key: foreign.client.key },
        password: PASSWORD,
      }),
      /certificate|tls|ssl|alert/i,
    ],
    [
      'an expired client certificate',
      async () => ({
        // The buffer trusts both CAs, so only the dates are wrong.
        ...(await buffer(good.server, good.ca.cert + expired.ca.cert)),
        tls: { ca: good.ca.cert, cert: expired.client.cert, key: expired.client.key },
        password: PASSWORD,
      }),
      /certificate|expired|tls|ssl|alert/i,
    ],
    [
      // Issue 22: the stock client, and this puller before, skipped verification without a CA.
      'no sync_ca against a buffer certificate from a private CA',
      async () => ({
        ...(await buffer(good.server, good.ca.cert)),
        tls: { cert: good.client.cert, key: good.client.key },
        password: PASSWORD,
      }),
      /system's trusted CAs.*set sync_ca \(syncCa\) to the CA or self-signed certificate/,
    ],
    [
      'an expired server certificate',
      async () => ({
        ...(await buffer(expired.server, good.ca.cert)),
        tls: { ca: expired.ca.cert, cert: good.client.cert, key: good.client.key },
        password: PASSWORD,
      }),
      /certificate|expired/i,
    ],
  ];

  for (const [what, setup, why] of refused) {
    it(`refuses ${what}: nothing moves, the puller says why`, async () => {
      const b = await setup();
      const before = snapshot(b.storage);
      const { summary, incoming } = await pull(b.port, b.tls, b.password);
      console.log(`auth: ${what}: ${summary.error}`);
      assert.ok(summary.error, 'the round reports an error');
      assert.match(summary.error, why);
      assert.equal(summary.files, 0);
      assert.deepEqual(snapshot(b.storage), before, 'the buffer is unchanged');
      let delivered: string[] = [];
      try {
        delivered = readdirSync(incoming);
      } catch {
        // never created: nothing delivered either
      }
      assert.deepEqual(delivered, [], 'nothing in incomingDir');
    });
  }

  it('with the right password and certificates, every file moves', async () => {
    const b = await buffer(good.server, good.ca.cert);
    const { summary, incoming } = await pull(
      b.port,
      { ca: good.ca.cert, cert: good.client.cert, key: good.client.key },
      PASSWORD,
    );
    assert.equal(summary.error, null);
    assert.equal(summary.files, FILES);
    assert.equal(readdirSync(incoming).length, FILES);
    assert.deepEqual(readdirSync(b.storage), []);
  });
});
