// Compiles TypeScript into dist/ and puts each node's editor files (.html, locales/, icons/)
// beside its compiled .js, where Node-RED looks for them.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root], {
  stdio: 'inherit',
});

const nodesDir = join(root, 'nodes');
for (const name of existsSync(nodesDir) ? readdirSync(nodesDir) : []) {
  const src = join(nodesDir, name);
  if (!statSync(src).isDirectory()) continue;
  const out = join(root, 'dist/nodes', name);
  for (const entry of readdirSync(src)) {
    if (entry.endsWith('.ts')) continue;
    cpSync(join(src, entry), join(out, entry), { recursive: true });
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
