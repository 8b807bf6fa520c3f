/**
 * One Instance's work, one task at a time: a round, a plan or a skip. A round asked for while
 * the Instance is busy is not started (the one running is as good); a skip waits for the lane,
 * then holds it, so the item it removes cannot be applied meanwhile.
 */
import { RoundScheduler } from '../util/round-scheduler';

type Task = () => Promise<unknown>;

export class InstanceLane {
  private readonly tasks = new RoundScheduler<Task, unknown>({
    run: (task) => task(),
    whenBusy: 'skip',
  });

  get busy(): boolean {
    return this.tasks.busy;
  }

  /** Runs `task` now, or returns undefined when the lane is busy. */
  tryRun<T>(task: () => Promise<T>): Promise<T> | undefined {
    return this.tasks.request(task) as Promise<T> | undefined;
  }

  /** Runs `task` as soon as the lane is free. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    for (;;) {
      const started = this.tryRun(task);
      if (started) return started;
      await this.tasks.idle();
    }
  }

  /** Waits until the lane is free. */
  idle(): Promise<void> {
    return this.tasks.idle();
  }
}
