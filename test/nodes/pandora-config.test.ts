import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { generateCertificates } from '../../lib/tls/generate';
import pandoraConfig from '../../nodes/pandora-config/pandora-config';
import type { PandoraConfigNode } from '../../nodes/pandora-config/types';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import helper from '../sync/red-helper';

describe('pandora-config node', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pandora-config-node-'));
  let db: PrivateMariaDb;
  before(async () => {
    db = await startMariaDb();
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    await db?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('merges confFile under explicit properties, owns the pool and the TLS material', async () => {
    const certs = generateCertificates({ bits: 1024, days: 10 });
    const file = (n: string, t: string) => (writeFileSync(join(dir, n), t), join(dir, n));
    const conf = file(
      'pandora_server.conf',
      [
        '# central',
        `dbhost\t${db.host}`,
        `dbport ${db.port}`,
        `dbuser ${db.user}`,
        'dbname mysql',
        'sync_address 127.0.0.1,127.0.0.1:41999',
        'sync_port 41888',
        `sync_cert ${file('c.pem', certs.client.cert)}`,
        `sync_key ${file('k.pem', certs.client.key)}`,
        `sync_ca ${file('ca.pem', certs.ca.cert)}`,
        'sync_timeout 7',
        'incomingdir /tmp/in-from-conf',
        'unknown_token 1',
      ].join('\n'),
    );
    const flow = [
      {
        id: 'c1',
        type: 'pandora-config',
        confFile: conf,
        incomingDir: join(dir, 'in'),
        syncRetries: '4',
      },
    ];
    await helper.load(pandoraConfig, flow, { c1: { dbPass: db.password } });
    const c = helper.getNode('c1') as unknown as PandoraConfigNode;
    assert.equal(c.configError, null);
    assert.equal(c.tlsError, null);
    assert.equal(c.incomingDir, join(dir, 'in'));
    assert.equal(c.dbFacts.port, db.port);
    assert.equal(c.dbFacts.password, db.password);
    assert.deepEqual(
      c.sync.buffers.map((b) => b.address),
      ['127.0.0.1:41888', '127.0.0.1:41999'],
    );
    assert.equal(c.sync.timeout, 7);
    assert.equal(c.sync.retries, 4);
    assert.match(c.tls?.cert ?? '', /BEGIN CERTIFICATE/);
    assert.ok((c.tls?.daysLeft ?? 0) >= 9);
    const pool = c.getPool();
    assert.equal(c.getPool(), pool, 'one shared pool');
    const [rows] = await pool.query('SELECT 1 AS one');
    assert.equal((rows as { one: number }[])[0].one, 1);
  });

  it('a missing confFile or bad TLS material is a node error naming the file', async () => {
    const missing = join(dir, 'absent.conf');
    const badKey = join(dir, 'no-key.pem');
    const flow = [
      { id: 'c2', type: 'pandora-config', confFile: missing },
      { id: 'c3', type: 'pandora-config', syncCert: join(dir, 'c.pem'), syncKey: badKey },
    ];
    await helper.load(pandoraConfig, flow);
    const c2 = helper.getNode('c2') as unknown as PandoraConfigNode;
    assert.match(c2.configError?.message ?? '', /absent\.conf/);
    assert.throws(() => c2.getPool(), /absent\.conf/);
    const c3 = helper.getNode('c3') as unknown as PandoraConfigNode;
    assert.equal(c3.configError, null);
    assert.match(c3.tlsError?.message ?? '', /no-key\.pem/);
    assert.equal(c3.tls, null);
  });

  it('the admin endpoint shows what a conf file says, without the password', async () => {
    const conf = join(dir, 'shown.conf');
    writeFileSync(conf, 'dbhost 10.1.1.1\ndbpass secret\nsync_address 10.2.2.2\nlog_file /x\n');
    await helper.load(pandoraConfig, []);
    const res = await helper.request().get('/pandora-sync/conf').query({ path: conf });
    assert.equal(res.status, 200);
    assert.equal(res.body.tokens.dbhost, '10.1.1.1');
    assert.equal(res.body.tokens.sync_address, '10.2.2.2');
    assert.equal(res.body.tokens.dbpass, '(set)');
    assert.deepEqual(res.body.others, ['log_file']);
    const bad = await helper
      .request()
      .get('/pandora-sync/conf')
      .query({ path: join(dir, 'x') });
    assert.equal(bad.status, 404);
    assert.match(bad.body.error, /x/);
  });
});
