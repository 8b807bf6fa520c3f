/**
 * Link cuts between the Sync puller and a buffer: our TCP proxy pulls the cable at random byte
 * offsets (inside lines, replies, payloads) 200 times during a drain of 2,000 files. At the end
 * every file is in incomingDir exactly once with its content, none is left on the buffer, and no
 * temp file is visible on either side. Run with the puller's `safe` mode (RECV, store, MV) and
 * without it (MV only).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SyncPuller } from '../../lib/sync/puller';
import { TentacleServer } from '../../lib/tentacle/server';
import { TcpProxy, type CutPlan } from '../helpers/tcp-proxy';
import {
  debug,
  hashesIn,
  removeDir,
  seedAgentFiles,
  seedFromEnv,
  seeded,
  tempDir,
  tempNames,
  within,
} from './util';

const FILES = Number(process.env.FAULT_FILES) || 2000;
const CUTS = Number(process.env.FAULT_CUTS) || 200;
const MAX_ROUNDS = 2000;
const DEADLINE_MS = 100_000;

async function drainWithCuts(safe: boolean): Promise<void> {
  const seed = seedFromEnv();
  const rnd = seeded(seed);
  const root = tempDir('fault-cuts-');
  const storage = join(root, 'buffer');
  const incoming = join(root, 'incoming');
  const expected = seedAgentFiles(storage, FILES, () => 32 + Math.floor(rnd() * 1500));
  const server = new TentacleServer({
    address: '127.0.0.1',
    port: 0,
    storage,
    timeout: 2,
    retries: 2,
    maxConnections: 20,
  });
  const { port } = await server.start();
  // A round's first connection opens with an LS of every name left (tens of KB at first); the
  // others start straight with transfers. On the first, offsets are the listing's size plus a
  // few KB most of the time and inside the listing otherwise; on the others, a few KB. So cuts
  // land in every phase of a drain and the 200 of them are spread over most of it.
  let roundStarts = false;
  const listingBytes = () =>
    readdirSync(storage).reduce((n, name) => n + Buffer.byteLength(name) + 1, 5) + 20;
  const proxy: TcpProxy = new TcpProxy({
    targetPort: port,
    plan: (): CutPlan => {
      if (proxy.stats.cuts >= CUTS) return { afterBytes: null };
      let base = 0;
      if (roundStarts) {
        roundStarts = false;
        const ls = listingBytes();
        base = rnd() < 0.2 ? Math.floor(rnd() * ls) : ls;
      }
      return { afterBytes: 1 + base + Math.floor(rnd() * (safe ? 25_000 : 10_000)) };
    },
  });
  const proxyPort = await proxy.listen();
  const puller = new SyncPuller({
    buffers: [{ host: '127.0.0.1', port: proxyPort, address: `127.0.0.1:${proxyPort}` }],
    incomingDir: incoming,
    pattern: /\.data$/,
    safe,
    connections: 4,
    timeout: 2,
    retries: 1,
    baseBackoffMs: 1,
    maxBackoffMs: 1,
  });
  let delivered = 0;
  puller.on('file', () => delivered++);
  const t0 = Date.now();
  let rounds = 0;
  let roundErrors = 0;
  let cutsDoneAtFile = -1;
  try {
    while (rounds < MAX_ROUNDS && Date.now() - t0 < DEADLINE_MS) {
      rounds++;
      roundStarts = true;
      debug(`round ${rounds} seed=${seed} cuts=${proxy.stats.cuts}`);
      // A round that never ends would otherwise let the event loop empty and hide where.
      const [summary] = await within(puller.requestRound(), 60_000, `pull round ${rounds}`);
      debug(summary);
      if (summary.error) roundErrors++;
      const left = readdirSync(storage).filter((n) => n.endsWith('.data')).length;
      if (cutsDoneAtFile < 0 && proxy.stats.cuts >= CUTS) cutsDoneAtFile = FILES - left;
      if (left === 0 && !summary.error) break;
    }
  } finally {
    debug('closing puller');
    await puller.close();
    debug('closing proxy');
    await proxy.close();
    debug('closing server');
    await server.close('test', 1000);
  }
  const ms = Date.now() - t0;
  const got = hashesIn(incoming);
  const offsets = proxy.stats.cutOffsets;
  console.log(
    `link-cuts safe=${safe} seed=${seed}: ${FILES} files, ${proxy.stats.cuts} cuts ` +
      `(offsets ${Math.min(...offsets)}..${Math.max(...offsets)} B), ` +
      `${proxy.stats.connections} connections, ${rounds} rounds (${roundErrors} with errors), ` +
      `${delivered} deliveries, ${ms} ms; the last cut came after ${cutsDoneAtFile} files were drained`,
  );
  try {
    assert.ok(proxy.stats.cuts >= CUTS, `only ${proxy.stats.cuts} cuts happened`);
    assert.deepEqual(readdirSync(storage), [], 'the buffer is drained, no temp file left');
    assert.deepEqual(tempNames(incoming), [], 'no temp file in incomingDir');
    assert.equal(got.size, FILES, 'each file exactly once, no renamed twin');
    assert.equal(delivered, FILES, 'each file announced once');
    for (const [name, hash] of expected) assert.equal(got.get(name), hash, name);
  } finally {
    removeDir(root);
  }
}

describe('link cuts between puller and buffer', { timeout: 240_000 }, () => {
  it('safe mode: 2,000 files, 200 cuts, every file exactly once', { timeout: 120_000 }, () =>
    drainWithCuts(true),
  );

  it('MV-only mode: 2,000 files, 200 cuts, every file exactly once', { timeout: 120_000 }, () =>
    drainWithCuts(false),
  );
});
