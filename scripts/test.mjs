// Runs every compiled *.test.js under dist/test with Node's own test runner, one file at a time
// (the suites start real servers and databases; running them side by side on two cores only
// makes timing-sensitive cases flaky). Extra arguments narrow the run to matching paths; an
// argument starting with `!` leaves matching paths out.
// Under CI (CI=true) a skipped test fails the run: CI installs every tool a test needs, so a
// skip there means a test did not run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const filters = args.filter((a) => !a.startsWith('!'));
const excluded = args.filter((a) => a.startsWith('!')).map((a) => a.slice(1));
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
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .filter((f) => !excluded.some((x) => f.includes(x)));
if (chosen.length === 0) {
  console.error('test: no test files matched');
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'pandora-sync-test-'));
const skipLog = join(work, 'skips.txt');
const reporters = [
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  `--test-reporter=${join(root, 'scripts/test-skips.mjs')}`,
  `--test-reporter-destination=${skipLog}`,
];
// One runner for all the files, one file at a time. A run that does not end (a server left
// open) is stopped after TEST_TIMEOUT_MS (default 60 minutes) and fails, instead of hanging CI.
const timeout = Number(process.env.TEST_TIMEOUT_MS) || 60 * 60_000;
const r = spawnSync(process.execPath, [...reporters, '--test', '--test-concurrency=1', ...chosen], {
  cwd: root,
  stdio: 'inherit',
  timeout,
  killSignal: 'SIGKILL',
});
let status = r.status ?? 1;
if (r.error || r.signal) {
  console.error(`test: stopped after ${timeout} ms (${r.error?.message ?? r.signal})`);
  status = 1;
}
let skipped = [];
try {
  skipped = readFileSync(skipLog, 'utf8').split('\n').filter(Boolean);
} catch {
  // no skip file: the runner wrote no event
}
rmSync(work, { recursive: true, force: true });
if (skipped.length > 0) {
  console.error(`test: ${skipped.length} skipped:\n  ${skipped.join('\n  ')}`);
  if (process.env.CI === 'true') {
    console.error('test: a skip fails the run under CI=true (CI installs what every test needs)');
    status ||= 1;
  }
}
process.exit(status);
