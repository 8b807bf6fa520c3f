// Takes docs/images/demo-flow.png and docs/images/demo-dashboard.png from a running demo (bash
// scripts/demo.sh): opens the editor in Debian's headless chromium, waits until every package
// node shows a green status, prints them, saves the flow's picture, then opens the Command
// Center page at /dashboard and saves its picture once both Instances' figures are there.
// Usage: node scripts/screenshot-demo.mjs [url] [flow.png] [dashboard.png]
/* global window, document -- page.evaluate and waitForFunction bodies run in the browser */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const url = process.argv[2] ?? `http://127.0.0.1:${process.env.DEMO_PORT ?? 1880}/`;
const out = process.argv[3] ?? join(root, 'docs/images/demo-flow.png');
const outDashboard = process.argv[4] ?? join(root, 'docs/images/demo-dashboard.png');
const TYPES = [
  'tentacle-buffer',
  'tentacle-pull',
  'metaconsole-replicate',
  'event-pull',
  'instance-query',
  'agent-cache',
];

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  await page.goto(url);
  await page.waitForSelector('.red-ui-palette-node', { timeout: 30_000 });
  // Statuses that show work done: files held and pulled, instances in sync, events copied.
  await page.waitForFunction(
    (types) => {
      const red = window.RED;
      const nodes = [];
      red.nodes.eachNode((n) => {
        if (types.includes(n.type)) nodes.push(n);
      });
      return (
        nodes.length === types.length && nodes.every((n) => n.status && n.status.fill === 'green')
      );
    },
    TYPES,
    { timeout: 60_000 },
  );
  // Let the per-criticity counter and the debug sidebar fill a little.
  await page.waitForTimeout(4000);
  await page.evaluate(() => {
    window.RED.sidebar.show('debug');
    window.RED.view.focus?.();
  });
  await page.waitForTimeout(800);
  const statuses = await page.evaluate(() => {
    const rows = [];
    window.RED.nodes.eachNode((n) => {
      if (n.status && n.status.text)
        rows.push(`${n.type} "${n.name}": ${n.status.fill} ${n.status.text}`);
    });
    return rows;
  });
  for (const s of statuses) console.log(s);
  mkdirSync(dirname(out), { recursive: true });
  await page.screenshot({ path: out });
  console.log(`saved ${out}`);

  const board = await browser.newPage({ viewport: { width: 1400, height: 760 } });
  await board.goto(new URL('dashboard', url).href);
  // Both Instances with their tactical figures, event lag and cached agents.
  await board.waitForFunction(
    () => {
      const rows = [...document.querySelectorAll('tr[data-instance]')];
      const filled = (r, k) => /\d/.test(r.querySelector(`td[data-k="${k}"]`)?.textContent ?? '');
      return (
        rows.length === 2 &&
        rows.every((r) =>
          ['agents.total', 'eventLag', 'cached', 'cacheLag'].every((k) => filled(r, k)),
        )
      );
    },
    undefined,
    { timeout: 60_000 },
  );
  // Let the charts draw a few points.
  await board.waitForTimeout(15_000);
  console.log((await board.innerText('tbody')).replace(/[ \t]+/g, ' '));
  await board.screenshot({ path: outDashboard });
  console.log(`saved ${outDashboard}`);
} finally {
  await browser.close();
}
