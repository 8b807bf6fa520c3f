// Runs every compiled *.test.js under dist/test with Node's own test runner, one file at a time
// (the suites start real servers and databases; running them side by side on two cores only
// makes timing-sensitive cases flaky). Extra arguments narrow the run to matching paths.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);
const files = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) walk(p);
    else if (entry.name.endsWith('.test.js')) files.push(relative(root, p));
  }
};
walk(join(root, 'dist/test'));
const chosen = files
  .sort()
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (chosen.length === 0) {
  console.error('test: no test files matched');
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=1', '--test-reporter=spec', ...chosen],
  { cwd: root, stdio: 'inherit' },
);
process.exit(r.status ?? 1);
