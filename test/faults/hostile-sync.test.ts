/**
 * A compromised buffer against the centre: tentacle-pull's engine (SyncPuller, TentacleClient)
 * must not fill the Command Center's disk, write outside `incomingDir`, or take a file larger
 * than `maxSize`, whatever a buffer lists, announces or sends.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { compilePattern } from '../../lib/sync/names';
import {
  SyncPuller,
  type BufferSummary,
  type OversizedFile,
  type SyncPullerOptions,
} from '../../lib/sync/puller';
import { TentacleClient, TentacleError } from '../../lib/tentacle/client';
import { zipBuffer } from '../../lib/tentacle/zip';
import { startBuffer } from '../sync/fixtures';
import { HostileBuffer, type BufferScript, type Offer } from './hostile-buffer';
import { removeDir, seedFromEnv, seeded, snapshot, tempDir } from './util';

const ROUNDS = Number(process.env.FAULT_SYNC_ROUNDS) || 200;
const MAX = 100_000;

/** Names a compromised buffer may list to escape `incomingDir` or break a write. */
const CRAFTED = [
  '../esc1.data',
  '../../esc2.data',
  '/tmp/esc3.data',
  '..\\esc4.data',
  'C:\\esc5.data',
  'a\0b.data',
  'sub/../../esc6.data',
  '..',
  '.',
  '',
  `${'x'.repeat(300)}.data`,
  ' ../esc7.data',
  'ok.data\r',
  'ok\n.data',
  '~esc8.data',
  '%2e%2e%2fesc9.data',
  '..data',
  '.hidden.data',
  'ñandú.data',
];

/** Sum of the sizes of the regular files under `dir`, and whether a directory appeared. */
function usage(dir: string): { bytes: number; largest: number; dirs: number } {
  let bytes = 0;
  let largest = 0;
  let dirs = 0;
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return { bytes, largest, dirs };
  }
  for (const n of names) {
    try {
      const st = statSync(join(dir, n));
      if (st.isDirectory()) dirs++;
      else {
        bytes += st.size;
        largest = Math.max(largest, st.size);
      }
    } catch {
      // renamed meanwhile
    }
  }
  return { bytes, largest, dirs };
}

/** Paths (as `snapshot` names them) added under `root` outside what the pullers may write. */
function writtenOutside(
  before: Map<string, string>,
  after: Map<string, string>,
  root: string,
  dirs: string[],
): string[] {
  const allowed = dirs.flatMap((d) => {
    const rel = d.slice(root.length + 1);
    return [`${rel}/data_in/`, `${rel}/.pandora-sync/`];
  });
  return [...after.keys()].filter((k) => !before.has(k) && !allowed.some((a) => k.startsWith(a)));
}

describe('hostile buffers against the Sync puller', { timeout: 300_000 }, () => {
  const root = tempDir('fault-hostile-sync-');
  const cleanup: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const f of cleanup.reverse()) await f();
    removeDir(root);
  });

  let n = 0;
  const makePuller = (opts: Partial<SyncPullerOptions> & Pick<SyncPullerOptions, 'buffers'>) => {
    const dir = join(root, `p${++n}`);
    mkdirSync(dir, { recursive: true });
    const incoming = join(dir, 'data_in');
    const p = new SyncPuller({
      incomingDir: incoming,
      pattern: compilePattern(''),
      timeout: 1,
      retries: 1,
      baseBackoffMs: 1,
      maxBackoffMs: 1,
      ...opts,
    });
    const oversized: OversizedFile[] = [];
    p.on('oversized', (o) => oversized.push(o));
    cleanup.push(() => p.close());
    return { p, dir, incoming, oversized };
  };
  const hostile = async (script: BufferScript) => {
    const hb = await HostileBuffer.start(script);
    cleanup.push(() => hb.close());
    return hb;
  };

  for (const safe of [true, false]) {
    it(`a file larger than maxSize stays on the buffer, reported once over rounds (safe=${safe})`, async () => {
      const b = await startBuffer(
        { 'big.data': Buffer.alloc(3_000_000, 'b'), 'a.data': 'small a', 'c.data': 'small c' },
        { maxSize: 10_000_000 },
      );
      cleanup.push(async () => {
        await b.server.close('test', 100);
        removeDir(b.storage);
      });
      const { p, incoming, oversized } = makePuller({
        buffers: [b.endpoint],
        safe,
        connections: 2,
      });
      const rounds: BufferSummary[] = [];
      for (let i = 0; i < 3; i++) rounds.push(...(await p.requestRound()));
      assert.deepEqual(readdirSync(b.storage), ['big.data'], 'the big file stays on the buffer');
      assert.deepEqual(readdirSync(incoming).sort(), ['a.data', 'c.data']);
      assert.deepEqual(oversized, [
        { address: b.endpoint.address, filename: 'big.data', size: 3_000_000, maxSize: 2_000_000 },
      ]);
      assert.deepEqual(
        rounds.map((r) => [r.oversized, r.error]),
        [
          [1, null],
          [1, null],
          [1, null],
        ],
      );
    });
  }

  it('huge announced sizes and eager endless bytes: declined, nothing past maxSize written', async () => {
    const hb = await hostile({
      listing: () => ['ok.data', 'huge.data', 'eager.data'],
      offer: (_cmd, name): Offer =>
        name === 'huge.data'
          ? { kind: 'size', announce: 1e12, body: 1e12 }
          : name === 'eager.data'
            ? { kind: 'size', announce: 5_000_000_000, body: 50_000_000, eager: true }
            : { kind: 'size', announce: 5, body: Buffer.from('hello') },
    });
    for (const safe of [true, false]) {
      const { p, incoming, oversized, dir } = makePuller({
        buffers: [hb.endpoint],
        safe,
        connections: 1,
        maxSize: MAX,
      });
      const outside = snapshot(root);
      let peak = 0;
      const sampler = setInterval(() => (peak = Math.max(peak, usage(incoming).largest)), 5);
      const [s] = await p.requestRound();
      clearInterval(sampler);
      assert.ok(peak <= MAX, `a file of ${peak} bytes was written`);
      assert.deepEqual(readdirSync(incoming), ['ok.data'], JSON.stringify(s));
      assert.equal(readFileSync(join(incoming, 'ok.data'), 'utf8'), 'hello');
      assert.deepEqual(
        oversized.map((o) => [o.filename, o.size]),
        [['huge.data', 1e12]],
      );
      // Bytes sent before `RECV OK` are a protocol breach: the connection is cut and said so.
      assert.match(s.error ?? '', /arrived together with a command line/);
      assert.deepEqual(writtenOutside(outside, snapshot(root), root, [dir]), []);
    }
  });

  it('bytes past the announced size are never written', async () => {
    const announced = randomBytes(1000);
    const hb = await hostile({
      listing: () => ['more.data'],
      offer: () => ({
        kind: 'size',
        announce: announced.length,
        body: Buffer.concat([announced, Buffer.alloc(3_000_000, 'z')]),
      }),
    });
    for (const safe of [true, false]) {
      const { p, incoming } = makePuller({ buffers: [hb.endpoint], safe, maxSize: MAX });
      await p.requestRound();
      assert.deepEqual(readdirSync(incoming), ['more.data']);
      assert.deepEqual(readFileSync(join(incoming, 'more.data')), announced);
    }
  });

  it('names crafted to escape incomingDir never write outside it', async () => {
    const hb = await hostile({
      listing: () => CRAFTED,
      offer: (_cmd, name) => ({
        kind: 'size',
        announce: name.length + 3,
        body: Buffer.from(`is ${name}`),
      }),
    });
    const { p, incoming, dir } = makePuller({
      buffers: [hb.endpoint],
      pattern: compilePattern('.'),
      maxSize: MAX,
    });
    const outside = snapshot(root);
    await p.requestRound();
    const held = readdirSync(incoming).sort();
    // `ok\n.data` is two listing lines: `ok` and `.data`, both harmless names.
    const harmless = ['%2e%2e%2fesc9.data', '..data', '.hidden.data', 'ñandú.data', 'ok', '.data'];
    assert.deepEqual(held, harmless.sort());
    for (const h of held) assert.ok(statSync(join(incoming, h)).isFile());
    assert.deepEqual(writtenOutside(outside, snapshot(root), root, [dir]), []);
  });

  it('a ZRECV zip bomb stops at maxSize, closes the connection, and fails with ERR_TOO_BIG', async () => {
    const bomb = await zipBuffer('bomb.data', Buffer.alloc(200_000_000));
    const hb = await hostile({
      listing: () => [],
      offer: () => ({ kind: 'size', announce: bomb.length, body: bomb }),
    });
    const c = await TentacleClient.connect({
      ...hb.endpoint,
      timeout: 2,
      retries: 1,
      maxSize: 1_000_000,
    });
    const out = join(root, 'bomb.out');
    let written = 0;
    await assert.rejects(
      c.zrecv('bomb.data', async (data) => {
        for await (const chunk of data) {
          written += (chunk as Buffer).length;
          writeFileSync(out, chunk as Buffer, { flag: 'a' });
        }
      }),
      (err: Error) => err instanceof TentacleError && err.code === 'ERR_TOO_BIG',
    );
    assert.ok(written <= 1_000_000, `${written} bytes passed`);
    assert.equal(c.connected, false);
    c.destroy();
  });

  it(`survives ${ROUNDS} rounds against a randomly hostile buffer; figures`, async () => {
    const seed = seedFromEnv();
    const rnd = seeded(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const sizes = [0, 1, 17, 5000, MAX - 1, MAX, MAX + 1, 10 * MAX, 1e12, 2 ** 53, 1e21];
    const offer = (): Offer => {
      const k = rnd();
      if (k < 0.08) return { kind: 'err' };
      if (k < 0.12) return { kind: 'close' };
      if (k < 0.2) {
        return {
          kind: 'junk',
          line: pick([
            'RECV SIZE -1',
            'MV SIZE 0x10',
            'RECV OK',
            'x'.repeat(2000),
            'MV SIZE ',
            'QUIT',
          ]),
        };
      }
      const announce = pick(sizes);
      const mode = pick(['exact', 'exact', 'short', 'long', 'eager'] as const);
      const real = Math.min(announce, 3 * MAX);
      const body =
        mode === 'exact'
          ? randomBytes(real)
          : mode === 'short'
            ? Math.floor(real / 2)
            : mode === 'long'
              ? Math.min(real, 3 * MAX) + 1 + Math.floor(rnd() * 500_000)
              : Math.min(real + 100_000, 1_000_000);
      return {
        kind: 'size',
        announce,
        body,
        eager: mode === 'eager',
        closeAfter: mode === 'short',
      };
    };
    let listing: string[] = [];
    const hb = await hostile({ listing: () => listing, offer: () => offer() });
    const pullers = [true, false].map((safe) =>
      makePuller({
        buffers: [hb.endpoint],
        safe,
        maxSize: MAX,
        pattern: compilePattern('.'),
        connections: 2,
      }),
    );
    const outside = snapshot(root);
    const crashes: string[] = [];
    const onCrash = (err: Error) => crashes.push(err.message);
    process.on('uncaughtException', onCrash);
    const rss0 = process.memoryUsage().rss;
    let rssPeak = rss0;
    let largest = 0;
    let dirsSeen = 0;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      for (const x of pullers) {
        const u = usage(x.incoming);
        largest = Math.max(largest, u.largest);
        dirsSeen += u.dirs;
      }
    }, 10);
    const t0 = Date.now();
    let rejected = 0;
    try {
      for (let r = 0; r < ROUNDS; r++) {
        listing = Array.from({ length: 1 + Math.floor(rnd() * 6) }, (_, i) =>
          rnd() < 0.4 ? pick(CRAFTED) : `f${r}-${i}.data`,
        );
        const x = pullers[r % 2];
        await x.p.requestRound().catch(() => rejected++);
      }
    } finally {
      clearInterval(sampler);
      process.off('uncaughtException', onCrash);
    }
    const added = writtenOutside(
      outside,
      snapshot(root),
      root,
      pullers.map((x) => x.dir),
    );
    const mb = (v: number) => (v / 1048576).toFixed(1);
    console.log(
      `hostile buffer seed=${seed}: ${ROUNDS} rounds, ${hb.commands} buffer replies tried, ` +
        `${mb(hb.sent)} MB offered in ${Date.now() - t0} ms; crashes ${crashes.length}, ` +
        `rejected rounds ${rejected}, paths written outside incomingDir ${added.length}, ` +
        `largest file ${largest} bytes (maxSize ${MAX}), directories ${dirsSeen}; ` +
        `RSS ${mb(rss0)} -> peak ${mb(rssPeak)} MB`,
    );
    assert.deepEqual(crashes, []);
    assert.equal(rejected, 0);
    assert.deepEqual(added, []);
    assert.ok(largest <= MAX, `a file of ${largest} bytes was written`);
    assert.equal(dirsSeen, 0);
    assert.ok(rssPeak - rss0 < 200 * 1048576, `RSS grew by ${mb(rssPeak - rss0)} MB`);
  });
});
