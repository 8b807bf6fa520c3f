/**
 * What an LS answers: the names of one directory in the order the file system gives them (as the
 * stock server, unsorted), at most `limit` of them. The directory is read through a handle, a few
 * entries at a time, and the reading stops at the limit: an answer costs the same with a million
 * files held as with ten thousand, in time and in memory. Each answer starts from the beginning,
 * so a file a puller listed but did not take (a failed transfer) is in its next listing too.
 */
import { opendir, readdir } from 'node:fs/promises';

/**
 * The names of `path` that `accept` lets through: at most `limit`, the first the directory gives
 * (0 = all, read at once as the stock server does). Rejects as readdir does for a missing or
 * unreadable directory.
 */
export async function listNames(
  path: string,
  limit: number,
  accept: (name: string) => boolean,
): Promise<string[]> {
  if (limit <= 0) return (await readdir(path)).filter(accept);
  const names: string[] = [];
  const dir = await opendir(path, { bufferSize: 512 });
  try {
    for (let e = await dir.read(); e !== null; e = await dir.read()) {
      if (!accept(e.name)) continue;
      names.push(e.name);
      if (names.length >= limit) break;
    }
  } finally {
    await dir.close().catch(() => undefined);
  }
  return names;
}
