/**
 * The server's engine shape: options resolved in one place (lib/tentacle/options.ts), start(),
 * requestRound() as a recount, close(reason) after which every call fails with that reason; and
 * the bounded LS (lsLimit): at most N names, the first the directory gives, read without taking
 * the directory into memory, a file listed and not taken listed again.
 */
import assert from 'node:assert/strict';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  optionsFromProperties,
  resolveServerOptions,
  TENTACLE_BUFFER_PROPERTIES,
  TentacleClient,
  TentacleServer,
} from '../../lib/tentacle';
import { listNames } from '../../lib/tentacle/listing';
import { removeDir, startServer, tempDir } from './helpers';

describe('tentacle server: options, lifecycle, bounded LS', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await removeDir(d);
  });

  async function storageWith(n: number, prefix = 'f'): Promise<string> {
    const dir = await tempDir();
    dirs.push(dir);
    for (let i = 0; i < n; i++) await writeFile(join(dir, `${prefix}${i}.data`), `${i}`);
    return dir;
  }

  it('resolves the defaults of options.ts field by field, in ms inside', () => {
    const o = resolveServerOptions({ storage: '/x/', port: undefined, timeout: 2, retries: 1 });
    assert.equal(o.storage, '/x');
    assert.equal(o.port, TENTACLE_BUFFER_PROPERTIES.port.default);
    assert.equal(o.maxConnections, TENTACLE_BUFFER_PROPERTIES.maxConnections.default);
    assert.equal(o.lsLimit, TENTACLE_BUFFER_PROPERTIES.lsLimit.default);
    assert.equal(o.idleMs, 4000);
    assert.throws(() => resolveServerOptions({ storage: '' }), { code: 'ERR_STORAGE_REQUIRED' });
    assert.throws(() => resolveServerOptions({ storage: '/x', filters: '(:bad' }), {
      code: 'ERR_FILTERS',
    });
  });

  it("the node's properties: defaults from options.ts, a bad one refused with its facts", () => {
    const { options, tlsPaths } = optionsFromProperties({ storage: ' /s ', port: '' }, '');
    assert.equal(options.port, 41121);
    assert.equal(options.lsLimit, 10_000);
    assert.equal(options.password, undefined);
    assert.deepEqual(tlsPaths, { cert: '', key: '', ca: '' });
    assert.throws(() => optionsFromProperties({ storage: '/s', port: '70000' }, undefined), {
      code: 'ERR_OPTION',
      facts: { name: 'port', min: 1, max: 65535, value: '"70000"' },
    });
    assert.throws(() => optionsFromProperties({ storage: '/s', insecure: 'maybe' }, undefined), {
      code: 'ERR_OPTION_FLAG',
    });
    assert.throws(() => optionsFromProperties({}, undefined), { code: 'ERR_STORAGE_REQUIRED' });
  });

  it('start() twice is one server; requestRound() recounts; after close() every call fails with the reason', async () => {
    const storage = await storageWith(3);
    const s = await startServer({ storage });
    assert.deepEqual(await s.server.start(), { address: '127.0.0.1', port: s.port });
    assert.deepEqual(s.server.stats(), { files: 3, bytes: 3 });
    // Files put there behind the server's back are counted by the next round.
    await writeFile(join(storage, 'behind.data'), 'xyz');
    assert.deepEqual(await s.server.requestRound('test'), { files: 4, bytes: 6 });
    await s.server.close('removed');
    const closed = { code: 'ERR_SERVER_CLOSED', facts: { reason: 'removed' } };
    await assert.rejects(s.server.start(), closed);
    await assert.rejects(s.server.requestRound('again'), closed);
    await assert.rejects(s.server.put('late.data', Buffer.from('x')), closed);
    await s.server.close('twice');
    await assert.rejects(TentacleClient.connect({ host: '127.0.0.1', port: s.port }), {
      code: 'ERR_CONNECT',
    });
  });

  it("start removes an earlier run's temp files, not those written since it started", async () => {
    const storage = await storageWith(2);
    const old = join(storage, 'cut.data~tentacle-0123456789ab');
    const fresh = join(storage, 'live.data~tentacle-ba9876543210');
    await writeFile(old, 'left by a crash');
    await writeFile(fresh, 'an upload in flight');
    const later = new Date(Date.now() + 60_000);
    await utimes(fresh, later, later);
    const s = await startServer({ storage });
    const names = await readdir(storage);
    assert.ok(!names.includes('cut.data~tentacle-0123456789ab'), 'the old temp is gone');
    assert.ok(names.includes('live.data~tentacle-ba9876543210'), 'the newer one is kept');
    assert.deepEqual(s.server.stats(), { files: 2, bytes: 2 });
    await s.server.close('test');
  });

  it('a port in use is ERR_PORT_IN_USE with the address and port', async () => {
    const a = await startServer();
    dirs.push(a.storage);
    const b = new TentacleServer({ address: '127.0.0.1', port: a.port, storage: a.storage });
    await assert.rejects(b.start(), {
      code: 'ERR_PORT_IN_USE',
      facts: { address: '127.0.0.1', port: a.port },
    });
    await b.close('test');
    await a.server.close('test');
  });

  it('listNames reads at most the limit, the valid names only', async () => {
    const dir = await storageWith(50);
    await writeFile(join(dir, 'bad~name'), 'x');
    const all = await listNames(dir, 0, (n) => !n.includes('~'));
    assert.equal(all.length, 50);
    const ten = await listNames(dir, 10, (n) => !n.includes('~'));
    assert.equal(ten.length, 10);
    assert.equal(new Set(ten).size, 10);
    for (const n of ten) assert.ok(all.includes(n));
    assert.deepEqual(await listNames(dir, 10, (n) => !n.includes('~')), ten, 'same start');
    assert.equal((await listNames(dir, 1000, () => true)).length, 51);
    await assert.rejects(
      listNames(join(dir, 'missing'), 10, () => true),
      { code: 'ENOENT' },
    );
  });

  it('LS answers . .. and at most lsLimit names; a backlog drains over rounds; 0 lists all', async () => {
    const storage = await storageWith(23);
    const s = await startServer({ storage, lsLimit: 5 });
    const c = await TentacleClient.connect({ host: '127.0.0.1', port: s.port });
    const first = await c.ls('');
    assert.deepEqual(first.slice(0, 2), ['.', '..']);
    assert.equal(first.length, 7);
    // Not taken: listed again.
    assert.deepEqual(await c.ls(''), first);
    let rounds = 0;
    const taken = new Set<string>();
    for (;;) {
      const names = (await c.ls('')).slice(2);
      if (names.length === 0) break;
      assert.ok(names.length <= 5);
      rounds++;
      for (const n of names) {
        await c.mv(n, async (d) => {
          for await (const chunk of d) void chunk;
        });
        taken.add(n);
      }
    }
    assert.equal(taken.size, 23, 'every file taken');
    assert.equal(rounds, 5, 'in ceil(23 / 5) rounds');
    await c.quit();
    await s.server.close('test');
    const whole = await startServer({ storage: await storageWith(23, 'g'), lsLimit: 0 });
    dirs.push(whole.storage);
    const w = await TentacleClient.connect({ host: '127.0.0.1', port: whole.port });
    assert.equal((await w.ls('')).length, 25);
    await w.quit();
    await whole.server.close('test');
  });
});
