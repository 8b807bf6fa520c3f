/**
 * Galera certifies a transaction at COMMIT: one whose rows another node changed meanwhile is
 * rolled back with error 1213 (the code InnoDB gives a deadlock victim). Either way nothing was
 * written, so the statement or transaction is simply run again; members never report these.
 */
import { setTimeout as delay } from 'node:timers/promises';

/** The database rolled the transaction back whole: nothing of it was written. */
export function notWritten(err: unknown): boolean {
  const e = err as { code?: string; errno?: number } | null;
  return (
    e?.code === 'ER_LOCK_DEADLOCK' ||
    e?.errno === 1213 ||
    e?.code === 'ER_LOCK_WAIT_TIMEOUT' ||
    e?.errno === 1205
  );
}

/** Tries after the first. */
export const RETRIES = 4;

/**
 * Runs `op` again (after a short random wait, so two members do not collide again) while it
 * fails with a certification failure; other errors, and the last failure, go to the caller.
 */
export async function retryNotWritten<T>(op: () => Promise<T>, retries = RETRIES): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (attempt >= retries || !notWritten(err)) throw err;
      await delay(5 + Math.floor(Math.random() * 20 * (attempt + 1)));
    }
  }
}
