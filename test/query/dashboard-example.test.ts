/**
 * examples/instance-query-dashboard/: the Dashboard 2 page of the tactical view and the critical
 * agents, in the real node-red with the packed package and @flowfuse/node-red-dashboard installed
 * from the npm registry beside it (the package itself never depends on the dashboard), read by
 * Debian's chromium: both tables filled, an Instance that is down listed with its reason.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import { createCommandCenter } from '../events/fixtures/pandora';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { launchNodeRed, prepareUserDir, repoRoot, type RunningNodeRed } from '../helpers/node-red';
import { waitFor } from '../helpers/wait';
import { createInstance } from './fixtures/pandora';

/** The Dashboard 2 release the example was written against. */
const DASHBOARD = '@flowfuse/node-red-dashboard@1.31.0';
const EXAMPLE = join(repoRoot, 'examples/instance-query-dashboard/command-center-dashboard.json');

type FlowNode = Record<string, unknown> & { id: string; type: string };

describe('instance-query dashboard example', () => {
  let db: PrivateMariaDb;
  let nr: RunningNodeRed | undefined;

  before(async () => {
    db = await startMariaDb();
    await Promise.all([createInstance(db, 'wa', 1), createInstance(db, 'wb', 2)]);
    await createCommandCenter(db, 'wcc', [
      { id: 1, name: 'madrid', port: db.port, dbname: 'wa' },
      { id: 2, name: 'lisboa', port: db.port, dbname: 'wb' },
      // Nothing listens on port 1: an Instance that is down.
      { id: 3, name: 'gone', port: 1, dbname: 'wc' },
    ]);
  });
  after(async () => {
    await nr?.stop();
    await db?.destroy();
  });

  it('shows the tactical view and the critical agents of every Instance', async () => {
    const flow = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as FlowNode[];
    for (const n of flow) {
      if (n.type === 'pandora-config') {
        Object.assign(n, {
          dbHost: db.host,
          dbPort: String(db.port),
          dbName: 'wcc',
          dbUser: db.user,
        });
      }
    }
    const prepared = await prepareUserDir({ flows: flow });
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', DASHBOARD], {
      cwd: prepared.userDir,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    nr = await launchNodeRed(prepared);
    const running = nr;
    assert.match(running.output(), /Node-RED Dashboard 2\.0 .* started at \/dashboard/);
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
      await page.goto(`${running.url}/dashboard/command-center`);
      const text = async () => (await page.innerText('body')).replace(/\s+/g, ' ');
      await waitFor(
        async () =>
          /All Instances/.test(await text()) && /lisboa Web server \(main\)/.test(await text()),
        30_000,
        'both tables filled',
      );
      const body = await text();
      assert.match(body, /madrid 3 1 0 0 1 1 1 1/);
      assert.match(body, /All Instances 6 2 0 0 2 2 2 2/);
      assert.match(body, /gone not answering instance 3 \(gone\) at .*: connection refused/);
      assert.match(
        body,
        /madrid Web server \(main\) Servers & DB 10\.0\.0\.1 1 2026-12-01 08:00:00/,
      );
    } finally {
      await browser.close();
    }
    assert.doesNotMatch(running.output(), /\[error\]/);
  });
});
