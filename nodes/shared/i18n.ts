/**
 * Runtime texts through Node-RED's catalogues. `RED._` of a node module looks a key up in that
 * node set's catalogue (en-US, es-ES, ...) in the runtime's language. Where no catalogue answers
 * (a key missing, or node-red-node-test-helper whose `RED._` returns the key itself) the English
 * text the library built is used, so a message is never a bare key.
 */
import type { NodeAPI } from 'node-red';

export type Translate = NodeAPI['_'];

/** The catalogue text of `key` with `vars`, or `fallback` when the catalogue has none. */
export function translated(
  RED: { _: Translate },
  key: string,
  fallback: string,
  vars?: Record<string, string | number>,
): string {
  let out: unknown;
  try {
    out = RED._(key, vars);
  } catch {
    return fallback;
  }
  return typeof out === 'string' && out !== '' && out !== key && !out.endsWith(`:${key}`)
    ? out
    : fallback;
}
