/**
 * At most `size` Instances comparing tables at once. A round waits for a slot before it takes
 * its Instance's lane, so the Instances still waiting keep their lanes free for the queue rounds:
 * a change queued during a long round reaches them without waiting for the round to pass by.
 */
export class RoundSlots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.free = Math.max(1, size);
  }

  /** Runs `work` once a slot is free, and frees the slot when it settles. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free -= 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free += 1;
    }
  }
}
