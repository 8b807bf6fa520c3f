/** The share state machine and the download strategy, without sockets. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LeaseLost } from '../../lib/cluster/gate';
import { TentacleError } from '../../lib/tentacle/errors';
import {
  classifyFailure,
  firstCommandFor,
  shareFailure,
  zipFailure,
} from '../../lib/sync/download-strategy';
import { LocalStoreError } from '../../lib/sync/errors';
import type { Received, StoreResult } from '../../lib/sync/incoming';
import { SAFE_WINDOW, ShareState } from '../../lib/sync/share';

const stored = (name: string): StoreResult => ({ name, size: 1, sha1: 'x', duplicate: false });
/** A download whose commit is still running (durable later). */
const inFlight = (name: string): Received => ({
  result: stored(name),
  durable: new Promise<StoreResult>(() => undefined),
});

const names = (n: number) => Array.from({ length: n }, (_, i) => `f${i}.data`);

describe('share state machine', () => {
  it('MV only: one move per name, then done', () => {
    const s = new ShareState(names(3), false);
    const seen: string[] = [];
    for (let step = s.step(); step.kind !== 'done'; step = s.step()) {
      assert.equal(step.kind, 'move');
      if (step.kind === 'move') seen.push(step.name);
      s.moved();
    }
    assert.deepEqual(seen, names(3));
    assert.equal(s.left, 0);
  });

  it('safe: downloads ahead up to the window, then removes the oldest first', () => {
    const list = names(SAFE_WINDOW + 3);
    const s = new ShareState(list, true);
    for (let i = 0; i < SAFE_WINDOW; i++) {
      const step = s.step();
      assert.deepEqual(step, { kind: 'download', name: list[i] });
      s.downloaded(inFlight(list[i]));
    }
    const full = s.step();
    assert.equal(full.kind, 'remove');
    if (full.kind === 'remove') assert.equal(full.file.name, list[0]);
    s.removed();
    assert.deepEqual(s.step(), { kind: 'download', name: list[SAFE_WINDOW] });
    assert.equal(s.left, list.length - 1);
  });

  it('safe: a settled head is removed before the next download', () => {
    const s = new ShareState(names(4), true);
    s.downloaded(inFlight('f0.data')).settled = true;
    const step = s.step();
    assert.equal(step.kind, 'remove');
  });

  it('safe: after the last download, the window drains in listing order', () => {
    const s = new ShareState(names(2), true);
    s.downloaded(inFlight('f0.data'));
    s.downloaded(inFlight('f1.data'));
    const order: string[] = [];
    for (let step = s.step(); step.kind !== 'done'; step = s.step()) {
      assert.equal(step.kind, 'remove');
      if (step.kind === 'remove') order.push(step.file.name);
      s.removed();
    }
    assert.deepEqual(order, ['f0.data', 'f1.data']);
  });

  it('a 0-byte file the stock server closes after is taken with MV', () => {
    const s = new ShareState(names(2), true);
    s.quirks.emptyRecv.add('f0.data');
    assert.deepEqual(s.step(), { kind: 'move', name: 'f0.data' });
  });

  it('declined files count as finished yet left; gone ones as finished', () => {
    const s = new ShareState(names(3), false);
    s.skipped(s.step(), true);
    s.skipped(s.step(), false);
    assert.equal(s.oversized, 1);
    assert.equal(s.left, 2, 'the declined file and the one not tried');
  });

  it('a dropped connection rewinds to the oldest file not removed; one reconnect per share', () => {
    const s = new ShareState(names(5), true);
    s.downloaded(inFlight('f0.data'));
    s.downloaded(inFlight('f1.data'));
    s.removed();
    s.downloaded(inFlight('f2.data'));
    assert.equal(s.reconnect(), true);
    assert.equal(s.window.length, 0);
    assert.deepEqual(s.step(), { kind: 'download', name: 'f1.data' });
    assert.equal(s.reconnect(), false, 'a second drop ends the share');
  });

  it('each quirk excuses one more reconnection', () => {
    const s = new ShareState(names(3), true);
    s.quirks.emptyRecv.add('f0.data');
    s.quirks.zipRefused = true;
    assert.equal(s.reconnect(), true);
    assert.equal(s.reconnect(), true);
    assert.equal(s.reconnect(), true);
    assert.equal(s.reconnect(), false);
  });
});

describe('download strategy', () => {
  const local = new LocalStoreError('write', '/x/f~pull~1', new Error('ENOSPC'));
  it('classifies step failures, looking inside the connection error for ours and the lease', () => {
    const wrapped = new TentacleError('ERR_CLOSED', { message: 'closed' }, { cause: local });
    assert.equal(classifyFailure(wrapped, true), 'local');
    assert.equal(shareFailure(wrapped), local);
    const lost = new LeaseLost('pull:a');
    assert.equal(
      classifyFailure(new TentacleError('ERR_CLOSED', { message: 'x' }, { cause: lost }), false),
      'lease',
    );
    const big = new TentacleError('ERR_TOO_BIG', { message: 'too big' });
    assert.equal(classifyFailure(big, true), 'declined');
    assert.equal(classifyFailure(big, false), 'connection', 'declined needs the connection');
    assert.equal(
      classifyFailure(new TentacleError('ERR_REPLY', { message: 'RECV ERR' }), true),
      'gone',
    );
    assert.equal(
      classifyFailure(new TentacleError('ERR_TIMEOUT', { message: 't' }), true),
      'connection',
    );
  });

  it('chooses the first command, and what a failed ZRECV means', () => {
    const quirks = { emptyRecv: new Set<string>(), plainRecv: new Set(['big']), zipRefused: false };
    assert.equal(firstCommandFor('ZRECV', 'a', quirks), 'ZRECV');
    assert.equal(firstCommandFor('ZRECV', 'big', quirks), 'RECV');
    assert.equal(firstCommandFor('RECV', 'a', quirks), 'RECV');
    const big = new TentacleError('ERR_TOO_BIG', { message: 'inflated too far' });
    assert.equal(zipFailure(big, true), 'plain');
    assert.equal(zipFailure(big, false), 'plain-closed');
    assert.equal(zipFailure(new TentacleError('ERR_REPLY', { message: 'gone' }), true), 'rethrow');
    assert.equal(zipFailure(local, true), 'rethrow');
    assert.equal(
      zipFailure(new TentacleError('ERR_CLOSED', { message: 'closed' }), false),
      'refused',
    );
  });
});
