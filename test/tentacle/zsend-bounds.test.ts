/**
 * ZSEND distrusts the archive: what it inflates to is bounded by `maxSize` and by the quota
 * room left while it inflates, and every member's CRC is checked (data descriptors included).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { TentacleEvent } from '../../lib/tentacle';
import { zipBuffer } from '../../lib/tentacle/zip';
import { listDir, RawPeer, removeDir, startServer, type Started } from './helpers';
import { CENTRAL_TAIL, member } from './zip-members';

async function zsend(raw: RawPeer, name: string, archive: Buffer): Promise<string> {
  raw.write(`ZSEND <${name}> SIZE ${archive.length}\n`);
  const first = await raw.line();
  if (first !== 'ZSEND OK') return first;
  raw.write(archive);
  return raw.line(20_000);
}

describe('ZSEND bounds and checks', () => {
  const started: Started[] = [];
  after(async () => {
    for (const s of started) {
      await s.server.close('done');
      await removeDir(s.storage);
    }
  });
  const start = async (opts: Parameters<typeof startServer>[0]) => {
    const s = await startServer({ timeout: 5, retries: 1, ...opts });
    started.push(s);
    return s;
  };

  it('a small archive inflating past maxSize is refused, nothing stored, connection kept', async () => {
    const s = await start({ maxSize: 1_000_000 });
    const rejected: TentacleEvent[] = [];
    s.server.on('rejected', (e: TentacleEvent) => rejected.push(e));
    const bomb = await zipBuffer('bomb.data', Buffer.alloc(50_000_000));
    assert.ok(bomb.length < 1_000_000, 'the archive itself passes -m');
    const raw = await RawPeer.connect(s.port);
    assert.equal(await zsend(raw, 'bomb.data', bomb), 'ZSEND ERR (file is too big)');
    // Exactly maxSize inflated is still fine; the connection is in step.
    const edge = Buffer.alloc(1_000_000, 'e');
    assert.equal(await zsend(raw, 'edge.data', await zipBuffer('edge.data', edge)), 'ZSEND OK');
    raw.destroy();
    assert.deepEqual(await listDir(s.storage), ['edge.data']);
    assert.deepEqual(await readFile(join(s.storage, 'edge.data')), edge);
    assert.equal(rejected.length, 1);
    assert.match(rejected[0].reason ?? '', /too big/);
    assert.deepEqual(s.server.stats(), { files: 1, bytes: 1_000_000 });
  });

  it('an archive inflating past the quota room is refused while it inflates', async () => {
    const s = await start({ maxSize: 100_000_000, quotaBytes: 2_000_000 });
    await s.server.put('held.data', Buffer.alloc(1_500_000, 'h'));
    const raw = await RawPeer.connect(s.port);
    const reply = await zsend(raw, 'z.data', await zipBuffer('z.data', Buffer.alloc(600_000)));
    assert.match(reply, /^ZSEND ERR \(quota exceeded: .*limit of 2000000\)$/);
    assert.equal(
      await zsend(raw, 'fits.data', await zipBuffer('fits.data', Buffer.alloc(400_000))),
      'ZSEND OK',
    );
    raw.destroy();
    assert.deepEqual(await listDir(s.storage), ['fits.data', 'held.data']);
    assert.deepEqual(s.server.stats(), { files: 2, bytes: 1_900_000 });
  });

  it('two bombs at once cannot both take the same quota room', async () => {
    const s = await start({ maxSize: 100_000_000, quotaBytes: 3_000_000 });
    const peers = await Promise.all([RawPeer.connect(s.port), RawPeer.connect(s.port)]);
    const archive = await zipBuffer('x', Buffer.alloc(2_000_000, 'x'));
    const replies = await Promise.all(peers.map((p, i) => zsend(p, `b${i}.data`, archive)));
    for (const p of peers) p.destroy();
    const ok = replies.filter((r) => r === 'ZSEND OK').length;
    assert.ok(ok <= 1, JSON.stringify(replies));
    assert.ok(s.server.stats().bytes <= 3_000_000);
  });

  it('a bad CRC in a data descriptor (as the stock client writes) is ZSEND ERR', async () => {
    const s = await start({});
    const data = randomBytes(10_000);
    const raw = await RawPeer.connect(s.port);
    const bad = Buffer.concat([
      member('a', data, { descriptor: true, badCrc: true }),
      CENTRAL_TAIL,
    ]);
    assert.equal(await zsend(raw, 'bad.data', bad), 'ZSEND ERR');
    const badSecond = Buffer.concat([
      member('a', data, { descriptor: true }),
      member('b', data, { descriptor: true, badCrc: true }),
      CENTRAL_TAIL,
    ]);
    assert.equal(await zsend(raw, 'bad2.data', badSecond), 'ZSEND ERR');
    const good = Buffer.concat([member('a', data, { descriptor: true }), CENTRAL_TAIL]);
    assert.equal(await zsend(raw, 'good.data', good), 'ZSEND OK');
    raw.destroy();
    assert.deepEqual(await listDir(s.storage), ['good.data']);
    assert.deepEqual(await readFile(join(s.storage, 'good.data')), data);
  });
});
