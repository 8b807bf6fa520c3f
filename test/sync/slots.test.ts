/** A round's slots, without sockets. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Semaphore, runInSlots } from '../../lib/sync/slots';

/** A job that ends when the test says so. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { open, opened };
}

describe('round slots', () => {
  it('runs at most `limit` jobs at a time', async () => {
    let running = 0;
    let most = 0;
    const run = runInSlots([1, 2, 3, 4, 5, 6], 2, async () => {
      running++;
      most = Math.max(most, running);
      await Promise.resolve();
      running--;
    });
    await run.all;
    assert.equal(most, 2);
  });

  it('a job that leaves its slot lets the next item start; `slotted` does not wait for it', async () => {
    const stuck = gate();
    const started: string[] = [];
    const run = runInSlots(['stuck', 'a', 'b'], 1, async (item, leave) => {
      started.push(item);
      if (item === 'stuck') {
        leave();
        await stuck.opened;
      }
    });
    await run.slotted;
    assert.deepEqual(started, ['stuck', 'a', 'b']);
    let all = false;
    void run.all.then(() => {
      all = true;
    });
    await Promise.resolve();
    assert.equal(all, false, '`all` waits for the job that left');
    stuck.open();
    await run.all;
  });

  it('no items: both settle at once', async () => {
    const run = runInSlots([], 4, async () => undefined);
    await run.slotted;
    await run.all;
  });
});

describe('drain slots', () => {
  it('hands a freed slot to the first waiter, and a release counts once', async () => {
    const sem = new Semaphore(1);
    const first = sem.tryAcquire();
    assert.ok(first);
    assert.equal(sem.tryAcquire(), null);
    const order: string[] = [];
    const a = sem.acquire().then((release) => {
      order.push('a');
      return release;
    });
    const b = sem.acquire().then((release) => {
      order.push('b');
      release();
    });
    first();
    first();
    const releaseA = await a;
    assert.deepEqual(order, ['a']);
    releaseA();
    await b;
    assert.deepEqual(order, ['a', 'b']);
    assert.ok(sem.tryAcquire(), 'free again');
  });
});
