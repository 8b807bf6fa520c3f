/**
 * Rounds that never overlap. A request made while no round runs starts one at once; a request made
 * during a round either joins the single queued round that starts when the running one settles
 * (`whenBusy: 'queue'`, the default: whoever asks gets a round that starts no earlier than the ask),
 * or is turned down (`whenBusy: 'skip'`: the running round is as good as a new one).
 */

export interface RoundSchedulerOptions<A, R> {
  /** One round. A throw or rejection settles that round only; the queued one still runs. */
  run: (arg: A) => Promise<R>;
  /** What a request during a round does; default `queue`. */
  whenBusy?: 'queue' | 'skip';
  /**
   * Folds a request into the one already queued (e.g. the union of the targets asked for).
   * Default: the queued request stays as it is.
   */
  merge?: (queued: A, next: A) => A;
}

export class RoundScheduler<A = void, R = void> {
  private running: Promise<R> | null = null;
  private queued: { arg: A; round: Promise<R> } | null = null;
  private readonly opts: Required<RoundSchedulerOptions<A, R>>;

  constructor(options: RoundSchedulerOptions<A, R>) {
    this.opts = {
      run: options.run,
      whenBusy: options.whenBusy ?? 'queue',
      merge: options.merge ?? ((queued: A) => queued),
    };
  }

  /** Whether a round is running now. */
  get busy(): boolean {
    return this.running !== null;
  }

  /** Whether a round waits for the running one to settle. */
  get pending(): boolean {
    return this.queued !== null;
  }

  /**
   * Asks for a round and returns its outcome; `undefined` only with `whenBusy: 'skip'` while a
   * round runs (nothing was started).
   */
  request(arg: A): Promise<R> | undefined {
    // A queued round is about to start (the running one just settled): join it, never overlap it.
    if (this.queued) {
      this.queued.arg = this.opts.merge(this.queued.arg, arg);
      return this.queued.round;
    }
    if (!this.running) return this.start(arg);
    if (this.opts.whenBusy === 'skip') return undefined;
    const start = (): Promise<R> => {
      const next = this.queued!.arg;
      this.queued = null;
      return this.start(next);
    };
    const round = this.running.then(start, start);
    this.queued = { arg, round };
    return round;
  }

  /** Waits until no round runs and none is queued (their failures are the requesters' business). */
  async idle(): Promise<void> {
    while (this.running || this.queued) {
      await (this.queued?.round ?? this.running)?.catch(() => {});
    }
  }

  private start(arg: A): Promise<R> {
    const round = (async () => this.opts.run(arg))().finally(() => {
      if (this.running === round) this.running = null;
    });
    this.running = round;
    return round;
  }
}
