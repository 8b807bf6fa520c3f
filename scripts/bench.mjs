// Runs the benchmarks in dist/bench/ one after another (or only those whose name contains one of
// the arguments), each printing its figures beside the baseline it measures in the same run.
// Extra sizes go through environment variables or by running one script by hand:
// `node dist/bench/<name>.js [sizes...]`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'dist/bench');
const wanted = process.argv.slice(2);
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.js') && !f.includes('-child') && !f.startsWith('_'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
if (benches.length === 0) {
  console.error(
    `bench: nothing matches ${wanted.join(' ')}; available: ${readdirSync(dir).join(' ')}`,
  );
  process.exit(1);
}
for (const file of benches) {
  console.log(`\n=== ${file} ===`);
  const r = spawnSync(process.execPath, [join(dir, file)], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
