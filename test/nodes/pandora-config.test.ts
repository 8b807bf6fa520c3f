import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { generateCertificates } from '../../lib/tls/generate';
import pandoraConfig from '../../nodes/pandora-config/pandora-config';
import type { PandoraConfigNode } from '../../nodes/pandora-config/types';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import helper, { type ReplyBody } from '../helpers/red-helper';
import { withCatalogue } from './catalogue';
import { certText } from '../../nodes/shared/status';

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

  it('speaks the runtime language: conf file errors and the shared status words (es-ES)', async () => {
    const missing = join(dir, 'ausente.conf');
    await helper.load(withCatalogue(pandoraConfig, 'pandora-config', 'es-ES'), [
      { id: 'c4', type: 'pandora-config', confFile: missing },
    ]);
    const errors = helper
      .log()
      .args.filter(([e]) => e.level === 20 && e.id === 'c4')
      .map(([e]) => String(e.msg));
    assert.deepEqual(errors, [
      `pandora-config: no se puede leer el pandora_server.conf "${missing}": el fichero no existe`,
    ]);
    assert.equal(certText(-1), 'cert. caducado');
    assert.equal(certText(12), 'cert. 12 d');
    // Back to English for the other tests of this process.
    await helper.unload();
    await helper.load(withCatalogue(pandoraConfig, 'pandora-config', 'en-US'), []);
    assert.equal(certText(12), 'cert 12 d');
  });

  it('the conf preview shows what a pandora_server.conf says, without the password', async () => {
    const conf = join(dir, 'shown.conf');
    writeFileSync(conf, 'dbhost 10.1.1.1\ndbpass secret\nsync_address 10.2.2.2\nlog_file /x\n');
    await helper.load(withCatalogue(pandoraConfig, 'pandora-config'), []);
    const res = await previewConf(conf);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.tokens, {
      dbhost: '10.1.1.1',
      dbpass: '(set)',
      sync_address: '10.2.2.2',
    });
    assert.equal(res.body.others, undefined, 'unknown tokens are not named');
    assert.doesNotMatch(JSON.stringify(res.body), /secret|log_file/);
  });

  it('the conf preview reveals nothing of a file that is not a pandora_server.conf', async () => {
    const secret = join(dir, 'secret.txt');
    writeFileSync(secret, 'hunter2 is the password\nroot:x:0:0:root:/root:/bin/bash\n');
    await helper.load(withCatalogue(pandoraConfig, 'pandora-config'), []);
    const get = await helper.request().get('/pandora-sync/conf').query({ path: secret });
    const post = await previewConf(secret);
    for (const res of [get, post]) {
      assert.doesNotMatch(JSON.stringify(res.body), /hunter2|root|bash/);
    }
    assert.equal(post.status, 422);
    assert.match(post.body.error, /does not look like a pandora_server\.conf/);
  });

  it('the conf preview refuses what is not a regular, reasonably sized file', async () => {
    await helper.load(withCatalogue(pandoraConfig, 'pandora-config'), []);
    const big = join(dir, 'big.conf');
    writeFileSync(big, `dbhost 10.0.0.1\n${'# padding\n'.repeat(120_000)}`);
    const fifo = join(dir, 'fifo.conf');
    execFileSync('mkfifo', [fifo]);
    const cases: [unknown, number, RegExp][] = [
      [dir, 422, /not a regular file/],
      [fifo, 422, /not a regular file/],
      ['/dev/zero', 422, /not a regular file/],
      [big, 422, /larger than 1 MiB/],
      [join(dir, 'absent.conf'), 404, /not found/],
      ['relative/pandora_server.conf', 400, /absolute path/],
      ['', 400, /no path/],
      [['/etc/passwd'], 400, /no path/],
      ['/etc/passwd\0.conf', 400, /absolute path/],
    ];
    for (const [path, status, error] of cases) {
      const res = await previewConf(path);
      assert.equal(res.status, status, `${JSON.stringify(path)}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.error, error);
      assert.equal(res.body.tokens, undefined);
    }
  });
});

/** The dialog's "Show" button: a POST with the path in a JSON body. */
async function previewConf(path: unknown): Promise<{ status: number; body: ReplyBody }> {
  const request = helper.request() as unknown as {
    post(p: string): { send(body: object): Promise<{ status: number; body: ReplyBody }> };
  };
  return request.post('/pandora-sync/conf').send({ path });
}
