/**
 * Test-only pause points of a cluster delivery, for placing a SIGKILL at an exact moment:
 * with `PANDORA_SYNC_PAUSE_AT=<moment>` in the environment, the first file that reaches that
 * moment prints `PANDORA_SYNC_PAUSED <moment> <file>` on stderr and its delivery waits for ever
 * (the test kills the process). Without the variable (production) a call returns at once and
 * nothing else changes.
 */

/**
 * `record`: durable under its temp name, not yet recorded; `rename`: recorded, not yet renamed
 * into place; `remove`: in place, not yet removed from its buffer.
 */
export type PauseMoment = 'record' | 'rename' | 'remove';

const wanted = process.env.PANDORA_SYNC_PAUSE_AT;
let paused = false;

/** Waits for ever at `moment` when a test asked for it (once per process). */
export function pausePoint(moment: PauseMoment, file: string): Promise<void> | undefined {
  if (wanted !== moment || paused) return undefined;
  paused = true;
  process.stderr.write(`PANDORA_SYNC_PAUSED ${moment} ${file}\n`);
  return new Promise<void>(() => undefined);
}
