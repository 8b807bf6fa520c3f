/**
 * The Sync puller's process killed with SIGKILL at random moments, 20 times during one drain,
 * and restarted each time: at the end every file is in incomingDir exactly once with its
 * content, none is left on the buffer, no temp file remains. Safe mode and MV-only.
 */
import assert from 'node:assert/strict';
import { spawnChild } from '../helpers/child';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TentacleServer } from '../../lib/tentacle/server';
import {
  hashesIn,
  removeDir,
  seedAgentFiles,
  seedFromEnv,
  seeded,
  sleep,
  tempDir,
  tempNames,
} from './util';

const FILES = Number(process.env.FAULT_FILES) || 2500;
const KILLS = 20;
const CHILD = join(__dirname, 'pull-child.js');

async function crashDrain(safe: boolean): Promise<void> {
  const seed = seedFromEnv();
  const rnd = seeded(seed);
  const root = tempDir('fault-crash-sync-');
  const storage = join(root, 'buffer');
  const incoming = join(root, 'data_in');
  const expected = seedAgentFiles(storage, FILES, () => 64 + Math.floor(rnd() * 3000));
  const server = new TentacleServer({
    address: '127.0.0.1',
    port: 0,
    storage,
    timeout: 2,
    retries: 2,
    maxConnections: 40,
  });
  const { port } = await server.start();
  const args = { port, incomingDir: incoming, safe };
  const t0 = Date.now();
  const atKill: number[] = [];
  let earlyExits = 0;
  const count = () => {
    try {
      return readdirSync(incoming).filter((n) => !n.includes('~')).length;
    } catch {
      return 0;
    }
  };
  try {
    for (let k = 0; k < KILLS && Date.now() - t0 < 90_000; k++) {
      const child = spawnChild(CHILD, { args: [JSON.stringify(args)] });
      let exited = false;
      void child.done.then(() => (exited = true));
      // Kill once a random number of further files has arrived, plus a few ms, so the kills
      // land at every stage of a transfer (mid-write, between RECV and MV, mid-journal).
      const target = count() + 1 + Math.floor(rnd() * 100);
      const deadline = Date.now() + 20_000;
      while (!exited && count() < target && Date.now() < deadline) await sleep(5);
      await sleep(Math.floor(rnd() * 15));
      if (exited) earlyExits++;
      await child.kill();
      await child.done;
      atKill.push(count());
    }
    const last = spawnChild(CHILD, { args: [JSON.stringify(args)] });
    assert.equal(await last.done, 0, 'the last puller finishes the drain');
  } finally {
    await server.close('test', 1000);
  }
  const got = hashesIn(incoming);
  console.log(
    `crash-sync safe=${safe} seed=${seed}: ${FILES} files, ${atKill.length} SIGKILLs ` +
      `(${earlyExits} after the child had already exited), delivered at each kill: ` +
      `${atKill.join(',')}; ${Date.now() - t0} ms`,
  );
  try {
    assert.ok(atKill.filter((n) => n > 0 && n < FILES).length >= 5, 'kills landed mid-drain');
    assert.deepEqual(readdirSync(storage), [], 'nothing left on the buffer');
    assert.deepEqual(tempNames(incoming), [], 'no temp file in incomingDir');
    assert.equal(got.size, FILES, 'each file exactly once');
    for (const [name, hash] of expected) assert.equal(got.get(name), hash, name);
  } finally {
    removeDir(root);
  }
}

describe('Sync puller killed with SIGKILL 20 times during a drain', { timeout: 240_000 }, () => {
  it('safe mode: every file exactly once', { timeout: 120_000 }, () => crashDrain(true));
  it('MV-only mode: every file exactly once', { timeout: 120_000 }, () => crashDrain(false));
});
