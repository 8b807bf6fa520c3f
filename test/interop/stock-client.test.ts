/**
 * Pandora's own Perl `tentacle_client` (from the tree PANDORA_SOURCE names, unchanged) sending to
 * and fetching from our buffer, as agents in an isolated network do: SEND, ZSEND (`-z`), RECV
 * (`-g`), TLS with a client certificate, the password (`-x`), and each refusal as the client
 * reports it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TentacleServer, type TentacleServerOptions } from '../../lib/tentacle';
import { removeDir } from '../helpers/files';
import {
  PEERS_SKIP,
  StockTentacleServer,
  clientPemFiles,
  peerCertificates,
  peerDir,
  stockTentacleClient as client,
} from '../helpers/pandora-peers';

describe("Pandora's stock tentacle_client against our buffer", { skip: PEERS_SKIP }, () => {
  let work: string;
  const servers: TentacleServer[] = [];

  async function buffer(opts: Partial<TentacleServerOptions> = {}) {
    const storage = mkdtempSync(join(work, 'storage-'));
    const server = new TentacleServer({
      address: '127.0.0.1',
      port: 0,
      storage,
      filters: '.*\\.conf:conf;.*\\.md5:md5;.*\\.zip:collections',
      ...opts,
    });
    servers.push(server);
    const { port } = await server.start();
    return { storage, server, args: ['-a', '127.0.0.1', '-p', String(port)] };
  }
  const dataIn = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.data'));
  const same = (a: string, b: string) => readFileSync(a).equals(readFileSync(b));

  before(() => {
    work = peerDir('pandora-sync-stock-');
    writeFileSync(join(work, 'web-01.1.data'), '<agent_data agent_name="web-01"/>');
    writeFileSync(join(work, 'bin.data'), randomBytes(300_000));
    writeFileSync(
      join(work, 'xml.data'),
      `<agent_data agent_name="xml">${'<module><data>42</data></module>'.repeat(4000)}</agent_data>`,
    );
    writeFileSync(join(work, 'd41d8cd98f00b204e9800998ecf8427e.conf'), 'agent_name web-01\n');
    writeFileSync(join(work, 'empty.1.data'), '');
  });
  after(async () => {
    for (const s of servers) await s.close('done');
    if (work) removeDir(work);
  });

  it('sends several files over one connection, routed by the stock filters', async () => {
    const b = await buffer();
    const r = await client(
      [...b.args, 'web-01.1.data', 'bin.data', 'd41d8cd98f00b204e9800998ecf8427e.conf'],
      work,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(b.storage).sort(), [
      'bin.data',
      'collections',
      'conf',
      'md5',
      'web-01.1.data',
    ]);
    assert.deepEqual(readdirSync(join(b.storage, 'conf')), [
      'd41d8cd98f00b204e9800998ecf8427e.conf',
    ]);
    assert.ok(same(join(b.storage, 'bin.data'), join(work, 'bin.data')));
  });

  it('sends compressed with -z (ZSEND): the buffer stores the file as it was', async () => {
    const b = await buffer();
    const r = await client([...b.args, '-z', 'xml.data', 'bin.data'], work);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(dataIn(b.storage).sort(), ['bin.data', 'xml.data']);
    assert.ok(same(join(b.storage, 'xml.data'), join(work, 'xml.data')));
    assert.ok(same(join(b.storage, 'bin.data'), join(work, 'bin.data')));
  });

  it('is told "file already exists" without -o, and overwrites with it', async () => {
    const b = await buffer();
    assert.equal((await client([...b.args, 'web-01.1.data'], work)).code, 0);
    const again = await client([...b.args, 'web-01.1.data'], work);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /Server responded SEND ERR \(file already exists\)/);
    const o = await buffer({ overwrite: true });
    assert.equal((await client([...o.args, 'web-01.1.data'], work)).code, 0);
    assert.equal((await client([...o.args, 'web-01.1.data'], work)).code, 0);
  });

  it('gets files with -g (RECV), byte for byte, and is told when one does not exist', async () => {
    const b = await buffer();
    assert.equal((await client([...b.args, 'bin.data'], work)).code, 0);
    const get = mkdtempSync(join(work, 'get-'));
    const r = await client([...b.args, '-g', 'bin.data'], get);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(same(join(get, 'bin.data'), join(work, 'bin.data')));
    const missing = await client([...b.args, '-g', 'nope.data'], get);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /RECV ERR \(file does not exist\)/);
  });

  it('authenticates with -x, and a wrong or missing password stores nothing', async () => {
    const b = await buffer({ password: 's3cret' });
    const ok = await client([...b.args, '-x', 's3cret', 'web-01.1.data'], work);
    assert.equal(ok.code, 0, ok.stderr);
    const wrong = await client([...b.args, '-x', 'guess', 'bin.data'], work);
    assert.equal(wrong.code, 1);
    const none = await client([...b.args, 'xml.data'], work);
    assert.equal(none.code, 1);
    assert.deepEqual(dataIn(b.storage), ['web-01.1.data']);
  });

  it('sends over TLS with a client certificate from the CA (-e -k -f), and with the password', async () => {
    const certs = await peerCertificates();
    const b = await buffer({
      tls: { cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert },
      password: 's3cret',
    });
    const tls = clientPemFiles(mkdtempSync(join(work, 'tls-')), certs);
    const withCert = ['-e', tls.cert, '-k', tls.key];
    const r = await client(
      [...b.args, ...withCert, '-f', tls.ca, '-x', 's3cret', '-z', 'xml.data'],
      work,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(same(join(b.storage, 'xml.data'), join(work, 'xml.data')));
    // Without a certificate (-c: TLS only) the buffer, which verifies clients, refuses it.
    const noCert = await client([...b.args, '-c', '-x', 's3cret', 'bin.data'], work);
    assert.equal(noCert.code, 1);
    assert.deepEqual(dataIn(b.storage), ['xml.data']);
  });

  it('is refused "file is too big" past -m, and the next file of the run is not sent', async () => {
    const b = await buffer({ maxSize: 1000 });
    const r = await client([...b.args, 'bin.data', 'web-01.1.data'], work);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /SEND ERR \(file is too big\)/);
    assert.deepEqual(dataIn(b.storage), []);
  });

  it('gets the same answers from our buffer as from the stock tentacle_server', async () => {
    const opts = { password: 's3cret', maxSize: 1000 };
    const ours = await buffer(opts);
    const stock = await StockTentacleServer.start({ ...opts, overwrite: false });
    try {
      const port = ['-a', '127.0.0.1', '-p', String(stock.port)];
      const cases = [
        ['-x', 'guess', 'web-01.1.data'],
        ['web-01.1.data'],
        ['-x', 's3cret', 'bin.data'],
        ['-x', 's3cret', '-z', 'bin.data'],
        ['-x', 's3cret', 'web-01.1.data'],
        // A second time: the file exists, and neither runs with -o.
        ['-x', 's3cret', 'web-01.1.data'],
        // An empty file: SEND is refused as "too big" (the stock check is size < 1), ZSEND stores it.
        ['-x', 's3cret', 'empty.1.data'],
        ['-x', 's3cret', '-z', 'empty.1.data'],
        ['-x', 's3cret', '-g', 'nope.data'],
      ];
      for (const args of cases) {
        const theirs = await client([...port, ...args], work);
        const mine = await client([...ours.args, ...args], work);
        assert.deepEqual([mine.code, mine.stderr], [theirs.code, theirs.stderr], args.join(' '));
      }
      assert.deepEqual(dataIn(ours.storage).sort(), dataIn(stock.storage).sort());
      assert.deepEqual(dataIn(ours.storage).sort(), ['empty.1.data', 'web-01.1.data']);
    } finally {
      await stock.stop();
    }
  });

  it('is refused past the quota, with the reason, and what was held stays', async () => {
    const b = await buffer({ quotaFiles: 1 });
    assert.equal((await client([...b.args, 'web-01.1.data'], work)).code, 0);
    const r = await client([...b.args, '-z', 'xml.data'], work);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ZSEND ERR \(quota exceeded/);
    const bytes = await buffer({ quotaBytes: 100_000 });
    const big = await client([...bytes.args, 'bin.data'], work);
    assert.equal(big.code, 1);
    assert.match(big.stderr, /SEND ERR \(quota exceeded/);
    assert.deepEqual(dataIn(b.storage), ['web-01.1.data']);
    assert.deepEqual(dataIn(bytes.storage), []);
  });
});
