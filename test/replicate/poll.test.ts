/**
 * Between the timer's rounds the engine looks at the Command Center's queue (one grouped query
 * for every Instance): a change the console queues reaches the nodes without waiting for the
 * next round, only the nodes it was queued for get a round, and a blocked node is left to the
 * timer's retries.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Replicator, type ReplicaRoundReport } from '../../lib/replicate';
import { startMariaDb, type PrivateMariaDb } from '../helpers/mariadb';
import { waitFor } from '../helpers/wait';
import { makeSite, seedCc, type Site } from './fixture';

async function queue(site: Site, target: number, sql: string): Promise<void> {
  await site.cc.query(
    "INSERT INTO tsync_queue (`sql`, target, utimestamp, operation, `table`, error, result) VALUES (?, ?, UNIX_TIMESTAMP(), 'UPDATE', 'tgrupo', '', '')",
    [sql, target],
  );
}

describe('metaconsole-replicate: the queue between rounds', () => {
  let db: PrivateMariaDb;
  let site: Site;
  let rep: Replicator;
  const reports: ReplicaRoundReport[] = [];

  before(async () => {
    db = await startMariaDb();
    site = await makeSite(db, [
      { db, name: 'p1' },
      { db, name: 'p2' },
    ]);
    await seedCc(site.cc);
    // A round every hour: whatever arrives in between comes through the queue's look.
    rep = new Replicator({ cc: site.cc, intervalMs: 3_600_000, startDelayMs: 0, queuePollMs: 50 });
    rep.on('report', (r) => reports.push(r));
    rep.start();
    await waitFor(() => reports.length >= 2, 20_000, 'the first round on both Instances');
  });
  after(async () => {
    await rep?.close('test');
    await site?.cc.end();
    for (const n of site?.nodes ?? []) await n.end();
    await db?.destroy();
  });

  it('applies a queued change within the look, on the node it was queued for only', async () => {
    reports.length = 0;
    await site.cc.query("UPDATE tgrupo SET contact = 'polled' WHERE id_grupo = 10");
    await queue(site, 2, "UPDATE tgrupo SET contact = 'polled' WHERE id_grupo = 10");
    await waitFor(() => reports.some((r) => r.queue.dequeued === 1), 20_000, 'the queue round');
    const [[g]] = (await site.nodes[1].query(
      'SELECT contact FROM tgrupo WHERE id_grupo = 10',
    )) as unknown as [[{ contact: string }]];
    assert.equal(g.contact, 'polled');
    assert.deepEqual(
      reports.map((r) => [r.instance.id, r.reason]),
      [[2, 'queue']],
      'one queue round, on node 2',
    );
  });

  it('leaves a blocked node to the timer: no round per look while its head fails', async () => {
    await queue(site, 1, 'UPDATE tgrupo, tusuario SET tusuario.fullname = 1');
    await waitFor(() => reports.some((r) => r.state === 'failing'), 20_000, 'the refused head');
    const seen = reports.length;
    await queue(site, 1, "UPDATE tgrupo SET contact = 'behind' WHERE id_grupo = 10");
    // Nothing must happen over ten looks (50 ms each): only a pause can show an absence.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(reports.length, seen, 'no round for the blocked node between the timer rounds');
  });
});
