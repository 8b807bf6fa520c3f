/**
 * Every node speaks English and Spanish alike: the es-ES label files carry exactly the keys of
 * the en-US ones, both help texts exist for the right node type and cover the same technical
 * ground, and every i18n key the editor dialogs use exists; and the real node-red, with the packed
 * package installed, serves the Spanish help and labels to a Spanish editor.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red';

const root = resolve(__dirname, '../../..');
const NODES = [
  'pandora-config',
  'tentacle-buffer',
  'tentacle-pull',
  'event-pull',
  'metaconsole-replicate',
  'instance-query',
  'agent-cache',
] as const;
const LANGS = ['en-US', 'es-ES'] as const;

type Tree = { [key: string]: string | Tree };

const nodeFile = (node: string, ...rest: string[]) => join(root, 'nodes', node, ...rest);
const labelsPath = (node: string, lang: string) => nodeFile(node, 'locales', lang, `${node}.json`);
const helpPath = (node: string, lang: string) => nodeFile(node, 'locales', lang, `${node}.html`);

function readLabels(node: string, lang: string): Tree {
  return JSON.parse(readFileSync(labelsPath(node, lang), 'utf8')) as Tree;
}

/** `a.b.c` → value for every leaf. */
function leaves(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(key, v);
    else for (const [kk, vv] of leaves(v, key)) out.set(kk, vv);
  }
  return out;
}

/** i18next interpolations (`__count__`, `{{name}}`) a translation must keep. */
function interpolations(text: string): string[] {
  return [...text.matchAll(/__\w+__|\{\{\s*[\w.]+\s*\}\}/g)].map((m) => m[0]).sort();
}

/** The `<script type="text/html" data-help-name="...">` blocks of a help file. */
function helpBlocks(html: string): { name: string; body: string }[] {
  return [
    ...html.matchAll(
      /<script\s+type="text\/html"\s+data-help-name="([^"]+)"\s*>([\s\S]*?)<\/script>/g,
    ),
  ].map((m) => ({ name: m[1], body: m[2] }));
}

/** Opening/closing tags that must pair up in a help text. */
const PAIRED = [
  'p',
  'h3',
  'dl',
  'dt',
  'dd',
  'ol',
  'ul',
  'li',
  'code',
  'b',
  'i',
  'a',
  'span',
  'pre',
];

function unbalancedTags(body: string): string[] {
  const stack: string[] = [];
  const problems: string[] = [];
  for (const m of body.matchAll(/<(\/?)([a-z0-9]+)\b[^>]*>/gi)) {
    const tag = m[2].toLowerCase();
    if (!PAIRED.includes(tag)) continue;
    if (m[1] === '') {
      stack.push(tag);
      continue;
    }
    const open = stack.pop();
    if (open !== tag) problems.push(`</${tag}> closes <${open ?? 'nothing'}>`);
  }
  return problems.concat(stack.map((t) => `<${t}> never closed`));
}

/** What a help text shows as code: option letters, tokens, table names, values. */
function codeTerms(body: string): Set<string> {
  return new Set([...body.matchAll(/<code>([\s\S]*?)<\/code>/g)].map((m) => m[1].trim()));
}

/** Keys of the node's own namespace that its editor file asks for. */
function editorKeys(node: string): string[] {
  const html = readFileSync(nodeFile(node, `${node}.html`), 'utf8');
  const keys = new Set<string>();
  for (const m of html.matchAll(/data-i18n="([^"]*)"/g)) {
    for (const part of m[1].split(';')) {
      const key = part.replace(/^\[[^\]]*\]/, '').trim();
      if (key) keys.add(key);
    }
  }
  // Literal keys given to RED._() / this._() in the editor script.
  for (const m of html.matchAll(/\b_\(\s*'([^'\n]+)'\s*\)/g)) keys.add(m[1]);
  return [...keys].filter((k) => !k.includes(':'));
}

describe('i18n: en-US and es-ES for every node', () => {
  for (const node of NODES) {
    describe(node, () => {
      it('has en-US and es-ES labels with exactly the same keys, all translated', () => {
        for (const lang of LANGS) {
          assert.ok(existsSync(labelsPath(node, lang)), `${labelsPath(node, lang)} exists`);
        }
        const en = leaves(readLabels(node, 'en-US'));
        const es = leaves(readLabels(node, 'es-ES'));
        const missing = [...en.keys()].filter((k) => !es.has(k));
        const extra = [...es.keys()].filter((k) => !en.has(k));
        assert.deepEqual(missing, [], `keys of en-US missing in es-ES`);
        assert.deepEqual(extra, [], `keys of es-ES that en-US does not have`);
        for (const [key, text] of es) {
          assert.ok(text.trim() !== '', `es-ES ${key} is not empty`);
          const source = en.get(key) as string;
          assert.deepEqual(
            interpolations(text),
            interpolations(source),
            `es-ES ${key} keeps the interpolations of "${source}"`,
          );
        }
        // Some labels are the same word in both languages (CA, Host...), most are not.
        const same = [...es].filter(([k, v]) => v === en.get(k) && /[a-z]{4}/.test(v));
        assert.ok(
          same.length <= en.size / 2,
          `most es-ES labels are translated; left in English: ${same.map(([k]) => k).join(', ')}`,
        );
      });

      it('has help in both languages, for this node type, covering the same ground', () => {
        const bodies: Record<string, string> = {};
        for (const lang of LANGS) {
          const path = helpPath(node, lang);
          assert.ok(existsSync(path), `${path} exists`);
          const blocks = helpBlocks(readFileSync(path, 'utf8'));
          assert.equal(blocks.length, 1, `${lang} help has one data-help-name block`);
          assert.equal(blocks[0].name, node, `${lang} help is for ${node}`);
          assert.deepEqual(unbalancedTags(blocks[0].body), [], `${lang} help tags pair up`);
          assert.match(blocks[0].body.trim(), /^<p>/, `${lang} help opens with its summary`);
          bodies[lang] = blocks[0].body;
        }
        const en = bodies['en-US'];
        const es = bodies['es-ES'];
        const sections = (b: string) => [...b.matchAll(/<h3>/g)].length;
        assert.ok(sections(en) >= 1, 'en-US help has sections');
        assert.equal(sections(es), sections(en), 'es-ES help has the sections of en-US');
        // Option letters, conf tokens, table names and values are not translated.
        const esTerms = codeTerms(es);
        const lost = [...codeTerms(en)].filter((t) => !esTerms.has(t));
        assert.deepEqual(lost, [], 'every <code> term of the en-US help is in the es-ES help');
      });

      it('registers the type its help describes, and every editor i18n key exists', () => {
        const editor = readFileSync(nodeFile(node, `${node}.html`), 'utf8');
        assert.match(editor, new RegExp(`registerType\\(\\s*'${node}'`));
        assert.match(editor, new RegExp(`data-template-name="${node}"`));
        const en = leaves(readLabels(node, 'en-US'));
        const keys = editorKeys(node);
        assert.ok(keys.length > 0, 'the editor uses i18n keys');
        const unknown = keys.filter((k) => !en.has(k));
        assert.deepEqual(unknown, [], `editor keys missing from en-US/${node}.json`);
      });
    });
  }
});

describe('i18n: node-red serves the packed package in Spanish', () => {
  let nr: RunningNodeRed;
  before(async () => {
    nr = await startNodeRed({ flows: [] });
  });
  after(async () => {
    await nr?.stop();
  });

  it('gives a Spanish editor the es-ES help and labels, an English one the en-US ones', async () => {
    for (const lang of LANGS) {
      const res = await fetch(`${nr.url}/nodes`, {
        headers: { Accept: 'text/html', 'Accept-Language': lang },
      });
      assert.equal(res.status, 200);
      const served = helpBlocks(await res.text());
      for (const node of NODES) {
        const expected = helpBlocks(readFileSync(helpPath(node, lang), 'utf8'))[0].body;
        const got = served.find((b) => b.name === node);
        assert.ok(got, `${lang}: node-red serves help for ${node}`);
        assert.equal(
          got.body.trim(),
          expected.trim(),
          `${lang}: the ${node} help is the ${lang} one`,
        );

        const labels = await fetch(
          `${nr.url}/locales/node-red-contrib-pandora-sync/${node}?lng=${lang}`,
        );
        assert.equal(labels.status, 200);
        assert.deepEqual(await labels.json(), readLabels(node, lang), `${lang}: ${node} labels`);
      }
    }
  });
});
