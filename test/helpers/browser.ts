/** Debian's chromium, driven by playwright-core, with the flags this closed network needs. */
import { existsSync } from 'node:fs';
import { Browser, chromium, Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

/** Opens the Node-RED editor at `url` and waits for its palette. */
export async function openEditor(
  url: string,
  viewport = { width: 1400, height: 860 },
): Promise<{ browser: Browser; page: Page }> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (.ci/run does)`);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const page = await browser.newPage({ viewport });
  await page.goto(url);
  await page.waitForSelector('.red-ui-palette-node', { timeout: 30_000 });
  return { browser, page };
}

/** Waits until the edit tray has stopped sliding (its left edge the same on two polls). */
export async function trayAtRest(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const tray = document.querySelector('.red-ui-tray');
      if (!tray) return false;
      const w = window as unknown as { trayLeft?: number };
      const left = tray.getBoundingClientRect().left;
      const still = w.trayLeft === left;
      w.trayLeft = left;
      return still;
    },
    undefined,
    { polling: 150, timeout: 10_000 },
  );
}
