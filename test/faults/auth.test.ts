/**
 * Authentication faults between the Sync puller and a buffer with mutual TLS and a password:
 * a wrong password, no client certificate, a certificate from another CA, an expired client
 * certificate, an expired server certificate, no sync_ca for a buffer with a private CA. Each is
 * refused, nothing moves (buffer and incomingDir unchanged), and the puller's summary reports an
 * error; the client's coded error says which refusal it was; the right credentials work.
 *
 * A refused password is told apart from a dropped connection: on the wire the server answers a
 * wrong PASS with nothing and ends the connection itself, at once (not after its idle time), where
 * the right PASS gets `PASS OK`; the client calls only that ERR_AUTH, while a connection reset
 * right after PASS is ERR_CLOSED and a server that never answers is ERR_TIMEOUT.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { SyncPuller, type BufferSummary } from '../../lib/sync/puller';
import { TentacleClient, TentacleError } from '../../lib/tentacle/client';
import { passwordDigest } from '../../lib/tentacle/protocol';
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
    return { port: (await server.start()).port, storage };
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
    for (const s of servers) await s.close('test', 500);
    removeDir(root);
  });

  /** What the client's error says for each refusal: the code, and the facts that tell why. */
  type Expect = (e: TentacleError) => void;
  // With TLS 1.3 a refused client certificate shows after the handshake: as an alert (ERR_TLS),
  // or as the end of the connection right after PASS, which the client cannot tell from a refused
  // password and says so (ERR_AUTH naming both credentials).
  const certificateRefusal: Expect = (e) => {
    if (e.code === 'ERR_AUTH') assert.equal(e.facts.credentials, 'password, certificate');
    else assert.equal(e.code, 'ERR_TLS', e.message);
  };
  const refused: [
    string,
    () => Promise<{ port: number; storage: string; tls: TlsMaterial; password: string }>,
    Expect,
  ][] = [
    [
      'a wrong password',
      async () => ({
        ...(await buffer(good.server, good.ca.cert)),
        tls: { ca: good.ca.cert, cert: good.client.cert, key: good.client.key },
        password: 'wrong',
      }),
      (e) => {
        assert.equal(e.code, 'ERR_AUTH', e.message);
        assert.equal(e.facts.credentials, 'password, certificate');
      },
    ],
    [
      'no password',
      async () => ({
        ...(await buffer(good.server, good.ca.cert)),
        tls: { ca: good.ca.cert, cert: good.client.cert, key: good.client.key },
        password: '',
      }),
      // Its first command is not PASS: the server ends the connection without a word (a clean
      // end: no reset, no timeout).
      (e) => {
        assert.equal(e.code, 'ERR_CLOSED', e.message);
        assert.equal(e.facts.message, undefined, e.message);
      },
    ],
    [
      'no client certificate',
      async () => ({
        ...(await buffer(good.server, good.ca.cert)),
        tls: { ca: good.ca.cert },
        password: PASSWORD,
      }),
      // TLS 1.3: the server's refusal may come as an alert or as the end of the connection.
      (e) => assert.ok(e.code === 'ERR_TLS' || e.code === 'ERR_CLOSED', e.message),
    ],
    [
      'a client certificate from another CA',
      async () => ({
        ...(await buffer(good.server, good.ca.cert)),
        tls: { ca: good.ca.cert, cert: foreign.client.cert, key: foreign.client.key },
        password: PASSWORD,
      }),
      certificateRefusal,
    ],
    [
      'an expired client certificate',
      async () => ({
        // The buffer trusts both CAs, so only the dates are wrong.
        ...(await buffer(good.server, good.ca.cert + expired.ca.cert)),
        tls: { ca: good.ca.cert, cert: expired.client.cert, key: expired.client.key },
        password: PASSWORD,
      }),
      certificateRefusal,
    ],
    [
      // Issue 22: the stock client, and this puller before, skipped verification without a CA.
      'no sync_ca against a buffer certificate from a private CA',
      async () => ({
        ...(await buffer(good.server, good.ca.cert)),
        tls: { cert: good.client.cert, key: good.client.key },
        password: PASSWORD,
      }),
      (e) => {
        assert.equal(e.code, 'ERR_TLS', e.message);
        assert.equal(e.serverCertificate, true);
        assert.equal(e.facts.trust, 'system');
      },
    ],
    [
      'an expired server certificate',
      async () => ({
        ...(await buffer(expired.server, good.ca.cert)),
        tls: { ca: expired.ca.cert, cert: good.client.cert, key: good.client.key },
        password: PASSWORD,
      }),
      (e) => {
        assert.equal(e.code, 'ERR_TLS', e.message);
        assert.equal(e.serverCertificate, true);
        assert.match(String(e.facts.message), /expired/);
      },
    ],
  ];

  /** What a client with these credentials gets from the buffer, up to its first LS. */
  async function clientError(
    port: number,
    t: TlsMaterial,
    password: string,
  ): Promise<TentacleError> {
    let client: TentacleClient | null = null;
    try {
      client = await TentacleClient.connect({
        host: '127.0.0.1',
        port,
        tls: { ca: t.ca, cert: t.cert, key: t.key },
        password,
        timeout: 2,
        retries: 1,
      });
      await client.ls('');
    } catch (err) {
      assert.ok(err instanceof TentacleError, String(err));
      return err;
    } finally {
      client?.destroy();
    }
    assert.fail('the buffer let the client list');
  }

  for (const [what, setup, expect] of refused) {
    it(`refuses ${what}: nothing moves, the puller reports it, the client says why`, async () => {
      const b = await setup();
      const before = snapshot(b.storage);
      const { summary, incoming } = await pull(b.port, b.tls, b.password);
      console.log(`auth: ${what}: ${summary.error}`);
      assert.ok(summary.error, 'the round reports an error');
      assert.equal(summary.files, 0);
      expect(await clientError(b.port, b.tls, b.password));
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

  /** A mutual-TLS connection that sends `line` and records what comes back and how it ends. */
  function rawPass(
    port: number,
    line: string,
  ): Promise<{ got: string; ended: boolean; ms: number }> {
    return new Promise((resolve, reject) => {
      const t0 = Date.now();
      let got = '';
      let ended = false;
      const s = tls.connect({
        host: '127.0.0.1',
        port,
        ca: good.ca.cert,
        cert: good.client.cert,
        key: good.client.key,
      });
      s.once('secureConnect', () => s.write(line));
      s.on('data', (c: Buffer) => {
        got += c.toString('utf8');
        // The right password: the server answers and waits for a command.
        if (got.endsWith('\n')) s.end();
      });
      s.once('end', () => (ended = true));
      s.once('error', reject);
      s.once('close', () => resolve({ got, ended, ms: Date.now() - t0 }));
    });
  }

  it('on the wire: a wrong PASS gets no reply and the server ends the connection at once', async () => {
    const b = await buffer(good.server, good.ca.cert);
    const right = await rawPass(b.port, `PASS ${passwordDigest(PASSWORD)}\n`);
    assert.equal(right.got, 'PASS OK\n');
    const wrong = await rawPass(b.port, `PASS ${passwordDigest('wrong')}\n`);
    assert.equal(wrong.got, '', 'no reply to a wrong password');
    assert.ok(wrong.ended, 'the server ended the connection itself (no reset)');
    // The buffers here drop a silent client after 4 s (timeout 2, retries 1): ending well before
    // that is the refusal, not the idle limit.
    assert.ok(wrong.ms < 3000, `ended after ${wrong.ms} ms`);
  });

  it('a connection reset or a silent server after PASS is not taken for a refused password', async () => {
    // A server that resets the connection when the PASS line arrives (a middlebox dropping it),
    // and one that never answers.
    const sockets = new Set<net.Socket>();
    const resetter = net.createServer((sock) => {
      sockets.add(sock);
      sock.once('data', () => sock.resetAndDestroy());
      sock.on('error', () => undefined);
    });
    const silent = net.createServer((sock) => {
      sockets.add(sock);
      sock.on('error', () => undefined);
    });
    const listen = (srv: net.Server) =>
      new Promise<number>((resolve) =>
        srv.listen(0, '127.0.0.1', () => resolve((srv.address() as net.AddressInfo).port)),
      );
    try {
      const connect = (port: number) =>
        TentacleClient.connect({
          host: '127.0.0.1',
          port,
          password: PASSWORD,
          timeout: 1,
          retries: 0,
        });
      await assert.rejects(connect(await listen(resetter)), (e: TentacleError) => {
        assert.equal(e.code, 'ERR_CLOSED', e.message);
        assert.match(String(e.facts.message), /ECONNRESET|reset/i);
        return true;
      });
      await assert.rejects(connect(await listen(silent)), { code: 'ERR_TIMEOUT' });
      // The same client against a buffer that refuses the password: ERR_AUTH.
      const plain = join(root, `plain-${++n}`);
      mkdirSync(plain);
      const server = new TentacleServer({
        address: '127.0.0.1',
        port: 0,
        storage: plain,
        password: PASSWORD,
      });
      servers.push(server);
      const { port } = await server.start();
      await assert.rejects(TentacleClient.connect({ host: '127.0.0.1', port, password: 'wrong' }), {
        code: 'ERR_AUTH',
        facts: { address: `127.0.0.1:${port}`, credentials: 'password' },
      });
    } finally {
      for (const sock of sockets) sock.destroy();
      resetter.close();
      silent.close();
    }
  });

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
