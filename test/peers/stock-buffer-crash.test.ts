/**
 * The Sync puller in safe mode killed with SIGKILL mid-round while it drains Pandora's own
 * tentacle_server, then started again: the stock server deletes a file as soon as its MV bytes
 * are in the socket, so only the order "stored durably, then MV" keeps every file. Each file must
 * be in incomingDir once, whole, with none left on the buffer and no temp file visible.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { spawnChild } from '../helpers/child';
import { agentXml } from '../helpers/agent-xml';
import { removeDir, sha1 } from '../helpers/files';
import { PEERS_SKIP, StockTentacleServer, peerDir } from '../helpers/pandora-peers';
import { waitFor } from '../helpers/wait';
import { filesIn } from '../sync/fixtures';

const CHILD = join(__dirname, '../sync/pull-child.js');
const COUNT = 400;

describe(
  'safe mode killed mid-round against the stock tentacle_server',
  { skip: PEERS_SKIP },
  () => {
    const cleanup: (() => Promise<void> | void)[] = [];
    after(async () => {
      for (const f of cleanup.reverse()) await f();
    });

    it('every file exactly once in incomingDir, none left on the buffer, no temp file', async (t) => {
      const server = await StockTentacleServer.start();
      cleanup.push(() => server.stop());
      const files = new Map<string, Buffer>();
      for (let i = 0; i < COUNT; i++) {
        const name = `crash-${i}.${1000 + i}.data`;
        files.set(name, agentXml(`crash-${i}`, i, 4096));
        server.put(name, files.get(name) as Buffer);
      }
      const root = peerDir('peers-crash-');
      cleanup.push(() => removeDir(root));
      const incoming = join(root, 'data_in');
      const args = {
        buffers: [server.endpoint],
        incomingDir: incoming,
        safe: true,
        connections: 4,
      };
      const count = () => {
        try {
          return readdirSync(incoming).length;
        } catch {
          return 0;
        }
      };

      const first = spawnChild(CHILD, { args: [JSON.stringify(args)] });
      let exited: number | null | undefined;
      void first.done.then((code) => (exited = code));
      await waitFor(() => count() >= 60 || exited !== undefined, 60_000, 'files flowing');
      assert.equal(exited, undefined, 'the puller was still running when killed');
      await first.kill();
      const atKill = filesIn(incoming).size;
      assert.ok(atKill < COUNT, `killed mid-round (${atKill} files delivered)`);
      t.diagnostic(`killed with ${atKill} of ${COUNT} files delivered`);

      const second = spawnChild(CHILD, { args: [JSON.stringify(args)] });
      assert.equal(await second.done, 0, second.output());
      const got = filesIn(incoming);
      assert.deepEqual(
        readdirSync(incoming).filter((n) => n.includes('~')),
        [],
        'no temp file visible',
      );
      assert.equal(got.size, COUNT, 'none missing, no copy under another name');
      for (const [name, content] of files) assert.equal(got.get(name), sha1(content), name);
      assert.deepEqual(readdirSync(server.storage), [], 'nothing left on the stock buffer');
    });
  },
);
