/**
 * `pullers` (issue 22): only the listed client certificates (subject CN or SHA-256 fingerprint)
 * may take files from a buffer; everyone else may only SEND/ZSEND and, for any other command,
 * gets what the stock server gives an LS or MV without -I: no reply, the connection closed.
 * Real TLS sockets on 127.0.0.1; our client and the stock Perl tentacle_client (PANDORA_SOURCE).
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { TentacleClient, TentacleServer, normalizeFingerprint } from '../../lib/tentacle';
import { generateCertificatesAsync, type CertificateSet } from '../../lib/tls/generate';
import { clientPemFiles, peerDir, PEERS_SKIP, stockTentacleClient } from '../helpers/pandora-peers';
import { removeDir, startServer, type Started } from './helpers';

/**
 * What a TLS client gets back for one raw line: the bytes up to the first LF (then it hangs up
 * itself), or all it got before the server hung up.
 */
function rawLine(port: number, set: CertificateSet, ca: string, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({
      host: '127.0.0.1',
      port,
      ca,
      cert: set.client.cert,
      key: set.client.key,
    });
    let got = '';
    s.on('secureConnect', () => s.write(line));
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\n')) s.destroy();
    });
    s.on('error', reject);
    s.on('close', () => resolve(got));
    setTimeout(() => reject(new Error(`no close after ${JSON.stringify(line)}`)), 10_000).unref();
  });
}

describe('buffer pullers: who may take files', () => {
  /** The central Sync server's set: its CA signs the buffer and the puller's certificate. */
  let central: CertificateSet;
  /** An agent's set from a second CA the buffer also trusts: a valid client, not a puller. */
  let agent: CertificateSet;
  let byCn: Started;
  let byFingerprint: Started;
  let open: Started;

  const connect = (port: number, set: CertificateSet) =>
    TentacleClient.connect({
      host: '127.0.0.1',
      port,
      tls: { cert: set.client.cert, key: set.client.key, ca: central.ca.cert },
    });

  before(async () => {
    // 2048 bits: the stock client's OpenSSL refuses smaller keys.
    [central, agent] = await Promise.all([
      generateCertificatesAsync({ clientName: 'sync-central' }),
      generateCertificatesAsync({ caName: 'Agents CA', clientName: 'web-01' }),
    ]);
    const tlsOpts = {
      cert: central.server.cert,
      key: central.server.key,
      ca: central.ca.cert + agent.ca.cert,
    };
    const fp = new X509Certificate(central.client.cert).fingerprint256;
    byCn = await startServer({ tls: tlsOpts, pullers: ['some-other', ' sync-central '] });
    // Lowercase without colons: the form `openssl x509 -fingerprint` does not print.
    byFingerprint = await startServer({
      tls: tlsOpts,
      pullers: [fp.replace(/:/g, '').toLowerCase()],
    });
    open = await startServer({ tls: tlsOpts });
    for (const s of [byCn, byFingerprint, open]) {
      writeFileSync(join(s.storage, 'held.data'), 'held by the buffer');
    }
  });

  after(async () => {
    for (const s of [byCn, byFingerprint, open]) {
      await s.server.close('test', 100);
      await removeDir(s.storage);
    }
  });

  it('a puller named by CN or by fingerprint may LS, RECV, ZRECV and MV', async () => {
    for (const s of [byCn, byFingerprint]) {
      const c = await connect(s.port, central);
      assert.deepEqual(
        (await c.ls('')).filter((n) => n.endsWith('.data')),
        ['held.data'],
      );
      let text = '';
      await c.recv('held.data', async (d) => {
        for await (const chunk of d) text += String(chunk);
      });
      assert.equal(text, 'held by the buffer');
      await c.zrecv('held.data', async (d) => {
        for await (const chunk of d) void chunk;
      });
      await c.send('from-central.data', Buffer.from('x'));
      await c.quit();
    }
  });

  it('any other client may SEND and ZSEND, and is hung up on without a reply otherwise', async () => {
    const refused: { command: string; client: string }[] = [];
    byCn.server.on('refused', (r) => refused.push(r));
    const c = await connect(byCn.port, agent);
    await c.send('web-01.1.data', Buffer.from('<agent_data/>'));
    await c.zsend('web-01.2.data', Buffer.from('<agent_data/>'));
    await c.quit();
    assert.ok(existsSync(join(byCn.storage, 'web-01.1.data')));
    assert.ok(existsSync(join(byCn.storage, 'web-01.2.data')));
    for (const line of [
      'LS <>\n',
      'RECV <held.data>\n',
      'ZRECV <held.data>\n',
      'MV <held.data>\n',
    ]) {
      // The stock server's answer to LS/MV without -I: nothing at all, then the close; the same
      // line from the puller gets its offer.
      assert.equal(await rawLine(byCn.port, agent, central.ca.cert, line), '', line);
      assert.match(
        await rawLine(byCn.port, central, central.ca.cert, line),
        /^(LS|RECV|ZRECV|MV) SIZE \d+\n$/,
        `${line} from the puller`,
      );
    }
    assert.equal(
      await rawLine(byCn.port, agent, central.ca.cert, 'SEND <raw.data> SIZE 1\n'),
      'SEND OK\n',
      'the same raw client may SEND',
    );
    // Our client sees the close.
    const d = await connect(byCn.port, agent);
    await assert.rejects(d.ls(''), { code: 'ERR_CLOSED' });
    assert.ok(existsSync(join(byCn.storage, 'held.data')), 'nothing taken');
    assert.deepEqual([...new Set(refused.map((r) => `${r.command} ${r.client}`))].sort(), [
      'LS web-01',
      'MV web-01',
      'RECV web-01',
      'ZRECV web-01',
    ]);
    // The fingerprint list refuses the agent too; the open buffer (empty pullers) serves it.
    assert.equal(await rawLine(byFingerprint.port, agent, central.ca.cert, 'LS <>\n'), '');
    const e = await connect(open.port, agent);
    assert.ok((await e.ls('')).includes('held.data'));
    await e.quit();
  });

  it('pullers without a CA is a configuration error; a fingerprint is read in any case, with or without colons', () => {
    const cert = { cert: central.server.cert, key: central.server.key };
    const storage = mkdtempSync(join(tmpdir(), 'pullers-'));
    try {
      assert.throws(() => new TentacleServer({ storage, pullers: ['sync-central'] }), {
        code: 'ERR_PULLERS_NEED_CA',
      });
      assert.throws(() => new TentacleServer({ storage, pullers: ['sync-central'], tls: cert }), {
        code: 'ERR_PULLERS_NEED_CA',
      });
      assert.throws(
        () =>
          new TentacleServer({ storage, pullers: [' '], tls: { ...cert, ca: central.ca.cert } }),
        { code: 'ERR_PULLERS_EMPTY' },
      );
    } finally {
      rmSync(storage, { recursive: true, force: true });
    }
    const fp = new X509Certificate(central.client.cert).fingerprint256;
    const want = fp.replace(/:/g, '').toLowerCase();
    for (const form of [fp, fp.toLowerCase(), want, want.toUpperCase()]) {
      assert.equal(normalizeFingerprint(form), want, form);
    }
    assert.equal(normalizeFingerprint('sync-central'), null);
    assert.equal(normalizeFingerprint(want.slice(2)), null);
  });

  it(
    "the stock tentacle_client: a non-puller's SEND works, its RECV (-g) is refused",
    { skip: PEERS_SKIP },
    async () => {
      const work = peerDir('pullers-stock-');
      try {
        // The agent's certificate, and the CA that signed the buffer's.
        const pem = clientPemFiles(work, { ...agent, ca: central.ca });
        const tlsArgs = ['-e', pem.cert, '-k', pem.key, '-f', pem.ca];
        writeFileSync(join(work, 'web-02.1.data'), '<agent_data agent_name="web-02"/>');
        const run = (args: string[]) =>
          stockTentacleClient(['-p', String(byCn.port), ...tlsArgs, ...args], work);
        const sent = await run(['web-02.1.data']);
        assert.equal(sent.code, 0, sent.stderr);
        assert.ok(existsSync(join(byCn.storage, 'web-02.1.data')));
        const got = await run(['-g', 'held.data']);
        console.log(`pullers: stock client -g as a non-puller: exit ${got.code}: ${got.stderr}`);
        assert.notEqual(got.code, 0);
        assert.ok(!readdirSync(work).includes('held.data'), 'nothing downloaded');
        assert.ok(existsSync(join(byCn.storage, 'held.data')), 'nothing taken');
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
  );
});
