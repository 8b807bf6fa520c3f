/**
 * The editor as an administrator meets it: the real node-red with the packed package, driven in
 * Debian's chromium through playwright-core. Takes the screenshots the README shows: into
 * docs/images when UPDATE_SCREENSHOTS=1, otherwise into a temp folder so a test run leaves the
 * working tree as it was.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { openEditor, trayAtRest } from '../helpers/browser';
import { applySchema } from '../helpers/schema';
import { TentacleClient } from '../../lib/tentacle/client';
import { freePort, PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { repoRoot, RunningNodeRed, startNodeRed } from '../helpers/node-red';

const NODE_TYPES = [
  'pandora-config',
  'tentacle-buffer',
  'tentacle-pull',
  'event-pull',
  'metaconsole-replicate',
  'instance-query',
];
const shots =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? join(repoRoot, 'docs/images')
    : join(tmpdir(), 'pandora-sync-screenshots');

describe('editor in a real browser', () => {
  let db: PrivateMariaDb;
  let nr: RunningNodeRed;
  let browser: Browser;
  let page: Page;
  let work: string;
  let bufferPort: number;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'pandora-sync-browser-'));
    db = await startMariaDb();
    await db.freshDatabase('cc');
    const cc = await db.connect('cc');
    await applySchema(cc, 'registry');
    await cc.end();
    bufferPort = await freePort();
    const tab = 'b7e1a0c4f2d90001';
    nr = await startNodeRed({
      flows: [
        { id: tab, type: 'tab', label: 'Pandora' },
        {
          id: 'b7e1a0c4f2d90002',
          type: 'tentacle-buffer',
          z: tab,
          x: 160,
          y: 80,
          name: 'isolated buffer',
          address: '127.0.0.1',
          port: String(bufferPort),
          storage: join(work, 'buffer'),
          filters: '.*\\.conf:conf;.*\\.md5:md5;.*\\.zip:collections',
          insecure: true,
          overwrite: false,
          maxSize: '2000000',
          maxConnections: '10',
          timeout: '1',
          retries: '3',
          quotaBytes: '0',
          quotaFiles: '0',
          wires: [[]],
        },
        {
          id: 'b7e1a0c4f2d90003',
          type: 'tentacle-pull',
          z: tab,
          x: 160,
          y: 160,
          name: 'central pull',
          config: 'b7e1a0c4f2d90004',
          interval: '1',
          deliver: 'dir',
          pattern: '\\.data$',
          concurrency: '4',
          connections: '2',
          wires: [[], []],
        },
        {
          id: 'b7e1a0c4f2d90005',
          type: 'event-pull',
          z: tab,
          x: 160,
          y: 240,
          name: 'events',
          config: 'b7e1a0c4f2d90004',
          instances: '',
          interval: '10',
          batchSize: '1000',
          mode: 'all',
          wires: [[]],
        },
        {
          id: 'b7e1a0c4f2d90006',
          type: 'metaconsole-replicate',
          z: tab,
          x: 160,
          y: 320,
          name: 'replicate',
          config: 'b7e1a0c4f2d90004',
          instances: '',
          objects: '',
          interval: '0',
          wires: [[]],
        },
        {
          id: 'b7e1a0c4f2d90004',
          type: 'pandora-config',
          name: 'Command Center',
          dbHost: '127.0.0.1',
          dbPort: String(db.port),
          dbName: 'cc',
          dbUser: 'root',
          incomingDir: join(work, 'data_in'),
          syncAddress: `127.0.0.1:${bufferPort}`,
          syncPort: '41121',
          syncRetries: '3',
          syncTimeout: '10',
        },
      ],
    });
    ({ browser, page } = await openEditor(nr.url));
    mkdirSync(shots, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await nr?.stop();
    await db?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('lists the five node types in the palette under "pandora"', async () => {
    for (const type of NODE_TYPES.filter((t) => t !== 'pandora-config')) {
      const el = page.locator(`#red-ui-palette-container-pandora [data-palette-type="${type}"]`);
      assert.equal(await el.count(), 1, `${type} in the pandora category`);
    }
    const registered = await page.evaluate(
      (types) => types.filter((t) => (window as unknown as RedWindow).RED.nodes.getType(t)),
      NODE_TYPES,
    );
    assert.deepEqual(registered, NODE_TYPES);
    // Only the pandora category shown, so the picture is about the package's nodes.
    await page.evaluate(() => {
      $('.red-ui-palette-category').not('#red-ui-palette-container-pandora').hide();
    });
    await page.waitForFunction(() => $('.red-ui-palette-category:visible').length === 1);
    await page.locator('#red-ui-palette').screenshot({ path: join(shots, 'palette.png') });
  });

  it('shows a green status on the deployed buffer and pull pair', async () => {
    const agent = await TentacleClient.connect({ host: '127.0.0.1', port: bufferPort });
    for (const name of ['web-01.1.data', 'web-01.2.data', 'db-01.1.data']) {
      await agent.send(name, Buffer.from(`<agent_data agent_name="${name}"/>`));
    }
    await agent.quit();
    await page.waitForFunction(
      () => {
        const red = (window as unknown as RedWindow).RED;
        const ok = (id: string) => red.nodes.node(id)?.status?.fill === 'green';
        const pulled = /[1-9]\d* files?/.test(
          red.nodes.node('b7e1a0c4f2d90003')?.status?.text ?? '',
        );
        // The buffer's status follows what it holds: empty again once the pull took the files.
        const emptied = /\b0 files\b/.test(red.nodes.node('b7e1a0c4f2d90002')?.status?.text ?? '');
        return ok('b7e1a0c4f2d90002') && ok('b7e1a0c4f2d90003') && pulled && emptied;
      },
      undefined,
      { timeout: 30_000 },
    );
    await page.screenshot({ path: join(shots, 'flow-running.png') });
  });

  it('opens each edit dialog with its fields and help, and marks a bad port', async () => {
    const dialogs: Record<string, string[]> = {
      b7e1a0c4f2d90002: ['#node-input-port', '#node-input-storage', '#node-input-filters'],
      b7e1a0c4f2d90003: ['#node-input-config', '#node-input-interval', '#node-input-pattern'],
      b7e1a0c4f2d90005: ['#node-input-config', '#node-input-batchSize', '#node-input-mode'],
      b7e1a0c4f2d90006: ['#node-input-config', '#node-input-interval'],
    };
    for (const [id, fields] of Object.entries(dialogs)) {
      await page.evaluate((nodeId) => {
        const red = (window as unknown as RedWindow).RED;
        red.editor.edit(red.nodes.node(nodeId));
      }, id);
      await page.waitForSelector('.red-ui-tray-body', { timeout: 10_000 });
      // The tray slides in; a picture taken before it stops shows half a dialog.
      await trayAtRest(page);
      for (const f of fields) {
        assert.equal(await page.locator(f).count(), 1, `${id}: ${f}`);
      }
      if (id === 'b7e1a0c4f2d90002') {
        await page.fill('#node-input-port', '70000');
        await page.locator('#node-input-port').blur();
        await page.waitForFunction(() => $('#node-input-port').hasClass('input-error'));
        assert.match((await page.getAttribute('#node-input-port', 'class')) ?? '', /input-error/);
        await page.screenshot({ path: join(shots, 'dialog-buffer.png') });
        // Each field says which tentacle_server option it is.
        const titles = await page.evaluate(() =>
          ['port', 'maxConnections', 'quotaFiles', 'tlsCa'].map(
            (f) => $(`label[for="node-input-${f}"]`).attr('title') ?? '',
          ),
        );
        assert.deepEqual(
          titles.map((t) => /tentacle_server (-\w)|No tentacle_server option/.exec(t)?.[0]),
          [
            'tentacle_server -p',
            'tentacle_server -c',
            'No tentacle_server option',
            'tentacle_server -f',
          ],
        );
      }
      if (id === 'b7e1a0c4f2d90003') {
        await page.screenshot({ path: join(shots, 'dialog-pull.png') });
      }
      const help = await page.evaluate((nodeId) => {
        const red = (window as unknown as RedWindow).RED;
        const type = red.nodes.node(nodeId).type;
        return $(`script[data-help-name="${type}"]`).html() ?? '';
      }, id);
      assert.ok(help.length > 200, `${id} has help text`);
      await page.click('#node-dialog-cancel');
      await page.waitForSelector('.red-ui-tray-body', { state: 'detached', timeout: 10_000 });
    }
  });

  it("pandora-config's Show button lists a conf file's used tokens, and refuses other files", async () => {
    const conf = join(work, 'pandora_server.conf');
    writeFileSync(conf, '# central\ndbhost 10.9.9.9\ndbpass s3cret\nlog_file /var/log/x\n');
    await page.evaluate(() =>
      (window as unknown as RedWindow).RED.editor.editConfig(
        '',
        'pandora-config',
        'b7e1a0c4f2d90004',
      ),
    );
    await page.waitForSelector('#pandora-config-show-conf', { timeout: 10_000 });
    await trayAtRest(page);
    const out = page.locator('#pandora-config-conf-tokens');
    await page.fill('#node-config-input-confFile', conf);
    await page.click('#pandora-config-show-conf');
    await page.waitForFunction(() =>
      /dbhost 10\.9\.9\.9/.test($('#pandora-config-conf-tokens').text() ?? ''),
    );
    const shown = (await out.textContent()) ?? '';
    assert.match(shown, /dbpass \(set\)/);
    await page.screenshot({ path: join(shots, 'dialog-config.png') });
    const tip = await page.evaluate(() =>
      $('label[for="node-config-input-syncAddress"]').attr('title'),
    );
    assert.match(tip ?? '', /sync_address/);
    assert.doesNotMatch(shown, /s3cret|log_file/);
    await page.fill('#node-config-input-confFile', '/etc/passwd');
    await page.click('#pandora-config-show-conf');
    await page.waitForFunction(() =>
      /pandora_server\.conf/.test($('#pandora-config-conf-tokens').text() ?? ''),
    );
    assert.doesNotMatch((await out.textContent()) ?? '', /root/);
    await page.click('#node-config-dialog-cancel');
    await page.waitForSelector('#pandora-config-show-conf', { state: 'detached', timeout: 10_000 });
  });

  it("lists the package's examples under Import > Examples and imports one", async () => {
    await page.evaluate(() =>
      (window as unknown as RedWindow).RED.actions.invoke('core:show-examples-import-dialog'),
    );
    const examplesTab = '#red-ui-clipboard-dialog-import-tab-examples';
    await page.waitForSelector(examplesTab, { timeout: 10_000 });
    const pkg = page.locator(`${examplesTab} .red-ui-treeList-label-text`, {
      hasText: 'node-red-contrib-pandora-sync',
    });
    await pkg.first().click();
    await page
      .locator(`${examplesTab} .red-ui-treeList-label-text`, { hasText: /buffer/i })
      .first()
      .waitFor({ timeout: 10_000 });
    const labels = await page
      .locator(`${examplesTab} .red-ui-treeList-label-text`)
      .allTextContents();
    assert.ok(
      labels.some((l) => /buffer/i.test(l)),
      `examples listed: ${labels.join(', ')}`,
    );
    await page
      .locator(`${examplesTab} .red-ui-treeList-label-text`, { hasText: /buffer/i })
      .first()
      .click();
    await page.click('#red-ui-clipboard-dialog-ok');
    await page.mouse.click(700, 500);
    // The import lands a moment after the click (the example brings its own tab).
    const buffers = () =>
      page.evaluate(() => {
        let n = 0;
        (window as unknown as RedWindow).RED.nodes.eachNode((node: { type: string }) => {
          if (node.type === 'tentacle-buffer') n++;
        });
        return n;
      });
    await page.waitForFunction(
      () => {
        let n = 0;
        (window as unknown as RedWindow).RED.nodes.eachNode((node: { type: string }) => {
          if (node.type === 'tentacle-buffer') n++;
        });
        return n >= 2;
      },
      undefined,
      { timeout: 10_000 },
    );
    const count = await buffers();
    assert.ok(count >= 2, 'the example added a tentacle-buffer');
  });
});

// The editor's globals, only as far as these tests touch them.
interface RedWindow {
  RED: {
    nodes: {
      getType(t: string): unknown;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      node(id: string): any;
      eachNode(cb: (n: { type: string }) => void): void;
    };
    editor: { edit(node: unknown): void; editConfig(n: string, type: string, id: string): void };
    actions: { invoke(name: string): void };
  };
}
interface JQ {
  attr(name: string): string | undefined;
  length: number;
  hasClass(name: string): boolean;
  html(): string | undefined;
  text(): string | undefined;
  not(selector: string): JQ;
  hide(): JQ;
}
declare const $: (selector: string) => JQ;
