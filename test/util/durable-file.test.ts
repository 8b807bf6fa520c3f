import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import {
  CommitGroup,
  commitAll,
  commitOne,
  DurableFile,
  writeFileDurably,
} from '../../lib/util/durable-file';

describe('durable file writes', () => {
  const root = mkdtempSync(join(tmpdir(), 'durable-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  const dir = () => {
    const d = join(root, `d${++n}`);
    mkdirSync(d);
    return d;
  };

  it('writes a buffer, a string or a stream; no temp file remains; the mode is exact', async () => {
    const d = dir();
    assert.equal(await writeFileDurably(join(d, 'a'), Buffer.from('abc')), 3);
    await writeFileDurably(join(d, 'b'), 'hello', { mode: 0o600 });
    await writeFileDurably(join(d, 'c'), Readable.from([Buffer.from('x'), 'y', Buffer.from('z')]));
    assert.deepEqual(readdirSync(d).sort(), ['a', 'b', 'c']);
    assert.equal(readFileSync(join(d, 'b'), 'utf8'), 'hello');
    assert.equal(readFileSync(join(d, 'c'), 'utf8'), 'xyz');
    assert.equal(statSync(join(d, 'b')).mode & 0o777, 0o600);
    await writeFileDurably(join(d, 'e'), 'x', { mode: 0o664 });
    assert.equal(statSync(join(d, 'e')).mode & 0o777, 0o664, 'not narrowed by the umask');
  });

  it('the target appears only when placed; until then only the temp name exists', async () => {
    const d = dir();
    const f = await DurableFile.open(join(d, 't.data'), { tempPath: join(d, 't.data~tmp') });
    await f.write('part');
    assert.deepEqual(readdirSync(d), ['t.data~tmp']);
    await assert.rejects(f.place(), /flushed before placing/);
    await commitOne(f);
    assert.deepEqual(readdirSync(d), ['t.data']);
    assert.equal(f.bytes, 4);
  });

  it('replace renames over a file; exclusive refuses one and leaves it untouched', async () => {
    const d = dir();
    writeFileSync(join(d, 'x'), 'old');
    await writeFileDurably(join(d, 'x'), 'new');
    assert.equal(readFileSync(join(d, 'x'), 'utf8'), 'new');
    await assert.rejects(writeFileDurably(join(d, 'x'), 'other', { place: 'exclusive' }), {
      code: 'EEXIST',
    });
    assert.equal(readFileSync(join(d, 'x'), 'utf8'), 'new');
    assert.deepEqual(readdirSync(d), ['x']);
  });

  it('abort drops the temp file at any point; a failed source leaves nothing', async () => {
    const d = dir();
    const f = await DurableFile.open(join(d, 'a'));
    await f.write('x');
    await f.abort();
    await f.abort();
    const broken = new Readable({
      read() {
        this.destroy(new Error('source broke'));
      },
    });
    await assert.rejects(writeFileDurably(join(d, 'b'), broken), /source broke/);
    assert.deepEqual(readdirSync(d), []);
  });

  it('commitAll: one failing file does not hold back the others', async () => {
    const d = dir();
    const gone = dir();
    const files = await Promise.all(['a', 'b', 'c'].map((x) => DurableFile.open(join(d, x))));
    for (const f of files) await f.write('data');
    // Placing `b` into a directory that is removed meanwhile fails.
    files[1].path = join(gone, 'sub', 'b');
    const r = await commitAll(files);
    assert.deepEqual(
      r.map((x) => x.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.deepEqual(readdirSync(d).sort(), ['a', 'c']);
  });

  it('CommitGroup: files arriving together share batches; afterBatch runs before they resolve', async () => {
    const d = dir();
    const batches: string[][] = [];
    let resolved = 0;
    const group = new CommitGroup<string>(async (done) => {
      // Nothing of this batch may have resolved yet.
      assert.equal(resolved, batches.flat().length);
      batches.push(done.map((x) => x.meta));
    });
    const files = await Promise.all(
      Array.from({ length: 60 }, (_, i) => DurableFile.open(join(d, `f${i}`))),
    );
    for (const f of files) await f.write('x');
    await Promise.all(
      files.map((f, i) =>
        group.commit(f, `f${i}`).then(() => {
          resolved++;
        }),
      ),
    );
    assert.equal(resolved, 60);
    assert.equal(batches.flat().length, 60);
    assert.ok(batches.length < 60, `${batches.length} batches`);
    assert.equal(readdirSync(d).length, 60);
    // A later lone file is committed at once, in a batch of its own.
    const lone = await DurableFile.open(join(d, 'lone'));
    await group.commit(lone, 'lone');
    assert.deepEqual(batches[batches.length - 1], ['lone']);
  });

  it('CommitGroup: a failing afterBatch fails every file of its batch', async () => {
    const d = dir();
    const group = new CommitGroup<number>(async () => {
      throw new Error('journal full');
    });
    const f = await DurableFile.open(join(d, 'a'));
    await assert.rejects(group.commit(f, 1), /journal full/);
  });
});
