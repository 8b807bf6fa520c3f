/** Which names of a buffer's LS listing the Sync server takes. */
import { isValidName } from '../tentacle/protocol';
import { SyncError } from './errors';
import { TENTACLE_BUFFER_PROPERTIES } from '../tentacle/options';

/** The default `pattern`: agent data files. */
export const DEFAULT_PATTERN = '\\.data$';

/**
 * Longest name taken, in UTF-8 bytes: room for the temp suffix within the usual 255-byte
 * NAME_MAX, so a buffer cannot make every write of a round fail with a name too long.
 */
export const MAX_NAME_BYTES = 200;

/**
 * A name the puller may ask for and store under `incomingDir`: not `.`/`..`/empty, no banned
 * character (so no `/` or `\\`, hence never a path), no NUL, CR or LF, not too long, matching
 * `pattern`. The LS listing is the buffer's word: nothing in it is trusted further than this.
 */
export function isTakeable(name: string, pattern: RegExp): boolean {
  if (name === '' || name === '.' || name === '..') return false;
  if (!isValidName(name) || /[\0\n\r]/.test(name)) return false;
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return false;
  // A global or sticky regex keeps state between test() calls; never let that skip a file.
  pattern.lastIndex = 0;
  return pattern.test(name);
}

/** The takeable names of a raw LS listing, without repeats, in listing order. */
export function takeableNames(listing: string[], pattern: RegExp): string[] {
  return [...new Set(listing.filter((n) => isTakeable(n, pattern)))];
}

/**
 * Splits names into `parts` disjoint shares (round-robin, so each connection gets a mix of the
 * listing order); empty shares are left out. No name is in two shares: the stock server does not
 * lock, so two connections asking for one file could both receive it.
 */
export function splitShares<T>(items: T[], parts: number): T[][] {
  const n = Math.max(1, Math.min(parts, items.length));
  const shares: T[][] = Array.from({ length: n }, () => []);
  items.forEach((item, i) => shares[i % n].push(item));
  return shares.filter((s) => s.length > 0);
}

/** Compiles the node's `pattern` (empty = agent data files); throws ERR_SYNC_PATTERN. */
export function compilePattern(text: string): RegExp {
  const source = text.trim() === '' ? DEFAULT_PATTERN : text;
  try {
    return new RegExp(source);
  } catch (err) {
    throw new SyncError('ERR_SYNC_PATTERN', { pattern: text, message: (err as Error).message });
  }
}

/**
 * Whether a listing of `count` names is surely the buffer's whole content. Our buffer answers at
 * most `lsLimit` names (10,000 by default) so that a week's backlog drains in bounded rounds; a
 * listing that long may be cut, and a name missing from it may still be held. Only a listing
 * known whole may say that a delivered file has left the buffer.
 */
export function surelyWhole(count: number): boolean {
  return count < TENTACLE_BUFFER_PROPERTIES.lsLimit.default;
}
