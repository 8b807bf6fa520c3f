/**
 * MySQL over TLS (pandora-config dbTls, dbCa, dbCert, dbKey) against a MariaDB started with its
 * own certificates and require_secure_transport=ON: with TLS on, event-pull, metaconsole-replicate
 * and instance-query work (the Command Center and every Instance over TLS); with it off, or with
 * the wrong CA, or against a server without TLS, the error says which property to change.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Node, NodeMessage } from 'node-red';
import { createPool } from '../../lib/db/pool';
import { InstanceRegistry } from '../../lib/db/registry';
import { dbSsl } from '../../lib/db/tls';
import { generateCertificatesAsync } from '../../lib/tls/generate';
import eventPullModule from '../../nodes/event-pull/event-pull';
import instanceQueryModule from '../../nodes/instance-query/instance-query';
import metaconsoleReplicateModule from '../../nodes/metaconsole-replicate/metaconsole-replicate';
import pandoraConfig from '../../nodes/pandora-config/pandora-config';
import {
  createCommandCenter,
  createInstance as createEventInstance,
  insertEvents,
} from '../events/fixtures/pandora';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import helper from '../helpers/red-helper';
import { waitFor } from '../helpers/wait';
import { withCatalogue } from '../nodes/catalogue';
import { createInstance as createQueryInstance } from '../query/fixtures/pandora';
import { makeSite, seedCc } from '../replicate/fixture';

const eventPull = withCatalogue(eventPullModule, 'event-pull');
const instanceQuery = withCatalogue(instanceQueryModule, 'instance-query');
const metaconsoleReplicate = withCatalogue(metaconsoleReplicateModule, 'metaconsole-replicate');

/** The test helper records every call of a node's methods as `call:<name>` events. */
interface Spied {
  on(event: string, f: (call: { args: unknown[] }) => void): void;
}

/** The texts of the errors a node reports from now on. */
function errorsOf(node: Node): string[] {
  const out: string[] = [];
  (node as unknown as Spied).on('call:error', (call) => {
    const e = call.args[0];
    out.push(e instanceof Error ? e.message : String(e));
  });
  return out;
}

function next(node: Node, ms = 30_000): Promise<NodeMessage & { payload: unknown }> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no message')), ms);
    node.once('input', (msg: NodeMessage) => {
      clearTimeout(t);
      resolve(msg as NodeMessage & { payload: unknown });
    });
  });
}

describe('MySQL over TLS (dbTls) against a MariaDB with require_secure_transport=ON', () => {
  let db: PrivateMariaDb;
  let dir: string;
  const files = { ca: '', otherCa: '', clientCert: '', clientKey: '', missing: '' };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pandora-sync-dbtls-'));
    const [set, other] = await Promise.all([
      generateCertificatesAsync({ serverNames: ['127.0.0.1'], caName: 'Database CA' }),
      generateCertificatesAsync({ caName: 'Some other CA' }),
    ]);
    const write = (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text, { mode: 0o600 });
      return path;
    };
    files.ca = write('ca.pem', set.ca.cert);
    files.otherCa = write('other-ca.pem', other.ca.cert);
    files.clientCert = write('client-cert.pem', set.client.cert);
    files.clientKey = write('client-key.pem', set.client.key);
    files.missing = join(dir, 'no-such-ca.pem');
    db = await startMariaDb({
      tls: {
        ca: files.ca,
        cert: write('server-cert.pem', set.server.cert),
        key: write('server-key.pem', set.server.key),
        requireSecureTransport: true,
      },
    });
    // Fixtures reach the server over TLS (db.facts carries its CA).
    await createEventInstance(db, 'ev_a');
    await createCommandCenter(db, 'ev_cc', [
      { id: 1, name: 'alpha', port: db.port, dbname: 'ev_a' },
    ]);
    const a = await db.connect('ev_a');
    await insertEvents(a, 30);
    await a.end();
    await createCommandCenter(db, 'cl_cc', [
      { id: 1, name: 'alpha', port: db.port, dbname: 'ev_a' },
    ]);
    await createQueryInstance(db, 'q_a', 1);
    await createCommandCenter(db, 'q_cc', [{ id: 1, name: 'alpha', port: db.port, dbname: 'q_a' }]);
    const site = await makeSite(db, [{ db, name: 'r_n1' }], 'r_cc');
    await seedCc(site.cc);
    await site.cc.end();
    for (const p of site.nodes) await p.end();
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    await db?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const config = (dbName: string, tls: Record<string, unknown>) => ({
    id: 'cfg',
    type: 'pandora-config',
    dbHost: db.host,
    dbPort: String(db.port),
    dbName,
    dbUser: db.user,
    ...tls,
  });
  const pullFlow = (tls: Record<string, unknown>) => [
    config('ev_cc', tls),
    {
      id: 'pull',
      type: 'event-pull',
      config: 'cfg',
      instances: '',
      interval: 0,
      batchSize: '100',
      mode: 'all',
      writeBack: 'false',
      wires: [['out']],
    },
    { id: 'out', type: 'helper' },
  ];
  const creds = { cfg: { dbPass: '' } };

  it('event-pull copies over TLS from the Command Center and the Instance', async () => {
    await helper.load([pandoraConfig, eventPull], pullFlow({ dbTls: true, dbCa: files.ca }), creds);
    const pull = helper.getNode('pull') as Node;
    const got = next(helper.getNode('out') as Node);
    pull.receive({ payload: 'now' } as NodeMessage);
    const msg = await got;
    assert.equal(msg.topic, 'new');
    assert.equal((msg.payload as unknown[]).length, 30);
  });

  it('the cluster leases (the path tentacle-pull and event-pull share) work over TLS', async () => {
    await helper.load(
      [pandoraConfig, eventPull],
      [
        config('cl_cc', {
          dbTls: true,
          dbCa: files.ca,
          cluster: true,
          clusterMember: 'tls-host',
          leaseSeconds: '2',
        }),
        {
          id: 'pull',
          type: 'event-pull',
          config: 'cfg',
          instances: '',
          interval: '1',
          batchSize: '100',
          mode: 'all',
          wires: [[]],
        },
      ],
      creds,
    );
    const c = await db.connect('cl_cc');
    try {
      await waitFor(
        async () => {
          const [rows] = (await c.query(
            "SELECT holder FROM tsync_cluster_lease WHERE unit = 'events:1' AND expires > NOW(6)",
          )) as unknown as [{ holder: string }[]];
          return rows[0]?.holder.startsWith('tls-host') ?? false;
        },
        20_000,
        'the lease held over TLS',
      );
      await waitFor(
        async () => {
          const [rows] = (await c.query(
            'SELECT COUNT(*) AS n FROM tmetaconsole_event',
          )) as unknown as [{ n: string }[]];
          return Number(rows[0].n) === 30;
        },
        20_000,
        'the copy under the lease',
      );
    } finally {
      await c.end();
    }
  });

  it('metaconsole-replicate syncs over TLS', async () => {
    await helper.load(
      [pandoraConfig, metaconsoleReplicate],
      [
        config('r_cc', { dbTls: true, dbCa: files.ca }),
        {
          id: 'rep',
          type: 'metaconsole-replicate',
          config: 'cfg',
          instances: '',
          objects: 'groups,tags',
          interval: 0,
          wires: [['out']],
        },
        { id: 'out', type: 'helper' },
      ],
      creds,
    );
    const got = next(helper.getNode('out') as Node);
    (helper.getNode('rep') as Node).receive({ topic: 'sync' } as NodeMessage);
    const msg = await got;
    const payload = msg.payload as { errors: string[]; applied: Record<string, unknown> };
    assert.deepEqual(payload.errors, []);
    assert.ok(payload.applied.tgrupo, 'groups applied');
  });

  it('instance-query answers over TLS, with a client certificate too', async () => {
    await helper.load(
      [pandoraConfig, instanceQuery],
      [
        config('q_cc', {
          dbTls: true,
          dbCa: files.ca,
          dbCert: files.clientCert,
          dbKey: files.clientKey,
        }),
        {
          id: 'q',
          type: 'instance-query',
          config: 'cfg',
          instances: '1',
          query: 'tactical',
          timeout: '10',
          limit: '1000',
          wires: [['out']],
        },
        { id: 'out', type: 'helper' },
      ],
      creds,
    );
    const got = next(helper.getNode('out') as Node);
    (helper.getNode('q') as Node).receive({ payload: '' } as NodeMessage);
    const msg = (await got) as NodeMessage & { instances: { ok: boolean; error: string | null }[] };
    assert.deepEqual(
      msg.instances.map((i) => [i.ok, i.error]),
      [[true, null]],
    );
  });

  it('with dbTls off the connection is refused with an error that says to turn dbTls on', async () => {
    await helper.load([pandoraConfig, eventPull], pullFlow({}), creds);
    const pull = helper.getNode('pull') as Node;
    const errors = errorsOf(pull);
    pull.receive({ payload: 'now' } as NodeMessage);
    await waitFor(() => errors.length > 0, 20_000, 'an error');
    assert.match(errors[0], /Access denied/);
    assert.match(errors[0], /require_secure_transport=ON\), turn dbTls on in pandora-config/);
  });

  it('a certificate signed by another CA is refused, naming dbCa', async () => {
    await helper.load(
      [pandoraConfig, eventPull],
      pullFlow({ dbTls: true, dbCa: files.otherCa }),
      creds,
    );
    const pull = helper.getNode('pull') as Node;
    const errors = errorsOf(pull);
    pull.receive({ payload: 'now' } as NodeMessage);
    await waitFor(() => errors.length > 0, 20_000, 'an error');
    assert.match(errors[0], /certificate was not accepted: set dbCa in pandora-config/);
  });

  it('a missing dbCa file is a node error naming the property and the path; nothing connects', async () => {
    await helper.load(
      [pandoraConfig, eventPull],
      pullFlow({ dbTls: true, dbCa: files.missing }),
      creds,
    );
    const cfg = helper.getNode('cfg') as Node & { configError: Error | null };
    assert.match(
      cfg.configError?.message ?? '',
      /cannot read dbCa ".*no-such-ca\.pem": file not found/,
    );
    const pull = helper.getNode('pull') as Node;
    const errors = errorsOf(pull);
    pull.receive({ payload: 'now' } as NodeMessage);
    await waitFor(() => errors.length > 0, 10_000, 'an error');
    assert.match(errors.join('\n'), /dbCa/);
  });

  it("Instance pools take the Command Center pool's TLS, per host, and keep their pool while nothing changes", async () => {
    const ssl = dbSsl({ ca: db.facts.ssl!.ca }, db.host);
    assert.equal(ssl.verifyIdentity, false, 'an IP address: the chain is verified, not the name');
    assert.equal(dbSsl({}, 'db1.example').verifyIdentity, true);
    assert.equal(dbSsl({}, 'db1.example,db2.example').verifyIdentity, false, 'a Galera list');
    const cc = createPool({ ...db.facts, database: 'ev_cc', ssl });
    const registry = new InstanceRegistry(cc);
    try {
      const [first] = await registry.refresh();
      assert.equal(first.facts.ssl?.ca, ssl.ca);
      assert.equal(first.facts.ssl?.rejectUnauthorized, true);
      const [again] = await registry.refresh();
      assert.equal(again.pool, first.pool);
      const [rows] = (await first.pool.query(
        "SHOW SESSION STATUS LIKE 'Ssl_cipher'",
      )) as unknown as [{ Value: string }[]];
      assert.notEqual(rows[0].Value, '', 'the Instance connection is encrypted');
    } finally {
      await registry.close();
      await cc.end();
    }
  });

  it('with dbTls on against a server without TLS, the error says so and names dbTls', async () => {
    const plain = await startMariaDb();
    const pool = createPool({
      ...plain.facts,
      database: 'mysql',
      ssl: dbSsl({ ca: db.facts.ssl!.ca }, plain.host),
    });
    try {
      await assert.rejects(
        pool.query('SELECT 1'),
        /offers no TLS.*turn dbTls off|dbTls is on in pandora-config but this server offers no TLS/,
      );
    } finally {
      await pool.end().catch(() => {});
      await plain.destroy();
    }
  });
});
