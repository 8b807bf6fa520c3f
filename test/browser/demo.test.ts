/**
 * The demo as a person runs it (scripts/demo.mjs, on the Node-RED this run tests), looked at in
 * Debian's chromium: every node of the package in the editor shows a green status, and the
 * Command Center page at /dashboard (Dashboard 2, which the demo installs from the npm registry
 * into a cache folder; the package never depends on it) shows each Instance's agents and modules
 * by status, alerts fired, events copied and lag, with figures that change as the demo's
 * Instances do.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { openEditor } from '../helpers/browser';
import { runChild, type TestChild } from '../helpers/child';
import { freePort } from '../helpers/mariadb';
import { repoRoot } from '../helpers/node-red';
import { NODE_RED_PACKAGE } from '../helpers/node-red-version';
import { waitFor } from '../helpers/wait';

/** The package's node types the demo flow uses; each must show a green status. */
const PACKAGE_NODES = [
  'tentacle-buffer',
  'tentacle-pull',
  'metaconsole-replicate',
  'event-pull',
  'instance-query',
  'agent-cache',
];
const STATUSES = ['total', 'normal', 'warning', 'critical', 'unknown', 'notinit'];
/** The demo's Instances and how many agents each has (scripts/demo-instances.mjs). */
const INSTANCES: Record<string, number> = { madrid: 4, valencia: 3 };

type Figures = Record<string, Record<string, string>>;

/** Each Instance row of the page: its figures by data-k name. */
function figures(page: Page): Promise<Figures> {
  return page.$$eval('tr[data-instance]', (rows) =>
    Object.fromEntries(
      rows.map((r) => [
        r.getAttribute('data-instance') ?? '',
        Object.fromEntries(
          Array.from(r.querySelectorAll('td[data-k]')).map((td) => [
            td.getAttribute('data-k') ?? '',
            (td.textContent ?? '').trim(),
          ]),
        ),
      ]),
    ),
  );
}

const moduleStates = (f: Record<string, string>): string =>
  STATUSES.map((s) => f[`modules.${s}`]).join(' ');

describe('the demo, in a real browser', () => {
  let demo: TestChild;
  let dir: string;
  let url: string;
  let browser: Browser | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pandora-sync-demo-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    demo = await runChild(join(repoRoot, 'scripts/demo.mjs'), {
      env: {
        ...process.env,
        DEMO_DIR: dir,
        DEMO_PORT: String(port),
        DEMO_BUFFER_PORT: String(await freePort()),
        DEMO_NODE_RED: NODE_RED_PACKAGE === 'node-red-5' ? '5' : '4',
      },
      stderr: 'pipe',
      ready: /Started flows/,
      // The first run on a machine installs Dashboard 2 into its cache folder.
      readyMs: 180_000,
    });
  });
  after(async () => {
    await browser?.close();
    if (demo) {
      // SIGTERM: the demo stops its Node-RED and MariaDB itself.
      demo.process.kill('SIGTERM');
      const timer = setTimeout(() => void demo.kill(), 30_000);
      await demo.done;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('installs Dashboard 2 for the demo only: the package does not depend on it', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Record<
      string,
      Record<string, string> | undefined
    >;
    for (const field of ['dependencies', 'devDependencies', 'peerDependencies']) {
      assert.equal(pkg[field]?.['@flowfuse/node-red-dashboard'], undefined, field);
    }
    assert.match(demo.output(), /Node-RED Dashboard 2\.0 .* started at \/dashboard/);
  });

  it('shows every package node green in the editor', async () => {
    const opened = await openEditor(`${url}/`);
    browser = opened.browser;
    const { page } = opened;
    try {
      await page.waitForFunction(
        (types) => {
          const red = (window as unknown as { RED: EditorRed }).RED;
          const found: string[] = [];
          let green = true;
          red.nodes.eachNode((n) => {
            if (!types.includes(n.type)) return;
            found.push(n.type);
            green &&= n.status?.fill === 'green';
          });
          return types.every((t) => found.includes(t)) && green;
        },
        PACKAGE_NODES,
        { timeout: 90_000 },
      );
    } catch (err) {
      const seen = await page.evaluate(() => {
        const rows: string[] = [];
        (window as unknown as { RED: EditorRed }).RED.nodes.eachNode((n) => {
          rows.push(`${n.type}: ${n.status?.fill ?? '-'} ${n.status?.text ?? ''}`);
        });
        return rows.join('\n');
      });
      throw new Error(`not every package node is green:\n${seen}\n${demo.output()}`, {
        cause: err,
      });
    } finally {
      await page.close();
    }
  });

  it('shows per Instance agents, modules, alerts, events and lag at /dashboard, and they change', async () => {
    browser ??= (await openEditor(`${url}/`)).browser;
    const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
    await page.goto(`${url}/dashboard`);
    // Each source has answered: the tactical view, the lag metrics and the agent cache's round.
    const complete = (f: Figures): boolean =>
      Object.keys(INSTANCES).every(
        (name) =>
          f[name] &&
          ['agents.total', 'eventLag', 'cached', 'cacheLag'].every((k) => /\d/.test(f[name][k])),
      );
    let first: Figures = {};
    await waitFor(
      async () => complete((first = await figures(page))),
      60_000,
      'both Instances on the page with their figures',
    );
    for (const [name, agents] of Object.entries(INSTANCES)) {
      const f = first[name];
      assert.equal(Number(f['agents.total']), agents, `${name}: agents`);
      assert.equal(Number(f['modules.total']), agents * 3, `${name}: modules`);
      const sum = (k: string) => STATUSES.slice(1).reduce((n, s) => n + Number(f[`${k}.${s}`]), 0);
      assert.equal(sum('agents'), agents, `${name}: agents by status add up`);
      assert.equal(sum('modules'), agents * 3, `${name}: modules by status add up`);
      assert.match(f.alertsFired, /^\d+$/);
      assert.match(f.eventLag, /^\d+(\.\d+)?$/);
      assert.match(f.events, /^\d+$/);
      // The agent cache holds every agent of the Instance.
      assert.equal(f.cached, String(agents), `${name}: agents cached`);
      assert.match(f.cacheLag, /^\d+(\.\d+)?$/);
    }
    // The Instances move a module every 3 s (each in turn) and write its event: within a minute
    // every Instance has more events copied and another spread of module states.
    let now: Figures = first;
    await waitFor(
      async () => {
        now = await figures(page);
        return Object.keys(INSTANCES).every(
          (name) =>
            Number(now[name].events) > Number(first[name].events) &&
            moduleStates(now[name]) !== moduleStates(first[name]),
        );
      },
      60_000,
      'the figures to change',
    );
    await page.close();
    assert.doesNotMatch(demo.output(), /\[error\]/);
  });
});

interface EditorNode {
  type: string;
  status?: { fill?: string; text?: string };
}
interface EditorRed {
  nodes: { eachNode(cb: (n: EditorNode) => void): void };
}
