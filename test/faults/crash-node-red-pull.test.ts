/**
 * The real node-red running a tentacle-pull, killed with SIGKILL at a random moment of its drain
 * of a buffer, 20 times, and started again on the same userDir: every file ends in
 * incomingDir exactly once, none is left on the buffer, and no temp file is visible.
 */
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TentacleServer } from '../../lib/tentacle/server';
import { launchNodeRed, prepareUserDir, type RunningNodeRed } from '../helpers/node-red';
import { sleep, waitFor } from '../helpers/wait';
import { hashesIn, seedAgentFiles, seedFromEnv, seeded, tempDir, tempNames } from './util';

const FILES = Number(process.env.FAULT_FILES) || 10_000;
const KILLS = 20;

describe('node-red running tentacle-pull, killed with SIGKILL 20 times', () => {
  const root = tempDir('fault-nr-pull-');
  after(() => rmSync(root, { recursive: true, force: true }));

  it('delivers every file exactly once and leaves none on the buffer', async () => {
    const seed = seedFromEnv();
    const rnd = seeded(seed);
    const storage = join(root, 'buffer');
    const incoming = join(root, 'data_in');
    const expected = seedAgentFiles(storage, FILES, () => 64);
    const buffer = new TentacleServer({ address: '127.0.0.1', port: 0, storage });
    const { port } = await buffer.start();
    const tab = 'c4a5e1f0b2d30001';
    const prepared = await prepareUserDir({
      flows: [
        { id: tab, type: 'tab', label: 'pull' },
        {
          id: 'c4a5e1f0b2d30002',
          type: 'pandora-config',
          name: 'central',
          incomingDir: incoming,
          syncAddress: `127.0.0.1:${port}`,
        },
        {
          id: 'c4a5e1f0b2d30003',
          type: 'tentacle-pull',
          z: tab,
          name: 'pull',
          config: 'c4a5e1f0b2d30002',
          interval: '1',
          deliver: 'dir',
          pattern: '\\.data$',
          concurrency: '1',
          connections: '4',
          safe: true,
          wires: [[], []],
        },
      ],
    });
    const left = () => readdirSync(storage).filter((n) => n.endsWith('.data')).length;
    const killedAt: number[] = [];
    let nr: RunningNodeRed | null = null;
    try {
      for (let k = 0; k < KILLS && left() > 0; k++) {
        const before = left();
        nr = await launchNodeRed(prepared);
        // Each kill lands inside a round: once this run has taken a file, within 250 ms (a
        // drain of a few thousand files a second leaves files for every kill).
        await waitFor(() => left() < before, 60_000, 'this run to take a file');
        await sleep(Math.floor(rnd() * 250));
        const exited = new Promise((r) => nr?.process.once('exit', r));
        nr.process.kill('SIGKILL');
        await exited;
        killedAt.push(FILES - left());
      }
      nr = await launchNodeRed(prepared);
      await waitFor(() => left() === 0, 60_000, 'the buffer to be drained');
      // The last file's MV is confirmed by the puller's next line: give the round time to end.
      await sleep(1500);
    } finally {
      await nr?.stop();
      await buffer.close('test', 1000);
    }
    console.log(
      `crash-node-red-pull seed=${seed}: ${FILES} files, ${killedAt.length} SIGKILLs of node-red, ` +
        `drained at each kill: ${killedAt.join(',')}`,
    );
    // On a fast machine the drain may end a kill or two early; it is the kills mid-drain that count.
    assert.ok(killedAt.length >= 15, `node-red was killed mid-drain ${killedAt.length} times`);
    const got = hashesIn(incoming);
    assert.deepEqual(tempNames(incoming), [], 'no temp file visible');
    assert.equal(got.size, expected.size, 'every file once, no extra copy');
    for (const [name, hash] of expected) assert.equal(got.get(name), hash, name);
    assert.equal(left(), 0, 'nothing left on the buffer');
  });
});
