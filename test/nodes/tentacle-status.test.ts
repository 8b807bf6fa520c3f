/**
 * tentacle-buffer's status in the real node-red, with the packed package installed: the count of
 * files held filled into the text of the runtime's language from the node's own catalogue (the
 * status node reports the text a user sees), never a bare key. en-US only, as
 * test/helpers/node-red.ts waits for the English "Started flows" line.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../helpers/mariadb';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red';
import { waitFor } from '../helpers/wait';

describe('tentacle-buffer status in node-red', () => {
  const storage = mkdtempSync(join(tmpdir(), 'tentacle-status-'));
  let nr: RunningNodeRed | undefined;
  after(async () => {
    await nr?.stop();
    rmSync(storage, { recursive: true, force: true });
  });

  it('shows the files held in the runtime language', async () => {
    writeFileSync(join(storage, 'a.data'), 'one');
    writeFileSync(join(storage, 'b.data'), 'two');
    const port = await freePort();
    nr = await startNodeRed({
      settings: { lang: 'en-US' },
      flows: [
        { id: 'a1b2c3d4e5f60719', type: 'tab', label: 'status' },
        {
          id: 'b1c2d3e4f5a60719',
          type: 'tentacle-buffer',
          z: 'a1b2c3d4e5f60719',
          address: '127.0.0.1',
          port: String(port),
          storage,
          wires: [[]],
        },
        {
          id: 'c1d2e3f4a5b60719',
          type: 'status',
          z: 'a1b2c3d4e5f60719',
          scope: ['b1c2d3e4f5a60719'],
          wires: [['d1e2f3a4b5c60719']],
        },
        {
          id: 'd1e2f3a4b5c60719',
          type: 'debug',
          z: 'a1b2c3d4e5f60719',
          active: true,
          tosidebar: false,
          console: true,
          complete: 'status.text',
          targetType: 'msg',
          wires: [],
        },
      ],
    });
    const running = nr;
    await waitFor(() => /2 files, 6 B/.test(running.output()), 30_000, 'the status text');
    assert.doesNotMatch(running.output(), /tentacle-buffer\.status\./);
  });
});
