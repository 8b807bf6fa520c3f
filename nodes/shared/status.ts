/**
 * The status line every node of this package shows, built the same way everywhere:
 * green dot = working normally; yellow ring = degraded (behind, retrying, a certificate expiring
 * within 30 days); red ring = failing or misconfigured; grey ring = starting or idle; blue dot =
 * an operation running now. Texts stay short (about 40 characters), parts joined by " · ".
 *
 * A text made only of a fixed word is an i18n key: the editor translates a status text that is a
 * message key (red.js, `status/#` handler: `node._(text, {defaultValue: text})`). The words live
 * in pandora-config's catalogue, named with its namespace, so that all five nodes share one
 * translated set and no node's own catalogue has to carry them. Variable parts stay plain text.
 */
import type { NodeStatus } from 'node-red';
import { SHARED_NS, sharedText, type Translate } from './i18n';

/** Under this many days left, a certificate turns the status yellow. */
export const CERT_WARN_DAYS = 30;

const WORD_NS = `${SHARED_NS}pandora-config.status.`;

/** Status words (i18n keys of pandora-config's catalogue). */
export const WORDS = {
  starting: `${WORD_NS}starting`,
  waiting: `${WORD_NS}waiting`,
  pulling: `${WORD_NS}pulling`,
  merging: `${WORD_NS}merging`,
  syncing: `${WORD_NS}syncing`,
  noBuffers: `${WORD_NS}noBuffers`,
  noInstances: `${WORD_NS}noInstances`,
} as const;

export const SEP = ' · ';

const WORD_KEYS: ReadonlySet<string> = new Set(Object.values(WORDS));

/**
 * A status text as the runtime shows it when more is added to it (then the editor no longer sees
 * a key): a status word translated, any other text as it is.
 */
export function wordText(text: string, t: Translate): string {
  return WORD_KEYS.has(text) ? t(text) : text;
}

/** Bytes as people read them: 512 B, 12 KB, 3.4 MB, 1.2 GB. */
export function sizeText(bytes: number): string {
  if (bytes >= 1_073_741_824) return `${(bytes / 1_073_741_824).toFixed(1)} GB`;
  if (bytes >= 1_048_576) return `${(bytes / 1_048_576).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} B`;
}

/** A duration in seconds with one decimal: "0.3 s", "12.0 s". */
export function secondsText(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
}

/** Whole days from `now` to `notAfter` (negative once expired). */
export function daysUntil(notAfter: Date, now = new Date()): number {
  return Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000);
}

/** "cert 25 d", or "cert expired". */
export function certText(days: number): string {
  return days < 0
    ? sharedText('certExpired', 'cert expired')
    : sharedText('certDays', `cert ${days} d`, { days });
}

/** The fill a certificate's remaining days call for, or null when it does not matter yet. */
export function certFill(days: number | undefined): 'yellow' | 'red' | null {
  if (days === undefined) return null;
  if (days < 0) return 'red';
  return days < CERT_WARN_DAYS ? 'yellow' : null;
}

/** Parts joined with the separator; empty parts left out. */
export function joinParts(...parts: (string | false | null | undefined)[]): string {
  return parts.filter((p): p is string => typeof p === 'string' && p !== '').join(SEP);
}

/** A text cut to `max` characters with an ellipsis. */
export function shortText(text: string, max = 48): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}

export type Fill = 'green' | 'yellow' | 'red' | 'grey' | 'blue';

/** The shape goes with the fill: dots for working or running, rings for the rest. */
export function status(fill: Fill, text: string): NodeStatus {
  return { fill, shape: fill === 'green' || fill === 'blue' ? 'dot' : 'ring', text };
}

/** Red ring with the start of an error message; the whole message goes to node.error. */
export function failed(err: Error | string): NodeStatus {
  return status('red', shortText(typeof err === 'string' ? err : err.message));
}

/** The worse of two fills (red > yellow > green). */
export function worst(a: Fill, b: Fill | null): Fill {
  const rank: Record<Fill, number> = { grey: 0, blue: 0, green: 1, yellow: 2, red: 3 };
  return b && rank[b] > rank[a] ? b : a;
}
