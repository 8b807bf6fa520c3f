import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateCertificates } from '../lib/tls/generate';
import { PrivateMariaDb, startMariaDb } from './helpers/mariadb';

describe('test harness', () => {
  let db: PrivateMariaDb;
  before(async () => {
    db = await startMariaDb();
  });
  after(async () => {
    await db?.destroy();
  });

  it('starts a private MariaDB on loopback', async () => {
    const c = await db.connect();
    const [rows] = await c.query('SELECT VERSION() AS v');
    await c.end();
    assert.match((rows as { v: string }[])[0].v, /MariaDB/);
  });

  it('makes a CA, server and client certificate', () => {
    const set = generateCertificates({ bits: 1024 });
    assert.match(set.ca.cert, /BEGIN CERTIFICATE/);
    assert.match(set.server.key, /PRIVATE KEY/);
    assert.match(set.client.cert, /BEGIN CERTIFICATE/);
  });
});
