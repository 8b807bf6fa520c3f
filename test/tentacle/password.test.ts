/**
 * The buffer's password check (issue 22): the PASS line is compared in constant time
 * (crypto.timingSafeEqual on two digests of equal length), and it still accepts exactly the
 * right password and refuses the rest, whatever their length, as the stock server does.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it, mock } from 'node:test';
import { passwordDigest, TentacleClient } from '../../lib/tentacle';
import { RawPeer, removeDir, startServer, type Started } from './helpers';

describe('buffer password check', () => {
  let s: Started;
  before(async () => {
    s = await startServer({ password: 's3cret' });
  });
  after(async () => {
    await s.server.close('test', 100);
    await removeDir(s.storage);
  });

  it('compares the PASS line with timingSafeEqual on equal-length digests', async () => {
    const calls: [number, number][] = [];
    const original = crypto.timingSafeEqual;
    const spy = mock.method(
      crypto,
      'timingSafeEqual',
      (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
        calls.push([a.byteLength, b.byteLength]);
        return original(a, b);
      },
    );
    try {
      const c = await TentacleClient.connect({
        host: '127.0.0.1',
        port: s.port,
        password: 's3cret',
      });
      await c.quit();
      const right = passwordDigest('s3cret');
      for (const line of [
        'PASS ',
        `PASS ${right.slice(0, -1)}`,
        `PASS ${right}0`,
        `PASS ${'f'.repeat(500)}`,
      ]) {
        const raw = await RawPeer.connect(s.port);
        raw.write(`${line}\n`);
        assert.equal(await raw.closesSilently(), true, line);
      }
    } finally {
      spy.mock.restore();
    }
    assert.equal(calls.length, 5, 'one constant-time comparison per PASS line');
    for (const [a, b] of calls) assert.ok(a === b && a >= 32, `${a} and ${b} bytes`);
  });
});
