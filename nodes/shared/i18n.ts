/**
 * Runtime texts through Node-RED's catalogues, in one style: a node module's `RED._` as a
 * `Translate`, called with a key of its catalogue (`<node>.errors.<CODE>`, `<node>.status.…`)
 * and the facts as `__name__` values; the wording lives only in locales/<lang>/<node>.json
 * (en-US and es-ES, kept complete by test/quality/i18n.test.ts). Texts shared by every node type
 * (status words, certificate days, the cluster part) live in pandora-config's catalogue and are
 * named with its namespace (`SHARED_NS`), which any node's `RED._` resolves.
 */
import type { NodeAPI } from 'node-red';

/** A node module's `RED._`: a key of its catalogue and the `__name__` values. */
export type Translate = (key: string, vars?: Record<string, string | number>) => string;

/** The translator of a node module (its own `RED._`). */
export function translator(RED: { _: NodeAPI['_'] }): Translate {
  return (key, vars) => RED._(key, vars);
}

/** The namespace of pandora-config's catalogue, where the texts every node shares live. */
export const SHARED_NS = 'node-red-contrib-pandora-sync/pandora-config:';

/**
 * The older style, until every node uses `Translate` (the lead aligns them): the catalogue text
 * of `key`, or `fallback` when the catalogue has none.
 */
export function translated(
  RED: { _: NodeAPI['_'] },
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

// certText() is called without a translator (tentacle-pull, tentacle-buffer): pandora-config
// hands its own over when the package loads. Before that (a test of one node) the English text
// is used.
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
