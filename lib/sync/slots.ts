/**
 * A round's slots: jobs run with at most `limit` holding a slot at a time, and a job may give
 * its slot back before it ends (`leave()`): it goes on outside the limit, and the next item
 * starts. The Sync puller uses it so that a buffer that does not answer (a blackholed address, a
 * dropped SYN) waits out its timeouts without holding a slot another buffer could use.
 */

export interface SlotRun {
  /** Every item started, and every job that kept its slot to the end ended. */
  slotted: Promise<void>;
  /** Every job ended. */
  all: Promise<void>;
}

/** Jobs must not reject (they catch their own failures). */
export function runInSlots<T>(
  items: readonly T[],
  limit: number,
  job: (item: T, leave: () => void) => Promise<void>,
): SlotRun {
  const width = Math.max(1, Math.min(limit, items.length));
  let next = 0;
  const every: Promise<void>[] = [];
  /** One lane per slot: it starts items one after another until none is left. */
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      let freed!: () => void;
      const left = new Promise<void>((resolve) => {
        freed = resolve;
      });
      const ended = job(item, freed);
      every.push(ended);
      await Promise.race([ended, left]);
    }
  };
  const slotted = Promise.all(Array.from({ length: width }, lane)).then(() => undefined);
  const all = slotted.then(() => Promise.all(every)).then(() => undefined);
  return { slotted, all };
}

/** At most `limit` holders at a time; the others wait in order. */
export class Semaphore {
  private held = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  /** A slot now, or null when every slot is held. */
  tryAcquire(): (() => void) | null {
    if (this.held >= this.limit) return null;
    this.held++;
    return this.releaser();
  }

  /** A slot once one is free; the returned function gives it back (once). */
  acquire(): Promise<() => void> {
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    return new Promise((resolve) => {
      this.waiting.push(() => resolve(this.releaser()));
    });
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter; otherwise it is free.
      if (next) next();
      else this.held--;
    };
  }
}
