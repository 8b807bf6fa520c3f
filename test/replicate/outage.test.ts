import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Replicator } from '../../lib/replicate';
import { waitFor } from '../helpers/wait';
import { wordsOf } from './words';
import { startMariaDb, PrivateMariaDb } from '../helpers/mariadb';
import { dump, makeSite, seedCc, Site } from './fixture';

describe('metaconsole-replicate: an instance down, then back', () => {
  let main: PrivateMariaDb;
  let other: PrivateMariaDb;
  let site: Site;
  let rep: Replicator;

  before(async () => {
    [main, other] = await Promise.all([startMariaDb(), startMariaDb()]);
    site = await makeSite(main, [
      { db: main, name: 'up1' },
      { db: other, name: 'down2' },
    ]);
    await seedCc(site.cc);
    rep = new Replicator({ cc: site.cc, backoffBaseMs: 1, backoffMaxMs: 5 });
  });
  after(async () => {
    await rep?.close('test');
    await site?.cc.end();
    for (const n of site?.nodes ?? []) await n.end();
    await main?.destroy();
    await other?.destroy();
  });

  it('keeps replicating the others and catches up when the instance answers again', async () => {
    await other.stop();
    // What the console does: change the CC and queue the same statement for the node.
    await site.cc.query("UPDATE tgrupo SET contact = 'queued' WHERE id_grupo = 10");
    await site.cc.query(
      "INSERT INTO tsync_queue (`sql`, target, utimestamp, operation, `table`, error, result) VALUES (\"UPDATE tgrupo SET contact = 'queued' WHERE id_grupo = 10\", 2, 0, 'UPDATE', 'tgrupo', '', '')",
    );
    const order: number[] = [];
    rep.on('report', (r) => order.push(r.instance.id));
    const reports = await rep.requestRound('test');
    const [r1, r2] = reports;
    assert.deepEqual(r1.errors, []);
    assert.equal(r1.applied.tgrupo.inserted, 3);
    assert.equal(r2.state, 'failing');
    assert.match(wordsOf(r2.errors).join(' '), /instance 2 \(down2\).*connection refused/);
    assert.deepEqual([...order].sort(), [1, 2], 'each instance reports on its own');
    assert.deepEqual(rep.status(), { 'in sync': 1, behind: 0, degraded: 0, failing: 1 });

    await other.start();
    let back = r2;
    await waitFor(
      async () => {
        [, back] = await rep.requestRound('test');
        return back.state === 'in sync';
      },
      20_000,
      'instance 2 in sync again',
    );
    assert.equal(back.state, 'in sync', wordsOf(back.errors).join('; '));
    const [[g]] = (await site.nodes[1].query(
      'SELECT contact FROM tgrupo WHERE id_grupo = 10',
    )) as unknown as [[{ contact: string }]];
    assert.equal(g.contact, 'queued');
    assert.equal(back.queue.pending, 0);
    assert.deepEqual(await dump(site.nodes[1]), await dump(site.cc));
  });
});
