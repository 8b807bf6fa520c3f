/**
 * Cluster deliveries through SIGKILLs at each moment of a delivery and at random, two members on
 * one MariaDB (see deliveries-run.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPool, type Pool } from '../../lib/db/pool';
import { removeDir, tempDir } from '../helpers/files';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { describeFigures, runKills } from './deliveries-run';

describe('cluster deliveries through SIGKILLs (two members, one MariaDB)', () => {
  const root = tempDir('cluster-kills-');
  let db: PrivateMariaDb;
  let cc: Pool;
  before(async () => {
    db = await startMariaDb();
    await db.freshDatabase('cc');
    cc = createPool({ ...db.facts, database: 'cc' });
  });
  after(async () => {
    await cc?.end();
    await db?.destroy();
    removeDir(root);
  });

  it('every file in exactly one incomingDir whatever the moment of the kill and of the restart', async () => {
    const f = await runKills({
      root,
      cc,
      label: 'one MariaDB',
      randomKills: 12,
      dbOf: () => ({ dbHost: db.host, dbPort: db.port, database: 'cc' }),
    });
    console.log(describeFigures(f));
    assert.equal(f.once, f.total);
    assert.ok(f.kills >= 16);
  });
});
