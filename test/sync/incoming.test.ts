import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { IncomingDir } from '../../lib/sync/incoming';
import { DeliveryJournal } from '../../lib/sync/journal';

describe('incoming directory: the second download of safe mode', () => {
  const root = mkdtempSync(join(tmpdir(), 'incoming-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  async function setup(tag: string) {
    const dir = join(root, tag, 'data_in');
    const journal = await DeliveryJournal.open(DeliveryJournal.pathFor(dir));
    const inc = new IncomingDir({ dir, journal, write: true, keep: false });
    await inc.prepare();
    return { dir, journal, inc };
  }

  for (const size of [5, 2 * 1024 * 1024]) {
    it(`same bytes are not written again; different ones are a delivery of their own (${size} B)`, async () => {
      const { dir, journal, inc } = await setup(`s${size}`);
      const a = Buffer.alloc(size, 'a');
      const b = Buffer.alloc(size, 'b');
      const first = await inc.store('buf:1', 'x.data', Readable.from([a]), size);
      assert.equal(first.duplicate, false);
      const again = await inc.store('buf:1', 'x.data', Readable.from([a]), size, first);
      assert.equal(again.duplicate, true);
      assert.deepEqual(readdirSync(dir), ['x.data']);
      const newer = await inc.store(
        'buf:1',
        'x.data',
        Readable.from([b.subarray(0, 3), b.subarray(3)]),
        size,
        first,
      );
      assert.equal(newer.duplicate, false);
      assert.deepEqual(readdirSync(dir).sort(), ['x.data', 'x_1.data']);
      assert.deepEqual(readFileSync(join(dir, 'x_1.data')), b);
      assert.deepEqual(readFileSync(join(dir, 'x.data')), a);
      await journal.close();
    });
  }
});

describe('delivery journal window', () => {
  const root = mkdtempSync(join(tmpdir(), 'journal-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const entry = (i: number) => ({ address: 'b:1', name: `f${i}.data`, size: i, sha1: `s${i}` });

  it('forgets the oldest past its limit; reserve() widens the window, never narrows it', async () => {
    const j = await DeliveryJournal.open(join(root, 'j'), { limit: 2, sync: false });
    for (let i = 0; i < 3; i++) await j.record(entry(i));
    assert.equal(j.has(entry(0)), false);
    j.reserve(5);
    j.reserve(1);
    for (let i = 3; i < 8; i++) await j.record(entry(i));
    assert.equal(j.size, 5);
    assert.equal(j.has(entry(3)), true);
    await j.close();
    const again = await DeliveryJournal.open(join(root, 'j'), { limit: 5, sync: false });
    assert.equal(again.has(entry(7)), true, 'kept across a restart');
    await again.close();
  });
});
