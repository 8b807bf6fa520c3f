/**
 * Hostile input to a TentacleServer: more than 10,000 generated malformed or hostile command
 * lines, names and payloads over many concurrent connections, slow-loris clients, and 500 idle
 * connections past `maxConnections`. Throughout, a well-formed client keeps doing SEND + LS + MV
 * and must be answered; each reply or close must be the one the protocol notes' table gives;
 * nothing may be written outside `storage`, no temp file may stay, memory stays bounded.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TentacleClient } from '../../lib/tentacle/client';
import { INVALID_CHARS } from '../../lib/tentacle/protocol';
import type { TentacleServerOptions } from '../../lib/tentacle/server';
import { zipBuffer } from '../../lib/tentacle/zip';
import { generateCertificates } from '../../lib/tls/generate';
import { CENTRAL_TAIL, member } from '../tentacle/zip-members';
import { ChildServer } from './child-server';
import { RawPeer } from './raw-peer';
import { removeDir, seedFromEnv, seeded, sha1, sleep, snapshot, tempDir, tempNames } from './util';
import { until, waitFor } from '../helpers/wait';

const CASES = Number(process.env.FAULT_CASES) || 10_500;
const WORKERS = 48;
const MAX_CONNECTIONS = 100;
const MAX_SIZE = 100_000;
const RSS_BOUND = 200 * 1024 * 1024;

type Outcome = 'open' | 'closed';

interface Ctx {
  rnd: () => number;
  worker: number;
  seq: number;
  /** name -> sha1 of what the server must hold at the end. */
  stored: Map<string, string>;
}

class Mismatch extends Error {}

/**
 * The uncaught exceptions of a known TentacleServer bug: the SEND payload stream has no error
 * listener until the temp file is open, so a peer that leaves (or a session that ends) in that
 * window destroys it with an error nobody handles, and the process dies.
 */

const bombs = new Map<number, Promise<Buffer>>();

/** An archive of `size` zero bytes (a few KB per 10 MB), made once per size bucket. */
function bombOf(size: number): Promise<Buffer> {
  const bucket = Math.ceil(size / 1_000_000) * 1_000_000;
  let z = bombs.get(bucket);
  if (!z) {
    z = zipBuffer('bomb', Buffer.alloc(bucket));
    bombs.set(bucket, z);
  }
  return z;
}

function pick<T>(rnd: () => number, items: readonly T[]): T {
  return items[Math.floor(rnd() * items.length)];
}

async function expectLine(p: RawPeer, want: string | RegExp, what: string): Promise<string> {
  const got = await p.line();
  const ok = got !== null && (typeof want === 'string' ? got === want : want.test(got));
  if (!ok) {
    throw new Mismatch(`${what}: wanted ${String(want)}, got ${JSON.stringify(got)}`);
  }
  return got;
}

async function expectClose(p: RawPeer, what: string): Promise<Outcome> {
  if (!(await p.closesSilently())) {
    throw new Mismatch(`${what}: wanted a silent close, got ${JSON.stringify(p.pending())}`);
  }
  return 'closed';
}

/** A name every server accepts, unique to this case, with the awkward-but-legal bytes. */
function goodName(c: Ctx): string {
  const odd = pick(c.rnd, [' ', '.', '..x', '"|$&%#!', 'ñandú', '日本', '\r', '-', '(1)', '@']);
  return `.w${c.worker}-${c.seq}${odd}z.data`;
}

const UNKNOWN = [
  'send <a.data> SIZE 3',
  'Send <a.data> SIZE 3',
  'ls <>',
  'mv <a.data>',
  'recv <a.data>',
  'quit',
  'QUIT\r',
  'LS <>\r',
  'MV <a.data>\r',
  'RECV <a.data>\r',
  'SEND <a.data> SIZE 3\r',
  'SEND  <a.data> SIZE 3',
  'SEND <a.data>  SIZE 3',
  'SEND <a.data> SIZE  3',
  'SEND <a.data> SIZE 3 ',
  ' SEND <a.data> SIZE 3',
  'SEND <a.data> SIZE -3',
  'SEND <a.data> SIZE 0x10',
  'SEND <a.data> SIZE 1e3',
  'SEND <a.data> SIZE +3',
  'SEND <a.data> SIZE 1.5',
  'SEND <a.data> SIZE',
  'SEND <a.data>',
  'SEND a.data SIZE 3',
  'ZSEND <a.data> SIZE -1',
  'LS  <>',
  'LS <> ',
  'LS',
  'MV  <a.data>',
  'MV a.data',
  'RECV  <a.data>',
  'QUIT ',
  ' QUIT',
  '',
  'PASS 703b089710823916d4bb7ff2deff4d8f',
  'HELLO',
  'STARTTLS',
  'NOOP',
  'DEL <a.data>',
  'RM <a.data>',
  'MOVE <a.data>',
  'STAT <a.data>',
  'SE\0ND <a.data> SIZE 3',
  'LS\0<>',
  'GET / HTTP/1.0',
];

type Gen = (p: RawPeer, c: Ctx) => Promise<Outcome>;

const GENS: [number, string, Gen][] = [
  [
    12,
    'unknown line',
    async (p, c) => {
      const l = pick(c.rnd, UNKNOWN);
      p.write(`${l}\n`);
      return expectClose(p, JSON.stringify(l));
    },
  ],
  [
    2,
    'QUIT',
    async (p) => {
      p.write('QUIT\n');
      return expectClose(p, 'QUIT');
    },
  ],
  [
    5,
    'random bytes',
    async (p, c) => {
      const junk = randomBytes(1 + Math.floor(c.rnd() * 300)).filter((b) => b !== 0x0a);
      // A leading byte no command starts with, so the junk can never be a command by chance.
      p.write(Buffer.concat([Buffer.from('#'), junk, Buffer.from('\n')]));
      return expectClose(p, 'random bytes');
    },
  ],
  [
    3,
    'overlong line',
    async (p, c) => {
      const n = 1025 + Math.floor(c.rnd() * 60_000);
      const withLf = c.rnd() < 0.5;
      const line = Buffer.concat([Buffer.from('LS <'), Buffer.alloc(n, 0x61)]);
      for (let i = 0; i < line.length && !p.closed; i += 8192) p.write(line.subarray(i, i + 8192));
      if (withLf) p.write('>\n');
      return expectClose(p, `line of ${n} bytes`);
    },
  ],
  [
    2,
    'longest legal line',
    async (p) => {
      // 1023 bytes + LF = 1024: the longest line the peers accept.
      p.write(`LS <${'a'.repeat(1018)}>\n`);
      await expectLine(p, /^LS SIZE \d+$/, 'LS of a 1023-byte line');
      p.write('LS NO\n');
      return 'open';
    },
  ],
  [
    10,
    'banned character',
    async (p, c) => {
      const ch = pick(c.rnd, INVALID_CHARS.split(''));
      const name = `x${ch}${c.seq}.data`;
      const cmd = pick(c.rnd, ['SEND', 'ZSEND', 'RECV', 'ZRECV', 'MV', 'LS'] as const);
      const size = pick(c.rnd, [0, 5, 99999999999999]);
      const line =
        cmd === 'SEND' || cmd === 'ZSEND' ? `${cmd} <${name}> SIZE ${size}` : `${cmd} <${name}>`;
      p.write(`${line}\n`);
      const want =
        cmd === 'SEND' || cmd === 'ZSEND'
          ? `${cmd} ERR (invalid file name)`
          : cmd === 'RECV' || cmd === 'ZRECV'
            ? `${cmd} ERR (file has an invalid file name)`
            : `${cmd} ERR`;
      await expectLine(p, want, line);
      return 'open';
    },
  ],
  [
    6,
    'size out of range',
    async (p, c) => {
      const size = pick(c.rnd, [
        '0',
        '0000',
        String(MAX_SIZE + 1),
        '99999999999999999999',
        '9'.repeat(400),
      ]);
      const cmd = pick(c.rnd, ['SEND', 'ZSEND'] as const);
      p.write(`${cmd} <big${c.seq}.data> SIZE ${size}\n`);
      await expectLine(p, `${cmd} ERR (file is too big)`, `${cmd} SIZE ${size.slice(0, 20)}`);
      return 'open';
    },
  ],
  [
    8,
    'missing or special name',
    async (p, c) => {
      const name = pick(c.rnd, ['', '.', '..', `nothing-${c.seq}.data`, ' ', '...']);
      const cmd = pick(c.rnd, ['RECV', 'ZRECV', 'MV'] as const);
      p.write(`${cmd} <${name}>\n`);
      await expectLine(
        p,
        cmd === 'MV' ? 'MV ERR' : `${cmd} ERR (file does not exist)`,
        `${cmd} <${name}>`,
      );
      return 'open';
    },
  ],
  [
    4,
    'LS',
    async (p, c) => {
      const arg = pick(c.rnd, ['', '..', '.', 'x', '*', '../..', 'a b']);
      p.write(`LS <${arg}>\n`);
      if (/[*/]/.test(arg)) {
        await expectLine(p, 'LS ERR', `LS <${arg}>`);
        return 'open';
      }
      const head = await expectLine(p, /^LS SIZE \d+$/, `LS <${arg}>`);
      if (c.rnd() < 0.5) {
        p.write('LS NO\n');
        return 'open';
      }
      p.write('LS OK\n');
      const n = Number(head.slice(8));
      const body = await p.bytes(n);
      if (!body) throw new Mismatch(`LS listing of ${n} bytes did not arrive`);
      const names = body.toString('utf8').split('\n');
      if (names.pop() !== '' || !names.includes('.') || !names.includes('..')) {
        throw new Mismatch(`LS listing malformed: ${JSON.stringify(body.toString().slice(0, 80))}`);
      }
      if (names.some((x) => x.includes('~'))) throw new Mismatch('LS shows a temp file');
      return 'open';
    },
  ],
  [
    14,
    'SEND exact',
    async (p, c) => {
      const name = goodName(c);
      const body = randomBytes(1 + Math.floor(c.rnd() * 4000));
      const z = c.rnd() < 0.2 ? 'Z' : '';
      p.write(`${z}SEND <${name}> SIZE ${body.length}\n`);
      await expectLine(p, `${z}SEND OK`, `${z}SEND ${JSON.stringify(name)}`);
      // Non-zip ZSEND data is stored verbatim, as the reference's unzip passes it through.
      if (z) body[0] = 0x21;
      p.write(body);
      await expectLine(p, `${z}SEND OK`, `${z}SEND ${JSON.stringify(name)} data`);
      c.stored.set(name, sha1(body));
      if (c.rnd() < 0.3) {
        p.write(`SEND <${name}> SIZE 3\n`);
        await expectLine(p, 'SEND ERR (file already exists)', 'SEND again');
      }
      return 'open';
    },
  ],
  [
    5,
    'SEND short, peer gone',
    async (p, c) => {
      const name = goodName(c);
      const size = 2 + Math.floor(c.rnd() * 50_000);
      p.write(`SEND <${name}> SIZE ${size}\n`);
      await expectLine(p, 'SEND OK', 'SEND short');
      p.write(randomBytes(Math.floor(c.rnd() * (size - 1))));
      await sleep(c.rnd() * 20);
      p.destroy();
      return 'closed';
    },
  ],
  [
    0.3,
    'SEND short, peer silent',
    async (p, c) => {
      const name = goodName(c);
      p.write(`SEND <${name}> SIZE 1000\n`);
      await expectLine(p, 'SEND OK', 'SEND short');
      p.write(randomBytes(999));
      // The server's inactivity limit (t × (r + 1) = 2 s) ends it.
      return expectClose(p, 'SEND short then silent');
    },
  ],
  [
    4,
    'SEND long',
    async (p, c) => {
      const name = goodName(c);
      const body = randomBytes(1 + Math.floor(c.rnd() * 3000));
      p.write(`SEND <${name}> SIZE ${body.length}\n`);
      await expectLine(p, 'SEND OK', 'SEND long');
      // The extra bytes become the next "command": unknown, so the connection is closed.
      p.write(Buffer.concat([body, Buffer.from('#extra bytes\n')]));
      await expectLine(p, 'SEND OK', 'SEND long data');
      c.stored.set(name, sha1(body));
      return expectClose(p, 'bytes past the announced size');
    },
  ],
  [
    4,
    'SEND unwritable name',
    async (p, c) => {
      const name = pick(c.rnd, ['', '.', '..', 'a\0b.data', 'y'.repeat(300)]);
      p.write(`SEND <${name}> SIZE 5\n`);
      const label = `SEND <${JSON.stringify(name).slice(0, 20)}>`;
      if (name.length < 300) {
        // Names that cannot be a file of their own are refused before any data (the reference
        // takes the data and fails writing); the connection stays open.
        await expectLine(p, 'SEND ERR (invalid file name)', label);
        return 'open';
      }
      // Too long for the filesystem: the write fails after the first SEND OK and the connection
      // is closed without a reply, as the reference does.
      const first = await expectLine(p, /^SEND (OK|ERR \(file already exists\))$/, label);
      if (first !== 'SEND OK') return 'open';
      p.write('hello');
      return expectClose(p, `SEND ${JSON.stringify(name).slice(0, 20)} data`);
    },
  ],
  [
    3,
    'ZSEND zip bomb',
    async (p, c) => {
      // A few KB of archive that inflates far past -m: refused, nothing stored, still in step.
      const name = goodName(c);
      const inflated = MAX_SIZE + 1 + Math.floor(c.rnd() * 20_000_000);
      const archive = await bombOf(inflated);
      p.write(`ZSEND <${name}> SIZE ${archive.length}\n`);
      await expectLine(p, 'ZSEND OK', 'ZSEND bomb');
      p.write(archive);
      await expectLine(p, 'ZSEND ERR (file is too big)', `ZSEND bomb of ${inflated} bytes`);
      return 'open';
    },
  ],
  [
    4,
    'ZSEND member checks',
    async (p, c) => {
      const name = goodName(c);
      const data = randomBytes(1 + Math.floor(c.rnd() * 5000));
      const descriptor = c.rnd() < 0.7;
      const unsigned = c.rnd() < 0.3;
      const kind = pick(c.rnd, ['good', 'bad crc', 'bad size', 'bad 2nd', 'cut', 'junk'] as const);
      let archive: Buffer;
      if (kind === 'good') archive = member('m', data, { descriptor, unsigned });
      else if (kind === 'bad crc') archive = member('m', data, { descriptor, badCrc: true });
      else if (kind === 'bad size') archive = member('m', data, { descriptor, badSize: true });
      else if (kind === 'bad 2nd') {
        archive = Buffer.concat([
          member('m', data, { descriptor }),
          member('n', data, { descriptor: true, badCrc: true }),
        ]);
      } else if (kind === 'cut') {
        const whole = member('m', data, { descriptor: true });
        archive = whole.subarray(0, 30 + Math.floor(c.rnd() * (whole.length - 31)));
      } else {
        archive = Buffer.concat([member('m', data).subarray(0, 31), randomBytes(200)]);
      }
      if (c.rnd() < 0.5) archive = Buffer.concat([archive, CENTRAL_TAIL]);
      p.write(`ZSEND <${name}> SIZE ${archive.length}\n`);
      await expectLine(p, 'ZSEND OK', `ZSEND ${kind}`);
      p.write(archive);
      if (kind === 'good') {
        await expectLine(p, 'ZSEND OK', 'ZSEND good archive');
        c.stored.set(name, sha1(data));
      } else {
        // Junk after a local header may still happen to inflate: then only the CRC can tell.
        await expectLine(p, 'ZSEND ERR', `ZSEND ${kind}`);
      }
      return 'open';
    },
  ],
  [
    1,
    'PASS without password',
    async (p) => {
      p.write('PASS 00000000000000000000000000000000\n');
      return expectClose(p, 'PASS to a server without password');
    },
  ],
];

const TOTAL_WEIGHT = GENS.reduce((n, g) => n + g[0], 0);

function choose(rnd: () => number): [string, Gen] {
  let x = rnd() * TOTAL_WEIGHT;
  for (const [w, label, gen] of GENS) {
    x -= w;
    if (x <= 0) return [label, gen];
  }
  const last = GENS[GENS.length - 1];
  return [last[1], last[2]];
}

/** One SEND + LS + MV round trip of a well-formed client; throws if anything is off. */
async function goodClient(port: number, k: number, timeout = 2): Promise<void> {
  const c = await TentacleClient.connect({ host: '127.0.0.1', port, timeout, retries: 1 });
  try {
    const name = `good-${k}.data`;
    const body = randomBytes(100 + (k % 2000));
    await c.send(name, body);
    const listing = await c.ls('');
    assert.ok(listing.includes(name), `${name} listed`);
    const parts: Buffer[] = [];
    await c.mv(name, async (data) => {
      for await (const chunk of data) parts.push(chunk as Buffer);
    });
    assert.ok(Buffer.concat(parts).equals(body), `${name} comes back intact`);
    await c.quit();
  } finally {
    c.destroy();
  }
}

/** A fresh server process of its own for one test, so one crash does not spoil the next test. */
async function ownServer(
  root: string,
  tag: string,
  opts: Partial<TentacleServerOptions> = {},
): Promise<ChildServer> {
  const storage = join(root, tag, 'storage');
  mkdirSync(storage, { recursive: true });
  return ChildServer.start({ timeout: 1, retries: 1, ...opts, storage });
}

describe('hostile input to a TentacleServer', { timeout: 180_000 }, () => {
  const seed = seedFromEnv();
  const root = tempDir('fault-hostile-');
  const parent = join(root, 'parent');
  const storage = join(parent, 'storage');
  let server: ChildServer;
  let port = 0;
  let outside: Map<string, string>;
  const stored = new Map<string, string>();

  before(async () => {
    mkdirSync(storage, { recursive: true });
    writeFileSync(join(root, 'top.txt'), 'outside');
    writeFileSync(join(parent, 'sibling.txt'), 'outside');
    server = await ChildServer.start({
      storage,
      maxConnections: MAX_CONNECTIONS,
      maxSize: MAX_SIZE,
      timeout: 1,
      retries: 1,
    });
    port = server.port;
    outside = snapshot(root);
    outside.delete('parent/storage/');
  });

  after(async () => {
    await server?.stop();
    removeDir(root);
  });

  it(`answers ${CASES} hostile inputs as the protocol says, serving good clients throughout`, async () => {
    const rnd = seeded(seed);
    const rss0 = await server.rss();
    let rssPeak = rss0;
    const sampler = setInterval(() => {
      void server.rss().then((r) => (rssPeak = Math.max(rssPeak, r || 0)));
    }, 100);
    const t0 = Date.now();
    let next = 0;
    let connections = 0;
    const mismatches: string[] = [];
    const byKind = new Map<string, number>();
    let fuzzing = true;

    const worker = async (w: number) => {
      let p: RawPeer | null = null;
      while (next < CASES && Date.now() - t0 < 120_000) {
        const seq = next++;
        const ctx: Ctx = { rnd, worker: w, seq, stored };
        const [label, gen] = choose(rnd);
        byKind.set(label, (byKind.get(label) ?? 0) + 1);
        try {
          if (!p || p.closed) {
            p = await RawPeer.connect(port);
            connections++;
          }
          const outcome = await gen(p, ctx);
          if (outcome === 'closed') {
            p.destroy();
            p = null;
          }
        } catch (err) {
          mismatches.push(`[${label} #${seq}] ${(err as Error).message}`);
          p?.destroy();
          p = null;
        }
      }
      p?.destroy();
    };

    // Slow-loris clients: a SEND one byte every 300 ms, line and payload alike.
    let slowDone = 0;
    const slowErrors: string[] = [];
    const slowLoris = async (i: number) => {
      try {
        await slowOne(i);
      } catch (err) {
        slowErrors.push((err as Error).message);
      }
    };
    const slowOne = async (i: number) => {
      const p = await RawPeer.connect(port);
      const name = `slow-${i}.data`;
      const body = Buffer.from(`slow ${i}!`);
      for (const b of Buffer.from(`SEND <${name}> SIZE ${body.length}\n`)) {
        p.write(Buffer.from([b]));
        await sleep(300);
      }
      await expectLine(p, 'SEND OK', 'slow SEND');
      for (const b of body) {
        p.write(Buffer.from([b]));
        await sleep(300);
      }
      await expectLine(p, 'SEND OK', 'slow SEND data');
      stored.set(name, sha1(body));
      p.destroy();
      slowDone++;
    };

    // The well-formed client, interleaved with the fuzzing.
    let good = 0;
    const goodErrors: string[] = [];
    const goodLoop = async () => {
      while (fuzzing && good < 2000) {
        try {
          await goodClient(port, good);
        } catch (err) {
          goodErrors.push((err as Error).message);
        }
        good++;
        await sleep(50);
      }
    };

    const goodRun = goodLoop();
    const slow = Promise.all(Array.from({ length: 5 }, (_, i) => slowLoris(i)));
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    await slow;
    fuzzing = false;
    await goodRun;
    clearInterval(sampler);
    const ms = Date.now() - t0;
    const rss1 = await server.rss();
    const mb = (n: number) => (n / 1048576).toFixed(1);
    console.log(
      `hostile seed=${seed}: ${next} inputs over ${connections} connections in ${ms} ms; ` +
        `${good} good SEND+LS+MV round trips (${goodErrors.length} failed); ` +
        `${slowDone} slow-loris SENDs; RSS ${mb(rss0)} -> peak ${mb(rssPeak)} -> ${mb(rss1)} MB`,
    );
    console.log(`hostile inputs by kind: ${[...byKind].map(([k, n]) => `${k} ${n}`).join(', ')}`);
    const crashes = server.crashes.map((c) => c.split('\n')[0]);
    if (crashes.length > 0) {
      console.log(`hostile: the server process crashed: ${crashes.join(' | ')}`);
    }
    assert.deepEqual(crashes, [], 'the server process never crashed');
    assert.ok(server.alive, 'the server process is up');
    assert.ok(next >= 10_000, `only ${next} inputs ran`);
    assert.deepEqual(mismatches.slice(0, 10), [], `${mismatches.length} replies off the table`);
    assert.deepEqual(goodErrors.slice(0, 5), [], 'the good client was always answered');
    assert.ok(good >= 10, `only ${good} good round trips`);
    assert.deepEqual(slowErrors, [], 'slow clients are served, not cut');
    assert.equal(slowDone, 5, 'slow clients are served, not cut');
    assert.ok(rssPeak - rss0 < RSS_BOUND, `RSS grew by ${mb(rssPeak - rss0)} MB`);

    // Let cut uploads finish cleaning up, then check the disk.
    await waitFor(() => tempNames(storage).length === 0, 10_000, 'cut uploads to be cleaned up');
    const held = new Map<string, string>();
    for (const n of readdirSync(storage)) held.set(n, sha1(readFileSync(join(storage, n))));
    assert.deepEqual(
      [...held.keys()].filter((n) => n.includes('~')),
      [],
      'no temp file remains',
    );
    const missing = [...stored].filter(([n, h]) => held.get(n) !== h).map(([n]) => n);
    // good-N files the good client MV'd may survive its QUIT: see the MV + QUIT test below.
    const extra = [...held.keys()].filter((n) => !stored.has(n) && !/^good-\d+\.data$/.test(n));
    assert.deepEqual(missing, [], 'every acknowledged upload is held, intact');
    assert.deepEqual(extra, [], 'nothing unacknowledged is held');
    const now = snapshot(root);
    for (const k of [...now.keys()]) if (k.startsWith('parent/storage/')) now.delete(k);
    assert.deepEqual(now, outside, 'nothing written outside storage');
  });

  it('writes nothing outside storage even while an upload to ".." or "." is in flight', async () => {
    const own = await ownServer(root, 'outside');
    const before = snapshot(root);
    const seen: string[] = [];
    try {
      for (const name of ['..', '.', '']) {
        const p = await RawPeer.connect(own.port);
        try {
          p.write(`SEND <${name}> SIZE 50000\n`);
          const first = await p.line();
          if (first !== 'SEND OK') continue;
          p.write(randomBytes(1000));
          await sleep(300);
          for (const k of snapshot(root).keys()) {
            if (!before.has(k) && !k.startsWith('outside/storage/')) seen.push(`${name}: ${k}`);
          }
        } finally {
          p.destroy();
        }
      }
      // A full exchange after them: every upload above has been dealt with.
      await goodClient(own.port, 3);
      for (const k of snapshot(root).keys()) {
        if (!before.has(k) && !k.startsWith('outside/storage/')) seen.push(`after: ${k}`);
      }
    } finally {
      await own.stop();
    }
    assert.deepEqual(seen, [], 'no temp file outside storage during the upload');
  });

  it('survives peers that leave right after the first SEND OK', async () => {
    const own = await ownServer(root, 'gone');
    try {
      for (let i = 0; i < 50 && own.alive; i++) {
        const p = await RawPeer.connect(own.port);
        p.write(`SEND <gone-${i}.data> SIZE 1000\n`);
        await p.line();
        p.destroy();
        await sleep(20);
      }
      // A full exchange after them: the server has dealt with every close before it answers.
      await goodClient(own.port, 2);
      assert.deepEqual(
        own.crashes.map((c) => c.split('\n')[0]),
        [],
        'no uncaught exception',
      );
      assert.ok(own.alive, 'the server process is up');
    } finally {
      await own.stop();
    }
  });

  it('survives a NUL byte in a SEND name', async () => {
    const own = await ownServer(root, 'nul');
    try {
      const p = await RawPeer.connect(own.port);
      p.write('SEND <a\0b.data> SIZE 5\n');
      await expectLine(p, 'SEND ERR (invalid file name)', 'SEND with NUL');
      p.destroy();
      await goodClient(own.port, 1);
      assert.deepEqual(
        own.crashes.map((c) => c.split('\n')[0]),
        [],
        'no uncaught exception',
      );
      assert.ok(own.alive, 'the server process is up');
    } finally {
      await own.stop();
    }
  });

  it("removes an MV'd file when the client's QUIT arrives together with its FIN", async () => {
    let survivors = 0;
    const ROUNDS = 40;
    const own = await ownServer(root, 'mvquit');
    const dir = join(root, 'mvquit', 'storage');
    try {
      for (let i = 0; i < ROUNDS && own.alive; i++) {
        const name = `mvquit-${i}.data`;
        writeFileSync(join(dir, name), `file ${i}`);
        const p = await RawPeer.connect(own.port);
        try {
          p.write(`MV <${name}>\n`);
          const head = await expectLine(p, /^MV SIZE \d+$/, 'MV');
          p.write('MV OK\n');
          await p.bytes(Number(head.slice(8)));
          // What TentacleClient.quit() does: the line and the FIN in one go.
          p.socket.end('QUIT\n');
          await p.closesSilently();
        } finally {
          p.destroy();
        }
        // The server removes the file once it has read the QUIT; give it up to 2 s.
        if (!(await until(() => !readdirSync(dir).includes(name), 2000))) survivors++;
      }
    } finally {
      await own.stop();
    }
    console.log(`MV + QUIT with FIN: ${survivors} of ${ROUNDS} files survived`);
    assert.equal(survivors, 0, `${survivors} of ${ROUNDS} MV'd files are still on the buffer`);
  });

  it('keeps serving with 500 idle connections past maxConnections', async () => {
    const own = await ownServer(root, 'idle', { maxConnections: MAX_CONNECTIONS });
    const port = own.port;
    const idle: net.Socket[] = [];
    const t0 = Date.now();
    try {
      for (let i = 0; i < MAX_CONNECTIONS + 500; i++) {
        const s = net.connect({ host: '127.0.0.1', port });
        s.on('error', () => undefined);
        idle.push(s);
      }
      await Promise.all(
        idle.map(
          (s) =>
            new Promise<void>((r) => {
              if (!s.connecting) return r();
              s.once('connect', () => r());
              s.once('error', () => r());
            }),
        ),
      );
      const tWait = Date.now();
      // Queued behind the idle ones, as behind the reference's blocking accept: the server
      // times each out (2 s) a slot at a time, so the good client is answered after a while.
      await goodClient(port, 100_000, 30);
      const waited = Date.now() - tWait;
      for (const s of idle) s.destroy();
      const t1 = Date.now();
      await goodClient(port, 100_001);
      console.log(
        `idle flood: ${idle.length} idle connections opened in ${tWait - t0} ms; a good client ` +
          `queued behind them was answered after ${waited} ms; once they left, in ${Date.now() - t1} ms`,
      );
      assert.ok(own.alive, 'the server process is up');
    } finally {
      for (const s of idle) s.destroy();
      await own.stop();
    }
  });

  it('a hostile client outside pullers never gets a byte of a held file, and the puller still does', async () => {
    const rnd = seeded(seed + 22);
    const central = generateCertificates({ bits: 1024, clientName: 'sync-central' });
    const agent = generateCertificates({ bits: 1024, caName: 'Agents CA', clientName: 'web-01' });
    const own = await ownServer(root, 'pullers', {
      tls: {
        cert: central.server.cert,
        key: central.server.key,
        ca: central.ca.cert + agent.ca.cert,
      },
      pullers: ['sync-central'],
      maxSize: MAX_SIZE,
    });
    const ownStorage = join(root, 'pullers', 'storage');
    const secret = `secret-${randomBytes(16).toString('hex')}`;
    writeFileSync(join(ownStorage, 'held.data'), secret);
    const names = ['held.data', '', '.', '..', 'x/../held.data', 'held.data\r', 'nothere.data'];
    // One step a write, each waiting for its answer or the close: bytes that come together with a
    // line make it malformed (the reference's rule), which would hide what is being tried.
    const step = (): string[] => {
      const name = pick(rnd, names);
      return pick(rnd, [
        [`LS <${name}>\n`],
        [`RECV <${name}>\n`, 'RECV OK\n'],
        [`ZRECV <${name}>\n`, 'ZRECV OK\n'],
        [`MV <${name}>\n`, 'MV OK\n'],
        ['RECV OK\n'],
        [`${pick(rnd, UNKNOWN)}\n`],
        [`PASS ${randomBytes(4).toString('hex')}\n`],
        [`SEND <h${Math.floor(rnd() * 1e9)}.data> SIZE 3\n`, 'abc'],
        [`ZSEND <z${Math.floor(rnd() * 1e9)}.data> SIZE 5\n`, 'junk!'],
        [`${randomBytes(1 + Math.floor(rnd() * 64)).toString('hex')}\n`],
      ]);
    };
    const session = (steps: string[]): Promise<string> =>
      new Promise((resolve) => {
        const sock = tls.connect({
          host: '127.0.0.1',
          port: own.port,
          ca: central.ca.cert,
          cert: agent.client.cert,
          key: agent.client.key,
        });
        let data = '';
        let closed = false;
        let wake = () => undefined as void;
        const next = () =>
          new Promise<void>((r) => {
            wake = r;
            setTimeout(r, 3000).unref();
          });
        sock.on('data', (d: Buffer) => {
          data += d.toString('latin1');
          wake();
        });
        sock.on('error', () => undefined);
        sock.on('close', () => {
          closed = true;
          wake();
          resolve(data);
        });
        sock.on('secureConnect', () => {
          void (async () => {
            for (const w of steps) {
              if (closed) return;
              const answered = next();
              sock.write(w, 'latin1');
              await answered;
            }
            sock.destroy();
          })();
        });
      });
    const TRIES = 300;
    let refusedQuietly = 0;
    let sent = 0;
    let leaked = 0;
    try {
      for (let i = 0; i < TRIES; i++) {
        const steps = [step(), ...(rnd() < 0.5 ? [step()] : [])].flat();
        const got = await session(steps);
        if (got.includes(secret) || /(LS|RECV|MV) SIZE/.test(got)) leaked++;
        if (got === '') refusedQuietly++;
        if (got.includes('SEND OK')) sent++;
      }
      // The same client may send: the refusals above are not a dead connection.
      assert.ok(sent > 0, 'some SENDs from the non-puller were served');
      assert.equal(leaked, 0, 'no listing or file content reached a non-puller');
      assert.equal(readFileSync(join(ownStorage, 'held.data'), 'utf8'), secret, 'held file intact');
      const c = await TentacleClient.connect({
        host: '127.0.0.1',
        port: own.port,
        tls: { cert: central.client.cert, key: central.client.key, ca: central.ca.cert },
      });
      let taken = '';
      await c.mv('held.data', async (d) => {
        for await (const chunk of d) taken += String(chunk);
      });
      await c.quit();
      assert.equal(taken, secret);
      console.log(
        `pullers: ${TRIES} hostile TLS sessions from a non-puller (seed ${seed}): ${sent} had a ` +
          `SEND or ZSEND served, ${refusedQuietly} got nothing at all, 0 got a listing or a byte ` +
          `of a held file; the puller then took it`,
      );
      assert.ok(own.alive, 'the server process is up');
      assert.deepEqual(own.crashes, []);
    } finally {
      await own.stop();
    }
  });
});
