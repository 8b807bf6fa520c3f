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

// Texts shared by several node types live in pandora-config's catalogue (its `RED._` looks keys
// up there); pandora-config hands its translator over when the package loads. Before that, or
// where pandora-config is not loaded (a test of one node), the English text is used.
let sharedCatalogue: Translate | null = null;

export function useSharedCatalogue(t: Translate): void {
  sharedCatalogue = t;
}

/** A text of pandora-config's `shared` section, e.g. sharedText('certDays', 'cert 3 d', {days: 3}). */
export function sharedText(
  key: string,
  fallback: string,
  vars?: Record<string, string | number>,
): string {
  const t = sharedCatalogue;
  return t ? translated({ _: t }, `pandora-config.shared.${key}`, fallback, vars) : fallback;
}
