import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { TentacleClient, TentacleError, type TentacleEvent } from '../../lib/tentacle';
import { listDir, RawPeer, removeDir, sleep, startServer, type Started } from './helpers';
import { until, waitFor } from '../helpers/wait';

async function collect(data: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of data) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

const FILTERS = '.*\\.conf:conf;.*\\.md5:md5;.*\\.zip:collections';

describe('tentacle server and client over loopback', () => {
  let s: Started;
  let client: TentacleClient;
  const events: TentacleEvent[] = [];
  const extra: Started[] = [];

  before(async () => {
    s = await startServer({ filters: FILTERS });
    for (const t of ['received', 'pulled', 'rejected'] as const) {
      s.server.on(t, (e: TentacleEvent) => events.push(e));
    }
    client = await TentacleClient.connect({ host: '127.0.0.1', port: s.port });
  });

  after(async () => {
    client.destroy();
    await s.server.close('test', 100);
    await removeDir(s.storage);
    for (const x of extra) {
      await x.server.close('test', 100);
      await removeDir(x.storage);
    }
  });

  it('creates the storage and filter directories', async () => {
    assert.deepEqual(await listDir(s.storage), ['collections', 'conf', 'md5']);
  });

  it('SEND, RECV and LS over one connection; filters route files', async () => {
    const body = randomBytes(100_000);
    await client.send('agent_1.1.data', body);
    await client.send('agent.conf', Buffer.from('conf body'));
    await client.send('agent.md5', Buffer.from('md5 body'));
    assert.deepEqual(await readFile(join(s.storage, 'agent_1.1.data')), body);
    assert.equal(await readFile(join(s.storage, 'conf', 'agent.conf'), 'utf8'), 'conf body');
    assert.equal(await readFile(join(s.storage, 'md5', 'agent.md5'), 'utf8'), 'md5 body');
    let got: Buffer = Buffer.alloc(0);
    const n = await client.recv('agent_1.1.data', async (d) => {
      got = await collect(d);
    });
    assert.equal(n, body.length);
    assert.deepEqual(got, body);
    const conf = await client.recv('agent.conf', async (d) => {
      assert.equal((await collect(d)).toString(), 'conf body');
    });
    assert.equal(conf, 9);
    const root = await client.ls('');
    assert.ok(root.includes('.') && root.includes('..'));
    assert.ok(root.includes('conf') && root.includes('agent_1.1.data'));
    assert.ok(!root.includes('agent.conf'));
    assert.deepEqual((await client.ls('x.conf')).sort(), ['.', '..', 'agent.conf']);
    assert.deepEqual(s.server.stats(), { files: 3, bytes: body.length + 9 + 8 });
    assert.ok(events.some((e) => e.topic === 'received' && e.filename === 'agent.conf'));
  });

  it('sends from a file path and from a stream', async () => {
    const p = join(s.storage, 'collections', 'local-src');
    await writeFile(p, 'from a path');
    await client.send('from_path.data', p);
    await client.send(
      'from_stream.data',
      Readable.from([Buffer.from('abc'), Buffer.from('def')]),
      6,
    );
    assert.equal(await readFile(join(s.storage, 'from_path.data'), 'utf8'), 'from a path');
    assert.equal(await readFile(join(s.storage, 'from_stream.data'), 'utf8'), 'abcdef');
  });

  it('refuses invalid names, empty and too-big files, existing files; stays connected', async () => {
    for (const ch of "?[]/\\=+<:;',*~") {
      await assert.rejects(client.send(`bad${ch}name`, Buffer.from('x')), (e: TentacleError) => {
        assert.equal(e.code, 'ERR_REPLY');
        assert.equal(e.reply, 'SEND ERR (invalid file name)');
        return true;
      });
    }
    await assert.rejects(client.send('empty.data', Buffer.alloc(0)), {
      reply: 'SEND ERR (file is too big)',
    });
    await assert.rejects(client.send('big.data', Buffer.alloc(2_000_001)), {
      reply: 'SEND ERR (file is too big)',
    });
    await assert.rejects(client.send('agent.conf', Buffer.from('again')), {
      reply: 'SEND ERR (file already exists)',
      message: /SEND ERR \(file already exists\)/,
    });
    await assert.rejects(
      client.recv('nope.data', async () => undefined),
      {
        reply: 'RECV ERR (file does not exist)',
      },
    );
    await assert.rejects(
      client.recv('a*b', async () => undefined),
      {
        reply: 'RECV ERR (file has an invalid file name)',
      },
    );
    await assert.rejects(
      client.recv('conf', async () => undefined),
      {
        reply: 'RECV ERR (file does not exist)',
      },
    );
    await assert.rejects(
      client.mv('nope.data', async () => undefined),
      { reply: 'MV ERR' },
    );
    await assert.rejects(
      client.mv('a?b', async () => undefined),
      { reply: 'MV ERR' },
    );
    await assert.rejects(client.ls('a*'), { reply: 'LS ERR' });
    assert.ok(client.connected);
    assert.ok(events.some((e) => e.topic === 'rejected' && e.reason === 'file already exists'));
    // Exactly 2,000,000 bytes is allowed (inclusive limit).
    await client.send('limit.data', Buffer.alloc(2_000_000, 1));
    assert.equal((await stat(join(s.storage, 'limit.data'))).size, 2_000_000);
  });

  it('empty name, ".", ".." and NUL: refused as invalid names, nothing written anywhere', async () => {
    // The reference takes the data and then fails writing (a directory); we refuse up front,
    // so no temp file is ever created outside the storage directory.
    const c = await TentacleClient.connect({ host: '127.0.0.1', port: s.port });
    for (const name of ['', '.', '..', 'nul\0.data']) {
      await assert.rejects(c.send(name, Buffer.from('12345')), {
        reply: 'SEND ERR (invalid file name)',
      });
    }
    assert.ok(c.connected);
    await c.quit();
    assert.deepEqual(
      (await listDir(s.storage)).filter((n) => n.includes('~')),
      [],
    );
    assert.deepEqual(
      (await listDir(dirname(s.storage))).filter((n) => n.includes('~')),
      [],
    );
  });

  it('MV hands the file over and deletes it only after the next line', async () => {
    await client.send('mv_1.data', Buffer.from('move me'));
    const n = await client.mv('mv_1.data', async (d) => {
      assert.equal((await collect(d)).toString(), 'move me');
    });
    assert.equal(n, 7);
    // Not yet confirmed: the file is claimed, still on disk.
    await stat(join(s.storage, 'mv_1.data'));
    await client.ls('');
    await assert.rejects(stat(join(s.storage, 'mv_1.data')));
    assert.ok(events.some((e) => e.topic === 'pulled' && e.filename === 'mv_1.data'));
  });

  it('an MV whose client closes without another line keeps the file', async () => {
    await writeFile(join(s.storage, 'kept.data'), 'still here');
    const raw = await RawPeer.connect(s.port);
    raw.write('MV <kept.data>\n');
    assert.equal(await raw.line(), 'MV SIZE 10');
    raw.write('MV OK\n');
    assert.equal((await raw.bytes(10)).toString(), 'still here');
    raw.destroy();
    // The claim ends with that session: then a RECV gets the file again.
    await waitFor(
      async () => (await client.recv('kept.data', async (d) => void (await collect(d)))) === 10,
      5000,
      'the MV claim to end',
    );
    assert.equal(await readFile(join(s.storage, 'kept.data'), 'utf8'), 'still here');
    // And it is available again.
    const n = await client.mv('kept.data', async (d) => void (await collect(d)));
    assert.equal(n, 10);
    await client.ls('');
    await assert.rejects(stat(join(s.storage, 'kept.data')));
  });

  it('MV of a 0-byte file works; RECV of a 0-byte file closes after RECV OK', async () => {
    await writeFile(join(s.storage, 'zero.data'), '');
    const c = await TentacleClient.connect({ host: '127.0.0.1', port: s.port });
    assert.equal(await c.recv('zero.data', async (d) => void (await collect(d))), 0);
    await waitFor(() => !c.connected, 5000, 'the close after RECV OK of an empty file');
    assert.equal(c.connected, false);
    assert.equal(await client.mv('zero.data', async (d) => void (await collect(d))), 0);
    await client.ls('');
    await assert.rejects(stat(join(s.storage, 'zero.data')));
  });

  it('two concurrent MV of one file: only one client gets it', async () => {
    await writeFile(join(s.storage, 'once.data'), 'only once');
    const a = await RawPeer.connect(s.port);
    const b = await RawPeer.connect(s.port);
    a.write('MV <once.data>\n');
    assert.equal(await a.line(), 'MV SIZE 9');
    b.write('MV <once.data>\n');
    assert.equal(await b.line(), 'MV ERR');
    b.write('RECV <once.data>\n');
    assert.equal(await b.line(), 'RECV ERR (file does not exist)');
    a.write('MV OK\n');
    assert.equal((await a.bytes(9)).toString(), 'only once');
    a.write('QUIT\n');
    await a.closed;
    b.write('MV <once.data>\n');
    assert.equal(await b.line(), 'MV ERR');
    b.destroy();
  });

  it('declining an offer keeps the connection and the file', async () => {
    await writeFile(join(s.storage, 'decline.data'), 'd');
    const raw = await RawPeer.connect(s.port);
    for (const cmd of ['RECV', 'MV', 'LS']) {
      raw.write(cmd === 'LS' ? 'LS <>\n' : `${cmd} <decline.data>\n`);
      assert.match(await raw.line(), new RegExp(`^${cmd} SIZE \\d+$`));
      raw.write('NO THANKS\n');
      await sleep(50);
    }
    raw.write('RECV <decline.data>\n');
    assert.equal(await raw.line(), 'RECV SIZE 1');
    raw.write('RECV OK\n');
    assert.equal((await raw.bytes(1)).toString(), 'd');
    raw.write('QUIT\n');
    assert.ok(await raw.closesSilently());
    await stat(join(s.storage, 'decline.data'));
  });

  it('LS lists ., .., subdirectories, one LF after each name, and hides banned names', async () => {
    const x = await startServer();
    extra.push(x);
    await mkdir(join(x.storage, 'sub'));
    await writeFile(join(x.storage, 'a.data'), 'a');
    await writeFile(join(x.storage, 'temp~tentacle-000000000000'), 'hidden');
    await writeFile(join(x.storage, 'x=y'), 'hidden');
    const raw = await RawPeer.connect(x.port);
    raw.write('LS <>\n');
    const m = /^LS SIZE (\d+)$/.exec(await raw.line());
    assert.ok(m);
    raw.write('LS OK\n');
    const listing = (await raw.bytes(Number(m[1]))).toString();
    assert.ok(listing.endsWith('\n'));
    assert.deepEqual(listing.split('\n').slice(0, -1).sort(), ['.', '..', 'a.data', 'sub']);
    raw.destroy();
  });

  it('ZSEND and ZRECV round trip (PKZIP); ZSEND of non-zip data is stored verbatim', async () => {
    const body = Buffer.from('compress me '.repeat(5000));
    await client.zsend('z_1.data', body);
    assert.deepEqual(await readFile(join(s.storage, 'z_1.data')), body);
    let inflated: Buffer = Buffer.alloc(0);
    const compressed = await client.zrecv('z_1.data', async (d) => {
      inflated = await collect(d);
    });
    assert.deepEqual(inflated, body);
    assert.ok(compressed < body.length);
    const raw = await RawPeer.connect(s.port);
    raw.write('ZRECV <z_1.data>\n');
    const m = /^ZRECV SIZE (\d+)$/.exec(await raw.line());
    assert.ok(m);
    raw.write('ZRECV OK\n');
    const zip = await raw.bytes(Number(m[1]));
    assert.equal(zip.subarray(0, 4).toString('latin1'), 'PK\x03\x04');
    assert.equal(zip.readUInt16LE(8), 8);
    assert.equal(zip.readUInt16LE(6) & 8, 8);
    raw.write('ZSEND <plain.data> SIZE 5\n');
    assert.equal(await raw.line(), 'ZSEND OK');
    raw.write('hello');
    assert.equal(await raw.line(), 'ZSEND OK');
    assert.equal(await readFile(join(s.storage, 'plain.data'), 'utf8'), 'hello');
    // A broken archive: ZSEND ERR, connection stays.
    const broken = Buffer.concat([zip.subarray(0, 40), Buffer.alloc(10)]);
    raw.write(`ZSEND <broken.data> SIZE ${broken.length}\n`);
    assert.equal(await raw.line(), 'ZSEND OK');
    raw.write(broken);
    assert.equal(await raw.line(), 'ZSEND ERR');
    raw.write('ZRECV <missing.data>\n');
    assert.equal(await raw.line(), 'ZRECV ERR (file does not exist)');
    raw.destroy();
    assert.deepEqual(
      (await listDir(s.storage)).filter((n) => n.includes('~')),
      [],
    );
    await assert.rejects(stat(join(s.storage, 'broken.data')));
  });

  it('recvToFile writes atomically', async () => {
    const dest = join(s.storage, 'collections', 'copy-of-data');
    assert.equal(await client.recvToFile('plain.data', dest), 5);
    assert.equal(await readFile(dest, 'utf8'), 'hello');
  });

  it('a second request while one runs is ERR_BUSY', async () => {
    const first = client.ls('');
    await assert.rejects(client.ls(''), { code: 'ERR_BUSY' });
    await first;
  });

  it('closes without reply on malformed input', async () => {
    const cases: (string | Buffer)[] = [
      'QUIT\r\n',
      'send <a> SIZE 1\n',
      'HELLO\n',
      'RECV <a.data>\nRECV OK\n',
      'SEND <p.data> SIZE 3\nabc',
      Buffer.alloc(1100, 'A'),
      `${'SEND <'.padEnd(1030, 'x')}> SIZE 1\n`,
      'PASS 703b089710823916d4bb7ff2deff4d8f\n',
      'QUIT\n',
    ];
    for (const input of cases) {
      const raw = await RawPeer.connect(s.port);
      raw.write(input);
      assert.ok(
        await raw.closesSilently(),
        `should close on ${JSON.stringify(String(input).slice(0, 40))}`,
      );
    }
  });

  it('accepts a line of exactly 1024 bytes including LF', async () => {
    const raw = await RawPeer.connect(s.port);
    const name = 'n'.repeat(1024 - 'RECV <>\n'.length);
    raw.write(`RECV <${name}>\n`);
    assert.equal(await raw.line(), 'RECV ERR (file does not exist)');
    raw.destroy();
  });

  it('parses a line split byte by byte', async () => {
    const raw = await RawPeer.connect(s.port);
    for (const ch of 'RECV <plain.data>\n') {
      raw.write(ch);
      await sleep(2);
    }
    assert.equal(await raw.line(), 'RECV SIZE 5');
    raw.destroy();
  });

  it('LS and MV without -I close silently; other commands work', async () => {
    const x = await startServer({ insecure: false });
    extra.push(x);
    for (const cmd of ['LS <>\n', 'MV <a.data>\n']) {
      const raw = await RawPeer.connect(x.port);
      raw.write(cmd);
      assert.ok(await raw.closesSilently());
    }
    const c = await TentacleClient.connect({ host: '127.0.0.1', port: x.port });
    await c.send('ok.data', Buffer.from('1'));
    await assert.rejects(c.ls(''), { code: 'ERR_CLOSED' });
  });

  it('-o overwrites; without it the second SEND is refused', async () => {
    const x = await startServer({ overwrite: true });
    extra.push(x);
    const c = await TentacleClient.connect({ host: '127.0.0.1', port: x.port });
    await c.send('o.data', Buffer.from('first'));
    await c.send('o.data', Buffer.from('second!'));
    assert.equal(await readFile(join(x.storage, 'o.data'), 'utf8'), 'second!');
    assert.deepEqual(x.server.stats(), { files: 1, bytes: 7 });
    await c.quit();
  });

  it('quota refuses with a clear SEND ERR and drops nothing', async () => {
    const x = await startServer({ quotaFiles: 2, quotaBytes: 100 });
    extra.push(x);
    const c = await TentacleClient.connect({ host: '127.0.0.1', port: x.port });
    await c.send('q1.data', Buffer.alloc(40));
    await assert.rejects(c.send('q2.data', Buffer.alloc(70)), (e: TentacleError) => {
      assert.match(e.reply ?? '', /^SEND ERR \(quota exceeded: .*100\)$/);
      return true;
    });
    await c.send('q2.data', Buffer.alloc(50));
    await assert.rejects(c.send('q3.data', Buffer.alloc(1)), {
      reply: /^SEND ERR \(quota exceeded: the buffer holds 2 files, limit 2\)$/,
    });
    await assert.rejects(x.server.put('q4.data', Buffer.alloc(1)), /quota exceeded/);
    assert.deepEqual(await listDir(x.storage), ['q1.data', 'q2.data']);
    await c.mv('q1.data', async (d) => void (await collect(d)));
    await c.ls('');
    await c.send('q3.data', Buffer.alloc(1));
    await c.quit();
  });

  it('put() applies the SEND checks and stores atomically', async () => {
    const ev = await s.server.put('put_1.data', Buffer.from('via put'), 'flow');
    assert.equal(ev.topic, 'received');
    assert.equal(ev.peer, 'flow');
    assert.equal(await readFile(join(s.storage, 'put_1.data'), 'utf8'), 'via put');
    await assert.rejects(s.server.put('put_1.data', Buffer.from('x')), {
      code: 'ERR_REFUSED',
      reply: 'SEND ERR (file already exists)',
    });
    await assert.rejects(s.server.put('a/b', Buffer.from('x')), {
      code: 'ERR_REFUSED',
      facts: { name: 'a/b', reply: 'SEND ERR (invalid file name)', reason: 'invalid file name' },
    });
    await assert.rejects(s.server.put('e.data', Buffer.alloc(0)), {
      code: 'ERR_REFUSED',
      reply: 'SEND ERR (file is too big)',
    });
  });

  it('a disconnect mid-upload leaves no file and no temp file', async () => {
    const raw = await RawPeer.connect(s.port);
    raw.write('SEND <partial.data> SIZE 100000\n');
    assert.equal(await raw.line(), 'SEND OK');
    raw.write(Buffer.alloc(50_000, 1));
    await waitFor(
      async () => (await listDir(s.storage)).some((n) => n.includes('~')),
      5000,
      'the upload to be under way',
    );
    raw.destroy();
    await waitFor(
      async () => !(await listDir(s.storage)).some((n) => n.includes('~')),
      5000,
      'the cut upload to be removed',
    );
    const names = await listDir(s.storage);
    assert.ok(!names.includes('partial.data'));
    assert.deepEqual(
      names.filter((n) => n.includes('~')),
      [],
    );
  });

  it('a silent client hits the inactivity timeout (t=1, r=1)', async () => {
    const x = await startServer({ timeout: 1, retries: 1 });
    extra.push(x);
    const raw = await RawPeer.connect(x.port);
    const t0 = Date.now();
    await raw.closed;
    const ms = Date.now() - t0;
    assert.ok(ms >= 1500 && ms < 10_000, `closed after ${ms} ms`);
    // During an upload too.
    const up = await RawPeer.connect(x.port);
    up.write('SEND <slow.data> SIZE 10\n');
    assert.equal(await up.line(), 'SEND OK');
    up.write('12345');
    await up.closed;
    await until(async () => (await listDir(x.storage)).length === 0, 5000);
    assert.deepEqual(await listDir(x.storage), []);
  });

  it('PASS: right digest works, wrong or missing closes silently, ERR_AUTH on the client', async () => {
    const x = await startServer({ password: 's3cret' });
    extra.push(x);
    const c = await TentacleClient.connect({ host: '127.0.0.1', port: x.port, password: 's3cret' });
    await c.send('p.data', Buffer.from('p'));
    await c.quit();
    await assert.rejects(
      TentacleClient.connect({ host: '127.0.0.1', port: x.port, password: 'wrong' }),
      { code: 'ERR_AUTH', facts: { address: `127.0.0.1:${x.port}`, credentials: 'password' } },
    );
    for (const first of [
      'PASS 703B089710823916D4BB7FF2DEFF4D8F\n',
      'PASS 33e1b2a0a0c7d1d1b2ef5a35e5a3ff45\n',
      'LS <>\n',
    ]) {
      const raw = await RawPeer.connect(x.port);
      raw.write(first);
      assert.ok(await raw.closesSilently());
    }
  });

  it('maxConnections: extra clients wait for a free slot', async () => {
    const x = await startServer({ maxConnections: 1 });
    extra.push(x);
    const a = await TentacleClient.connect({ host: '127.0.0.1', port: x.port });
    await a.send('one.data', Buffer.from('1'));
    const b = await TentacleClient.connect({ host: '127.0.0.1', port: x.port });
    let bDone = false;
    const pending = b.send('two.data', Buffer.from('2')).then(() => (bDone = true));
    await sleep(300);
    assert.equal(bDone, false);
    await a.quit();
    await pending;
    assert.equal(bDone, true);
    await b.quit();
  });

  it('close() waits for a running upload, then frees the port', async () => {
    const x = await startServer();
    const raw = await RawPeer.connect(x.port);
    raw.write('SEND <late.data> SIZE 6\n');
    assert.equal(await raw.line(), 'SEND OK');
    // close() stops accepting and cuts idle sessions before its first await: no wait needed.
    const closing = x.server.close('test', 3000);
    raw.write('abcdef');
    assert.equal(await raw.line(), 'SEND OK');
    await closing;
    assert.equal(await readFile(join(x.storage, 'late.data'), 'utf8'), 'abcdef');
    // A stuck upload is cut at the grace limit, leaving nothing.
    const y = await startServer({ storage: x.storage, port: x.port });
    const r2 = await RawPeer.connect(y.port);
    r2.write('SEND <stuck.data> SIZE 6\n');
    assert.equal(await r2.line(), 'SEND OK');
    r2.write('abc');
    await waitFor(
      async () => (await listDir(x.storage)).some((n) => n.includes('~')),
      5000,
      'the stuck upload to be under way',
    );
    await y.server.close('test', 200);
    assert.deepEqual(await listDir(x.storage), ['late.data']);
    await removeDir(x.storage);
  });
});
