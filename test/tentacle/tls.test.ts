import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateCertificates, type CertificateSet } from '../../lib/tls/generate';
import { TentacleClient, TentacleError } from '../../lib/tentacle';
import { RawPeer, removeDir, startServer, type Started } from './helpers';

describe('tentacle over TLS', () => {
  let certs: CertificateSet;
  let other: CertificateSet;
  /** A server certificate naming only a DNS name, no IP. */
  let byName: CertificateSet;
  let mutual: Started;
  let optional: Started;

  before(async () => {
    certs = generateCertificates({ bits: 1024, serverNames: ['127.0.0.1', 'localhost'] });
    other = generateCertificates({ bits: 1024, caName: 'Some other CA' });
    byName = generateCertificates({ bits: 1024, serverNames: ['buffer.example'] });
    mutual = await startServer({
      tls: { cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert },
    });
    optional = await startServer({ tls: { cert: certs.server.cert, key: certs.server.key } });
  });

  after(async () => {
    for (const s of [mutual, optional]) {
      await s.server.close('test', 100);
      await removeDir(s.storage);
    }
  });

  const client = (port: number, t: Parameters<typeof TentacleClient.connect>[0]['tls']) =>
    TentacleClient.connect({ host: '127.0.0.1', port, tls: t });

  it('mutual TLS with a client cert from the CA, server verified by IP', async () => {
    const c = await client(mutual.port, { ...certs.client, ca: certs.ca.cert });
    await c.send('tls.data', Buffer.from('secure'));
    assert.deepEqual(
      (await c.ls('')).filter((n) => n.endsWith('.data')),
      ['tls.data'],
    );
    await c.quit();
  });

  it('no client cert against a required one fails', async () => {
    await assert.rejects(
      async () => {
        const c = await client(mutual.port, { ca: certs.ca.cert });
        await c.ls('');
      },
      (e: { code?: string }) => e.code === 'ERR_TLS' || e.code === 'ERR_CLOSED',
    );
  });

  it('a client cert from another CA fails', async () => {
    await assert.rejects(
      async () => {
        const c = await client(mutual.port, { ...other.client, ca: certs.ca.cert });
        await c.ls('');
      },
      (e: { code?: string }) => e.code === 'ERR_TLS' || e.code === 'ERR_CLOSED',
    );
  });

  it('server verification fails on the wrong CA and on a hostname mismatch', async () => {
    await assert.rejects(client(mutual.port, { ...certs.client, ca: other.ca.cert }), {
      code: 'ERR_TLS',
    });
    await assert.rejects(
      client(mutual.port, { ...certs.client, ca: certs.ca.cert, servername: 'wrong.example' }),
      { code: 'ERR_TLS' },
    );
  });

  it('without -f: no client cert works; a private-CA client cert is refused', async () => {
    const c = await client(optional.port, { ca: certs.ca.cert });
    await c.send('nocert.data', Buffer.from('x'));
    await c.quit();
    await assert.rejects(
      async () => {
        const d = await client(optional.port, { ...certs.client, ca: certs.ca.cert });
        await d.ls('');
      },
      (e: { code?: string }) => e.code === 'ERR_TLS' || e.code === 'ERR_CLOSED',
    );
  });

  it('without a CA the server is verified against the system CAs: a private CA is refused', async () => {
    // Before issue 22 this connected unverified and the SEND went through.
    for (const t of [{}, { ...certs.client }]) {
      await assert.rejects(client(optional.port, t), (e: TentacleError) => {
        assert.equal(e.code, 'ERR_TLS');
        assert.equal(e.serverCertificate, true);
        assert.equal(
          e.facts.trust,
          'system',
          'the facts say what the certificate was checked against',
        );
        return true;
      });
    }
  });

  it('the server certificate must name the IP connected to', async () => {
    const named = await startServer({
      tls: { cert: byName.server.cert, key: byName.server.key },
    });
    try {
      await assert.rejects(client(named.port, { ca: byName.ca.cert }), (e: TentacleError) => {
        assert.equal(e.code, 'ERR_TLS');
        assert.equal(e.serverCertificate, true);
        assert.match(e.message, /127\.0\.0\.1/);
        return true;
      });
      const c = await client(named.port, { ca: byName.ca.cert, servername: 'buffer.example' });
      await c.quit();
    } finally {
      await named.server.close('test', 100);
      await removeDir(named.storage);
    }
  });

  it('a plaintext client to a TLS server is closed', async () => {
    const raw = await RawPeer.connect(mutual.port);
    raw.write('LS <>\n');
    await raw.closed;
    assert.ok(!raw.buffered().startsWith('LS'));
    await assert.rejects(async () => {
      const c = await TentacleClient.connect({ host: '127.0.0.1', port: optional.port });
      await c.ls('');
    });
  });
});
