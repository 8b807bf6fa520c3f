/**
 * The copy's decisions without a database: its columns, the pipeline of new batches (reads,
 * writes and checkpoints in order, two transactions at most in flight, nothing recorded past a
 * failure), which copies a change re-poll refreshes, and which validations go back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  changedEvents,
  commentDigest,
  commentScanFrom,
  differingRanges,
  recheckFrom,
  writeBacks,
} from '../../lib/events/copy-changes';
import { copyNew, WRITES_IN_FLIGHT, type CopyNewSteps } from '../../lib/events/copy-new';
import { EMPTY_SHA1 } from '../../lib/events/command-center';
import {
  copiesOf,
  copyColumns,
  EMPTY_CHECKPOINT,
  type Checkpoint,
  type EventState,
  type Row,
} from '../../lib/events/model';

const state = (id: number, estado = 0, ack = '0', user = ''): EventState => ({
  id: BigInt(id),
  estado,
  id_usuario: user,
  owner_user: '',
  ack_utimestamp: ack,
});

/** An Instance of `n` events (ids 1..n) read `size` at a time, and a Command Center that records. */
function fakeCopy(n: number, size: number, opts: { failAt?: bigint; drainBatches?: number } = {}) {
  const written: bigint[] = [];
  const checkpoints: bigint[] = [];
  let open = 0;
  let maxOpen = 0;
  let reads = 0;
  let stored = EMPTY_CHECKPOINT as Checkpoint;
  const steps: CopyNewSteps = {
    read: async (afterId) => {
      reads++;
      const rows: Row[] = [];
      for (let id = afterId + 1n; id <= BigInt(n) && rows.length < size; id++) {
        rows.push({ id_source_event: String(id), utimestamp: 0 });
      }
      return { rows, copies: copiesOf(rows, ['id_source_event']), full: rows.length === size };
    },
    write: async (expected, copies, next, after) => {
      open++;
      maxOpen = Math.max(maxOpen, open);
      try {
        await new Promise((r) => setImmediate(r));
        if (after) await after.catch(() => {});
        // The transaction's own check: the stored checkpoint must be the one it expects.
        if (stored.lastId !== expected.lastId) throw new Error('checkpoint moved');
        if (opts.failAt !== undefined && next.lastId === opts.failAt) throw new Error('lost');
        for (const v of copies.values) written.push(BigInt(String(v[0])));
        stored = next;
      } finally {
        open--;
      }
    },
    committed: (b) => checkpoints.push(b.next.lastId),
    caughtUp: () => checkpoints.push(-1n),
    keepGoing: () => opts.drainBatches === undefined || reads < opts.drainBatches,
  };
  return { steps, written, checkpoints, maxOpen: () => maxOpen, stored: () => stored };
}

describe('event copy algorithms (no database)', () => {
  it('defines the copy columns once: key, shared tevento columns, names, comments', () => {
    const cc = new Set([
      'id_source_event',
      'server_id',
      'estado',
      'evento',
      'agent_name',
      'user_comment',
    ]);
    const tevento = ['id_evento', 'estado', 'evento', 'only_here', 'user_comment', 'agent_name'];
    assert.deepEqual(copyColumns(tevento, cc, true), [
      'id_source_event',
      'server_id',
      'estado',
      'evento',
      'agent_name',
      'user_comment',
    ]);
    assert.deepEqual(copyColumns(tevento, cc, false).at(-1), 'agent_name');
    assert.deepEqual(copiesOf([{ a: 1, b: 2 }], ['b', 'a']).values, [[2, 1]]);
  });

  it('copies every event once, in order, with two transactions at most in flight', async () => {
    const f = fakeCopy(10, 3);
    assert.equal(await copyNew(EMPTY_CHECKPOINT, f.steps), 10);
    assert.deepEqual(f.written, [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n]);
    assert.deepEqual(f.checkpoints, [3n, 6n, 9n, 10n]);
    assert.ok(f.maxOpen() <= WRITES_IN_FLIGHT);
    assert.ok(f.maxOpen() === 2, 'the next batch is written while the one before commits');
  });

  it('says caught up on an empty read, and stops draining when told', async () => {
    const empty = fakeCopy(0, 3);
    assert.equal(await copyNew(EMPTY_CHECKPOINT, empty.steps), 0);
    assert.deepEqual(empty.checkpoints, [-1n]);
    const bounded = fakeCopy(10, 3, { drainBatches: 2 });
    assert.equal(await copyNew(EMPTY_CHECKPOINT, bounded.steps), 6);
    assert.equal(bounded.stored().lastId, 6n, 'the rest waits for the next round');
  });

  it('records nothing past a failed batch, and keeps nothing written after it', async () => {
    const f = fakeCopy(12, 3, { failAt: 6n });
    await assert.rejects(copyNew(EMPTY_CHECKPOINT, f.steps), /lost/);
    assert.deepEqual(f.written, [1n, 2n, 3n]);
    assert.deepEqual(f.checkpoints, [3n]);
    assert.equal(f.stored().lastId, 3n);
  });

  it('refreshes copies that differ, and new ones only as the mode wants them', () => {
    const candidates = new Map([
      [1n, state(1, 1, '100', 'admin')],
      [2n, state(2)],
      [3n, state(3, 1, '50')],
      [4n, state(4)],
    ]);
    const copies = new Map([
      [1n, { ...state(1), commentSha1: EMPTY_SHA1 }],
      [2n, { ...state(2), commentSha1: EMPTY_SHA1 }],
    ]);
    assert.deepEqual([...changedEvents(candidates, copies, 'all')], [1n, 3n, 4n]);
    assert.deepEqual([...changedEvents(candidates, copies, 'only_validated')], [1n, 3n]);
    assert.equal(commentDigest(''), EMPTY_SHA1);
  });

  it('writes back only validations newer than the event, and moves its cursor past all', () => {
    const here = new Map([
      [1n, state(1, 0, '10')],
      [2n, state(2, 0, '90')],
      [3n, state(3, 1, '40')],
    ]);
    const { writes, lastCcAck } = writeBacks(
      [state(1, 1, '20'), state(2, 1, '30'), state(3, 1, '40'), state(9, 1, '60')],
      here,
      5,
    );
    assert.deepEqual(
      writes.map((w) => w.id),
      [1n],
    );
    assert.equal(lastCcAck, 60);
  });

  it('reads only the buckets of the re-check window whose count or checksum differ', () => {
    const sum = (bucket: number, count = 100, s = '7') => ({ bucket, count, sum: s });
    // Window (1000, 1450]: buckets of 100 ids, the last one cut at 1450.
    assert.deepEqual(
      differingRanges(
        1000n,
        1450n,
        [sum(0), sum(1), sum(2), sum(3), sum(4, 50)],
        [sum(0), sum(1), sum(2), sum(3), sum(4, 50)],
      ),
      [],
    );
    assert.deepEqual(
      differingRanges(
        1000n,
        1450n,
        [sum(0), sum(1, 100, '8'), sum(2, 99), sum(3), sum(4, 50)],
        [sum(0), sum(1), sum(2), sum(3)],
      ),
      [
        [1100n, 1300n],
        [1400n, 1450n],
      ],
      'a changed state, a missing copy, a bucket never copied; adjacent ones merged',
    );
    assert.deepEqual(differingRanges(0n, 100n, [], [sum(0, 1)]), [[0n, 100n]], 'a copy left alone');
  });

  it('bounds the re-check windows at zero', () => {
    assert.equal(recheckFrom(5000n, 1000), 4000n);
    assert.equal(recheckFrom(500n, 1000), 0n);
    assert.equal(commentScanFrom(1000n), 800n);
    assert.equal(commentScanFrom(100n), 0n);
  });
});
