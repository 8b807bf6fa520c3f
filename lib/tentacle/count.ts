/**
 * Counting what a buffer's directories hold: read through a handle a few entries at a time, so
 * that a million held files cost time, not memory; and the temp files an earlier run left behind.
 */
import { opendir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isValidName } from './protocol';

/** Suffix of temp files: `~` keeps them out of reach of every Tentacle command. */
export const TEMP_RE = /~tentacle-[0-9a-f]{12}$/;

/**
 * Files and bytes in `dirs` (valid names, regular files); null when `stopped()` turned true
 * meanwhile. With `tempsBefore`, temp files last written before that time are removed.
 */
export async function countHeld(
  dirs: string[],
  tempsBefore: number | null,
  stopped: () => boolean,
): Promise<{ files: number; bytes: number } | null> {
  let files = 0;
  let bytes = 0;
  for (const dir of dirs) {
    let handle;
    try {
      handle = await opendir(dir, { bufferSize: 512 });
    } catch {
      continue;
    }
    for await (const entry of handle) {
      if (stopped()) return null;
      const n = entry.name;
      const p = join(dir, n);
      if (TEMP_RE.test(n)) {
        if (tempsBefore !== null) {
          const st = await stat(p).catch(() => null);
          if (st && st.mtimeMs < tempsBefore) await unlink(p).catch(() => undefined);
        }
        continue;
      }
      if (!isValidName(n) || entry.isDirectory()) continue;
      try {
        const st = await stat(p);
        if (st.isFile()) {
          files++;
          bytes += st.size;
        }
      } catch {
        // vanished meanwhile
      }
    }
  }
  return { files, bytes };
}
