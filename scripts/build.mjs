// Compiles TypeScript into dist/ and puts each node's editor files (.html, locales/, icons/)
// beside its compiled .js, where Node-RED looks for them.
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root], {
  stdio: 'inherit',
});

// A dialog that offers a list the engine defines (object kinds, operations) names it where the list
// goes, `[] /* engine: lib/replicate/tables ALL_KINDS */`, and gets the compiled engine's list here:
// the list lives in lib/ only, and the source dialog stays valid script (an empty list).
const requireDist = createRequire(join(root, 'dist/'));
const ENGINE_LIST = /\[\] \/\* engine: (lib\/[\w/-]+) (\w+) \*\//g;
function fillEngineLists(file) {
  const html = readFileSync(file, 'utf8');
  const filled = html.replace(ENGINE_LIST, (_whole, mod, name) => {
    const list = requireDist(`./${mod}.js`)[name];
    if (!Array.isArray(list) || list.length === 0) {
      throw new Error(`build: ${file}: ${mod} exports no list ${name}`);
    }
    return JSON.stringify(list);
  });
  if (filled !== html) writeFileSync(file, filled);
}

const nodesDir = join(root, 'nodes');
for (const name of existsSync(nodesDir) ? readdirSync(nodesDir) : []) {
  const src = join(nodesDir, name);
  if (!statSync(src).isDirectory()) continue;
  const out = join(root, 'dist/nodes', name);
  for (const entry of readdirSync(src)) {
    if (entry.endsWith('.ts')) continue;
    cpSync(join(src, entry), join(out, entry), { recursive: true });
    if (entry.endsWith('.html')) fillEngineLists(join(out, entry));
  }
  cpSync(join(root, 'icons'), join(out, 'icons'), { recursive: true });
}
// SQL and other non-TypeScript assets of the engine travel with it.
const copyAssets = (dir) => {
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = join(dir, entry.name);
    if (entry.isDirectory()) copyAssets(rel);
    else if (/\.(sql|json)$/.test(entry.name)) cpSync(join(root, rel), join(root, 'dist', rel));
  }
};
copyAssets('lib');
console.log('build: dist/ ready');
