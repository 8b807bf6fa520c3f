import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SyncError } from '../../lib/sync/errors';
import { DeliveryJournal } from '../../lib/sync/journal';
import { compilePattern } from '../../lib/sync/names';
import { SyncPuller, type PulledFile, type SyncPullerOptions } from '../../lib/sync/puller';
import { generateCertificates } from '../../lib/tls/generate';
import {
  dataFiles,
  filesIn,
  refusedPort,
  sha1,
  startBuffer,
  tempDir,
  until,
  type TestBuffer,
} from './fixtures';

const pattern = compilePattern('');
const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

async function buffer(...args: Parameters<typeof startBuffer>): Promise<TestBuffer> {
  const b = await startBuffer(...args);
  cleanup.push(async () => {
    await b.server.close('test', 100);
    rmSync(b.storage, { recursive: true, force: true });
  });
  return b;
}

function puller(opts: Partial<SyncPullerOptions> & Pick<SyncPullerOptions, 'buffers'>) {
  const root = tempDir('sync-pull-');
  const p = new SyncPuller({
    incomingDir: join(root, 'data_in'),
    pattern,
    timeout: 2,
    retries: 2,
    ...opts,
  });
  const files: PulledFile[] = [];
  p.on('file', (f) => files.push(f));
  cleanup.push(async () => {
    await p.close();
    rmSync(root, { recursive: true, force: true });
  });
  return { p, files, root, incoming: opts.incomingDir ?? join(root, 'data_in') };
}

const dataLeft = (b: TestBuffer) =>
  [...filesIn(b.storage).keys()].filter((n) => n.endsWith('.data'));

describe('Sync server puller', () => {
  it('pulls two buffers at once while a third refuses connections', async () => {
    const a = dataFiles('agent-a', 40);
    const b = dataFiles('agent-b', 30, 3000);
    const A = await buffer({ ...a, 'notes.txt': 'not agent data', 'z~tmp': 'x' });
    mkdirSync(join(A.storage, 'conf.data')); // a directory whose name matches the pattern
    const B = await buffer(b);
    const down = await refusedPort();
    const { p, files, incoming } = puller({
      buffers: [
        A.endpoint,
        { host: '127.0.0.1', port: down, address: `127.0.0.1:${down}` },
        B.endpoint,
      ],
      connections: 3,
      connectTimeoutMs: 2000,
    });
    const summaries = await p.requestRound();
    const byAddr = new Map(summaries.map((s) => [s.address, s]));
    assert.equal(byAddr.get(A.endpoint.address)?.files, 40);
    assert.equal(byAddr.get(A.endpoint.address)?.error, null);
    assert.equal(byAddr.get(B.endpoint.address)?.files, 30);
    assert.equal(byAddr.get(B.endpoint.address)?.bytes, 30 * 3000);
    const bad = byAddr.get(`127.0.0.1:${down}`);
    assert.equal(bad?.files, 0);
    assert.match(bad?.error ?? '', /ECONNREFUSED/);
    const got = filesIn(incoming);
    assert.equal(got.size, 70);
    for (const [name, content] of Object.entries({ ...a, ...b })) {
      assert.equal(got.get(name), sha1(content), name);
    }
    assert.equal(files.length, 70);
    assert.ok(files.every((f) => f.path && !f.payload));
    await until(() => dataLeft(A).length === 0 && dataLeft(B).length === 0, 5000, 'empty buffers');
    assert.ok(existsSync(join(A.storage, 'notes.txt')), 'names outside the pattern stay');
    // The failed buffer waits (backoff) on automatic rounds, not on manual ones.
    const again = await p.requestRound('timer');
    assert.equal(again.find((s) => s.address === `127.0.0.1:${down}`)?.skipped, true);
  });

  it('owns its timer: start() pulls every intervalMs; after close every call fails with the reason', async () => {
    const A = await buffer(dataFiles('timer', 5));
    const { p, files } = puller({ buffers: [A.endpoint], intervalMs: 50 });
    const rounds: string[] = [];
    p.on('round', (_s, round) => rounds.push(round.reason));
    p.start();
    await until(() => files.length === 5 && rounds.length >= 2, 10_000, 'timer rounds');
    assert.ok(rounds.every((r) => r === 'timer'));
    await p.close('test over');
    const closed = (err: unknown) =>
      err instanceof SyncError &&
      err.code === 'ERR_SYNC_CLOSED' &&
      err.facts.reason === 'test over';
    await assert.rejects(p.requestRound('message'), closed);
    await assert.rejects(p.push('x.conf', Buffer.from('x')), closed);
    assert.throws(() => p.start(), closed);
    const after = rounds.length;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(rounds.length, after, 'no timer round after close');
  });

  it('a blackholed buffer never holds back the others: its slot goes on after listWaitMs', async () => {
    // Accepts, then never answers: the puller waits out its timeout on it.
    const sockets: Socket[] = [];
    const hole = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
    cleanup.push(
      () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          hole.close(() => r());
        }),
    );
    const port = (hole.address() as AddressInfo).port;
    const black = { host: '127.0.0.1', port, address: `127.0.0.1:${port}` };
    const A = await buffer(dataFiles('beside-hole', 4));
    const { p, files } = puller({
      buffers: [black, A.endpoint],
      listConcurrency: 1,
      listWaitMs: 100,
      timeout: 30,
      retries: 1,
    });
    const summaries: string[] = [];
    p.on('summary', (s) => summaries.push(s.address));
    const round = await p.requestRound('timer');
    assert.deepEqual(
      round.map((s) => s.address),
      [A.endpoint.address],
      'the timer round ends without the blackholed buffer',
    );
    assert.equal(files.length, 4);
    // The next timer round leaves it out while it is still being waited for.
    const again = await p.requestRound('timer');
    assert.deepEqual(
      again.map((s) => s.address),
      [A.endpoint.address],
    );
    assert.ok(!summaries.includes(black.address));
  });

  it('buffers with files wait for a drain slot; empty ones are listed meanwhile', async () => {
    const busy = await Promise.all([1, 2, 3].map((i) => buffer(dataFiles(`slot-${i}`, 12))));
    const empty = await Promise.all([1, 2, 3, 4].map(() => buffer({})));
    const { p, files } = puller({
      buffers: [...busy, ...empty].map((b) => b.endpoint),
      concurrency: 1,
      connections: 2,
    });
    const round = await p.requestRound('timer');
    assert.equal(round.length, 7);
    assert.ok(round.every((s) => s.error === null));
    assert.equal(files.length, 36);
    assert.equal(new Set(files.map((f) => `${f.address} ${f.filename}`)).size, 36);
    // Our buffer unlinks a moved file when the next line (here QUIT) arrives.
    await until(() => busy.every((b) => dataLeft(b).length === 0), 5000, 'empty buffers');
  });

  it('TLS with a client certificate (buffer -f) and without one (verifying the buffer)', async () => {
    const certs = generateCertificates({ bits: 1024 });
    const dir = tempDir('sync-tls-');
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const mutual = await buffer(dataFiles('tls-m', 5), {
      tls: { cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert },
    });
    const plainTls = await buffer(dataFiles('tls-s', 4), {
      tls: { cert: certs.server.cert, key: certs.server.key },
    });
    const withCert = puller({
      buffers: [mutual.endpoint],
      tls: { cert: certs.client.cert, key: certs.client.key, ca: certs.ca.cert },
    });
    const [s1] = await withCert.p.requestRound();
    assert.equal(s1.error, null);
    assert.equal(s1.files, 5);
    const caOnly = puller({ buffers: [plainTls.endpoint], tls: { ca: certs.ca.cert } });
    const [s2] = await caOnly.p.requestRound();
    assert.equal(s2.error, null);
    assert.equal(s2.files, 4);
    // No client certificate against a buffer that requires one: nothing pulled.
    const refill = await buffer(dataFiles('tls-n', 2), {
      tls: { cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert },
    });
    const noCert = puller({ buffers: [refill.endpoint], tls: { ca: certs.ca.cert } });
    const [s3] = await noCert.p.requestRound();
    assert.equal(s3.files, 0);
    assert.ok(s3.error, 'an error is reported');
    assert.equal(dataLeft(refill).length, 2);
  });

  it('a wrong CA or a wrong password gives a clear error and pulls nothing', async () => {
    const certs = generateCertificates({ bits: 1024 });
    const stranger = generateCertificates({ bits: 1024, caName: 'Some other CA' });
    const tlsBuffer = await buffer(dataFiles('ca', 3), {
      tls: { cert: certs.server.cert, key: certs.server.key },
    });
    const wrongCa = puller({ buffers: [tlsBuffer.endpoint], tls: { ca: stranger.ca.cert } });
    const [s1] = await wrongCa.p.requestRound();
    assert.equal(s1.files, 0);
    assert.match(s1.error ?? '', /certificate/i);
    assert.equal(filesIn(wrongCa.incoming).size, 0);
    assert.equal(dataLeft(tlsBuffer).length, 3);

    const pwBuffer = await buffer(dataFiles('pw', 3), { password: 's3cret' });
    const wrongPw = puller({ buffers: [pwBuffer.endpoint], password: 'guess' });
    const [s2] = await wrongPw.p.requestRound();
    assert.equal(s2.files, 0);
    assert.match(s2.error ?? '', /password/);
    assert.equal(dataLeft(pwBuffer).length, 3);
    const rightPw = puller({ buffers: [pwBuffer.endpoint], password: 's3cret' });
    const [s3] = await rightPw.p.requestRound();
    assert.equal(s3.files, 3);
  });

  it('a file that cannot be written here stays on the buffer, reported in the summary', async () => {
    // Tests run as root, so permissions do not stop a write: the incoming directory's parent
    // is a regular file instead (ENOTDIR), as a full or read-only disk would stop it.
    const root = tempDir('sync-full-');
    cleanup.push(() => rmSync(root, { recursive: true, force: true }));
    writeFileSync(join(root, 'not-a-dir'), 'x');
    const B = await buffer(dataFiles('full', 6));
    const { p } = puller({
      buffers: [B.endpoint],
      incomingDir: join(root, 'not-a-dir', 'data_in'),
      journalPath: join(root, 'journal'),
    });
    const [s] = await p.requestRound();
    assert.equal(s.files, 0);
    assert.match(s.error ?? '', /not-a-dir/);
    assert.match(s.error ?? '', /stay on/);
    assert.equal(dataLeft(B).length, 6);
  });

  it('never delivers twice what the journal or the incoming dir already holds', async () => {
    const files = dataFiles('dup', 3);
    const B = await buffer(files);
    const root = tempDir('sync-dup-');
    cleanup.push(() => rmSync(root, { recursive: true, force: true }));
    const incoming = join(root, 'data_in');
    mkdirSync(incoming);
    const names = Object.keys(files);
    // One was delivered and already consumed by the data server (only the journal knows),
    // one is still waiting in the incoming dir, one is new.
    const j = await DeliveryJournal.open(DeliveryJournal.pathFor(incoming));
    await j.record({
      address: B.endpoint.address,
      name: names[0],
      size: files[names[0]].length,
      sha1: sha1(files[names[0]]),
    });
    await j.close();
    writeFileSync(join(incoming, names[1]), files[names[1]]);
    const { p, files: delivered } = puller({ buffers: [B.endpoint], incomingDir: incoming });
    const [s] = await p.requestRound();
    assert.equal(s.error, null);
    assert.deepEqual(
      delivered.map((f) => f.filename),
      [names[2]],
    );
    assert.deepEqual([...filesIn(incoming).keys()].sort(), [names[1], names[2]]);
    await until(() => dataLeft(B).length === 0, 5000, 'empty buffer');
  });

  it('MV-direct mode (safe off) and deliver msg', async () => {
    const files = dataFiles('fast', 20);
    const B = await buffer(files);
    const {
      p,
      files: delivered,
      incoming,
    } = puller({
      buffers: [B.endpoint],
      safe: false,
      deliver: 'msg',
    });
    const [s] = await p.requestRound();
    assert.equal(s.error, null);
    assert.equal(s.files, 20);
    for (const f of delivered) {
      assert.equal(f.path, undefined);
      assert.equal(sha1(f.payload as Buffer), sha1(files[f.filename]));
    }
    assert.equal(existsSync(incoming) ? readdirSync(incoming).length : 0, 0);
    await until(() => dataLeft(B).length === 0, 5000, 'empty buffer');
  });

  it('pushes a .conf into the buffer conf/ directory through its filters', async () => {
    const B = await buffer({}, { filters: '.*\\.conf:conf;.*\\.md5:md5', overwrite: true });
    const down = await refusedPort();
    const { p } = puller({
      buffers: [B.endpoint, { host: '127.0.0.1', port: down, address: `127.0.0.1:${down}` }],
      connectTimeoutMs: 2000,
    });
    const conf = Buffer.from('agent_name isolated-1\ninterval 300\n');
    const results = await p.push('0123abcd.conf', conf);
    const ok = results.find((r) => r.address === B.endpoint.address);
    assert.equal(ok?.ok, true);
    assert.equal(ok?.error, null);
    assert.equal(filesIn(join(B.storage, 'conf')).get('0123abcd.conf'), sha1(conf));
    const bad = results.find((r) => r.address !== B.endpoint.address);
    assert.equal(bad?.ok, false);
    assert.match(bad?.error ?? '', /ECONNREFUSED/);
  });
});
