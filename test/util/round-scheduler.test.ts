import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RoundScheduler } from '../../lib/util/round-scheduler';

/** A promise settled from outside, so each test decides when a round ends. */
function gate<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A scheduler whose rounds each wait for their own gate; records the arguments rounds ran with. */
function harness(
  options: { whenBusy?: 'queue' | 'skip'; merge?: (a: string[], b: string[]) => string[] } = {},
) {
  const gates: ReturnType<typeof gate<number>>[] = [];
  const ran: string[][] = [];
  let active = 0;
  let maxActive = 0;
  const s = new RoundScheduler<string[], number>({
    ...options,
    run: async (arg) => {
      ran.push(arg);
      active++;
      maxActive = Math.max(maxActive, active);
      const g = gate<number>();
      gates.push(g);
      try {
        return await g.promise;
      } finally {
        active--;
      }
    },
  });
  return { s, gates, ran, maxActive: () => maxActive };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('round scheduler', () => {
  it('starts at once when idle and runs synchronously up to the round’s first wait', () => {
    const h = harness();
    const p = h.s.request(['a']);
    assert.ok(p);
    assert.deepEqual(h.ran, [['a']]);
    assert.equal(h.s.busy, true);
    h.gates[0].resolve(1);
    return p.then((v) => assert.equal(v, 1));
  });

  it('queues one round behind the running one and merges later requests into it', async () => {
    const h = harness({ merge: (a, b) => [...new Set([...a, ...b])] });
    const first = h.s.request(['a'])!;
    const second = h.s.request(['b'])!;
    const third = h.s.request(['c'])!;
    assert.equal(second, third, 'requests during a round share the one queued round');
    assert.equal(h.s.pending, true);
    assert.equal(h.ran.length, 1);
    h.gates[0].resolve(1);
    assert.equal(await first, 1);
    await tick();
    assert.deepEqual(h.ran, [['a'], ['b', 'c']]);
    h.gates[1].resolve(2);
    assert.equal(await second, 2);
    assert.equal(h.maxActive(), 1);
    assert.equal(h.s.busy, false);
    assert.equal(h.s.pending, false);
  });

  it('keeps the first queued request when no merge is given', async () => {
    const h = harness();
    h.s.request(['a']);
    const q = h.s.request(['b'])!;
    h.s.request(['c']);
    h.gates[0].resolve(0);
    await tick();
    assert.deepEqual(h.ran[1], ['b']);
    h.gates[1].resolve(0);
    await q;
  });

  it('runs the queued round after a failed one, and the failure reaches only its requesters', async () => {
    const h = harness();
    const first = h.s.request(['a'])!;
    const second = h.s.request(['b'])!;
    h.gates[0].reject(new Error('boom'));
    await assert.rejects(first, /boom/);
    await tick();
    assert.equal(h.ran.length, 2);
    h.gates[1].resolve(7);
    assert.equal(await second, 7);
  });

  it('a round that throws synchronously is a rejected round, not a throw from request()', async () => {
    const s = new RoundScheduler<void, number>({
      run: () => {
        throw new Error('sync');
      },
    });
    await assert.rejects(s.request()!, /sync/);
    assert.equal(s.busy, false);
  });

  it('never overlaps: a request made as the running round settles joins the queued one', async () => {
    const h = harness();
    const first = h.s.request(['a'])!;
    // The first requester's continuation is registered before the queued round's start, so it runs
    // after the first round settled but before the queued one started.
    let joined: Promise<number> | undefined;
    const again = first.then(() => {
      assert.equal(h.s.busy, false);
      joined = h.s.request(['c']);
    });
    const queued = h.s.request(['b'])!;
    h.gates[0].resolve(0);
    await again;
    assert.equal(joined, queued);
    await tick();
    assert.equal(h.ran.length, 2);
    assert.equal(h.maxActive(), 1);
    h.gates[1].resolve(3);
    assert.equal(await queued, 3);
  });

  it('skip mode turns requests down while a round runs', async () => {
    const h = harness({ whenBusy: 'skip' });
    const first = h.s.request(['a'])!;
    assert.equal(h.s.request(['b']), undefined);
    assert.equal(h.s.pending, false);
    h.gates[0].resolve(1);
    await first;
    const next = h.s.request(['c']);
    assert.ok(next);
    assert.deepEqual(h.ran, [['a'], ['c']]);
    h.gates[1].resolve(2);
    assert.equal(await next, 2);
  });

  it('idle() waits for the running and the queued round', async () => {
    const h = harness();
    h.s.request(['a'])!.catch(() => {});
    h.s.request(['b'])!.catch(() => {});
    let done = false;
    const idle = h.s.idle().then(() => (done = true));
    h.gates[0].reject(new Error('x'));
    await tick();
    assert.equal(done, false);
    h.gates[1].resolve(0);
    await idle;
    assert.equal(h.s.busy, false);
  });
});
