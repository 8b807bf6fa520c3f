/**
 * node-red-node-test-helper hands nodes a `RED._` that returns the key. These wrappers give a
 * node module the translation the real runtime gives it: its own locales/<lang>/<node>.json,
 * looked up by Node-RED's own i18next, so tests see the status texts an administrator sees.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { NodeAPI } from 'node-red';

interface I18next {
  createInstance(options: Record<string, unknown>): {
    t(key: string, vars?: Record<string, unknown>): string;
  };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { i18n } = require('@node-red/util') as { i18n: { i: I18next } };

const root = resolve(__dirname, '../../..');

/** `key` of `node`'s catalogue in `lang` with its `__name__` values, as the runtime's RED._. */
export function catalogue(
  node: string,
  lang: 'en-US' | 'es-ES' = 'en-US',
): (k: string, v?: Record<string, unknown>) => string {
  const load = (l: string) =>
    JSON.parse(readFileSync(join(root, 'nodes', node, 'locales', l, `${node}.json`), 'utf8'));
  const t = i18n.i.createInstance({
    lng: lang,
    fallbackLng: 'en-US',
    ns: [node],
    defaultNS: node,
    resources: { [lang]: { [node]: load(lang) }, 'en-US': { [node]: load('en-US') } },
    keySeparator: '.',
    nsSeparator: ':',
    interpolation: { prefix: '__', suffix: '__', escapeValue: false },
    initAsync: false,
    showSupportNotice: false,
  });
  const ready = t as unknown as {
    init(): void;
    t: (k: string, v?: Record<string, unknown>) => string;
  };
  ready.init();
  return (k, v) => ready.t(k, v);
}

/** `nodeModule` with `RED._` answering from `node`'s catalogue in `lang`. */
export function withCatalogue<T>(
  nodeModule: (RED: NodeAPI) => T,
  node: string,
  lang: 'en-US' | 'es-ES' = 'en-US',
): (RED: NodeAPI) => T {
  const t = catalogue(node, lang);
  // Each module gets a RED of its own, as in the runtime (the helper shares one between modules).
  return (RED: NodeAPI) => {
    const own = Object.create(RED) as NodeAPI & {
      _: (k: string, v?: Record<string, unknown>) => string;
    };
    own._ = t;
    return nodeModule(own);
  };
}
