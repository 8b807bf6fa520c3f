import assert from 'node:assert/strict';
import { spawnChild } from '../helpers/child';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dataFiles, filesIn, sha1, startBuffer, tempDir, until } from './fixtures';

const CHILD = join(__dirname, 'pull-child.js');

for (const safe of [true, false]) {
  describe(`puller killed mid-round (${safe ? 'safe' : 'MV-direct'})`, () => {
    it('every file exactly once in incomingDir, none left on the buffer, no temp file', async () => {
      const files = dataFiles(safe ? 'crash-safe' : 'crash-mv', 1500, 4096);
      const B = await startBuffer(files, { maxConnections: 20 });
      const root = tempDir('sync-crash-');
      const incoming = join(root, 'data_in');
      const args = { buffers: [B.endpoint], incomingDir: incoming, safe, connections: 4 };
      try {
        const first = spawnChild(CHILD, { args: [JSON.stringify(args)] });
        const count = () => {
          try {
            return readdirSync(incoming).length;
          } catch {
            return 0;
          }
        };
        let exited: number | null | undefined;
        void first.done.then((code) => (exited = code));
        await until(() => count() >= 100 || exited !== undefined, 30_000, 'files flowing');
        assert.equal(exited, undefined, 'the puller was still running when killed');
        await first.kill();
        await first.done;
        const atKill = filesIn(incoming).size;
        assert.ok(atKill < 1500, `killed mid-round (${atKill} files delivered)`);

        const second = spawnChild(CHILD, { args: [JSON.stringify(args)] });
        assert.equal(await second.done, 0);
        const got = filesIn(incoming);
        const names = readdirSync(incoming);
        assert.deepEqual(
          names.filter((n) => n.includes('~')),
          [],
          'no temp file visible',
        );
        assert.equal(got.size, 1500, 'no duplicate under another name, none missing');
        for (const [name, content] of Object.entries(files)) {
          assert.equal(got.get(name), sha1(content), name);
        }
        await until(
          () => [...filesIn(B.storage).keys()].filter((n) => n.endsWith('.data')).length === 0,
          5000,
          'empty buffer',
        );
      } finally {
        await B.server.close('test', 100);
        rmSync(root, { recursive: true, force: true });
        rmSync(B.storage, { recursive: true, force: true });
      }
    });
  });
}
