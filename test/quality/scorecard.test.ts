/**
 * The flows library scorecard (`node-red-dev validate`) on the packed package: every check passes.
 * Its catalogue look-ups are answered empty (see catalogue-offline.cjs): the catalogue is on the
 * internet, which this machine does not reach.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { packPackage, repoRoot } from '../helpers/node-red';

describe('flows library scorecard', () => {
  const work = mkdtempSync(join(tmpdir(), 'pandora-sync-scorecard-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  it('passes node-red-dev validate with no failed check', () => {
    execFileSync('tar', ['-xzf', packPackage(), '-C', work]);
    const pkgDir = join(work, 'package');
    const scorecardFile = join(work, 'scorecard.json');
    const devDir = join(repoRoot, 'node_modules/node-red-dev');
    const output = execFileSync(
      process.execPath,
      [
        '-r',
        join(repoRoot, 'test/quality/catalogue-offline.cjs'),
        join(devDir, 'bin/run'),
        'validate',
        '-p',
        pkgDir,
        '-o',
        scorecardFile,
      ],
      {
        cwd: work,
        encoding: 'utf8',
        env: {
          ...process.env,
          NODE_RED_DEV_DIR: devDir,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const scorecard = JSON.parse(readFileSync(scorecardFile, 'utf8')) as Record<
      string,
      { test: boolean }
    >;
    const failed = Object.entries(scorecard).filter(([, v]) => v.test === false);
    assert.deepEqual(
      failed.map(([k]) => k),
      [],
      `failed checks:\n${output}`,
    );
    assert.ok(
      Object.keys(scorecard).length >= 10,
      `checks run: ${Object.keys(scorecard).join(' ')}`,
    );
  });
});
