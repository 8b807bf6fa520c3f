/** Bounded polling for tests: every wait ends, and a check that throws counts as "not yet". */

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it holds or `ms` pass; resolves whether it held. */
export async function until(
  check: () => boolean | Promise<boolean>,
  ms = 10_000,
  everyMs = 25,
): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return true;
    } catch {
      // not ready yet (a table not created, a server restarting)
    }
    if (Date.now() > end) return false;
    await sleep(everyMs);
  }
}

/** Like `until`, but throws naming `what` when the time runs out. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  ms = 10_000,
  what = 'condition',
): Promise<void> {
  if (!(await until(check, ms))) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}
