/**
 * Retry backoff: after a failure, wait before the next automatic attempt; the wait doubles with
 * each failure in a row, up to a ceiling, and a success forgets the failures. Manual attempts may
 * ignore it (callers decide); the state only says when the next automatic one is due.
 */

export interface BackoffOptions {
  /** Wait after the first failure, ms. */
  baseMs: number;
  /** Longest wait, ms. */
  maxMs: number;
}

/** Doublings beyond this are past any sane ceiling; the cap keeps the power finite. */
const MAX_DOUBLINGS = 30;

/** The wait after `failures` failures in a row (1 = the first): base, 2x base, 4x base… up to max. */
export function backoffDelay(failures: number, opts: BackoffOptions): number {
  if (failures <= 0) return 0;
  const doublings = Math.min(failures - 1, MAX_DOUBLINGS);
  return Math.max(0, Math.min(opts.maxMs, opts.baseMs * 2 ** doublings));
}

/** The backoff state of one target (a buffer, an Instance). */
export class Backoff {
  /** Failures in a row; 0 after a success. */
  failures = 0;
  /** When the next automatic attempt is due (epoch ms); 0 = now. */
  retryAt = 0;
  /** The reason of the last failure, until a success. */
  lastError: string | null = null;

  constructor(
    private readonly opts: BackoffOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a failure; returns the wait before the next attempt (ms). */
  fail(reason?: string): number {
    this.failures++;
    const wait = backoffDelay(this.failures, this.opts);
    this.retryAt = this.now() + wait;
    this.lastError = reason ?? null;
    return wait;
  }

  /** Records a success: the next failure starts again from the base wait. */
  succeed(): void {
    this.failures = 0;
    this.retryAt = 0;
    this.lastError = null;
  }

  /** True while the wait after the last failure has not passed. */
  get waiting(): boolean {
    return this.retryAt > this.now();
  }
}

/** One Backoff per key (buffer address, Instance id), created on first use. */
export class BackoffMap<K> {
  private readonly states = new Map<K, Backoff>();

  constructor(
    private readonly opts: BackoffOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** The state of `key`, created on first use. */
  of(key: K): Backoff {
    let b = this.states.get(key);
    if (!b) {
      b = new Backoff(this.opts, this.now);
      this.states.set(key, b);
    }
    return b;
  }

  /** The state of `key` if it ever failed or succeeded through this map. */
  peek(key: K): Backoff | undefined {
    return this.states.get(key);
  }

  /** Forgets `key` (a target removed from the configuration). */
  delete(key: K): void {
    this.states.delete(key);
  }
}
