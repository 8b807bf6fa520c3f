/**
 * "Create certificates…" as an administrator uses it: the real node-red with the packed package,
 * driven in Debian's chromium. The dialog makes the files on the Node-RED host and fills the
 * certificate fields; status words are translated by the editor.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { openEditor } from '../helpers/browser';
import { freePort } from '../helpers/mariadb';
import { RunningNodeRed, startNodeRed } from '../helpers/node-red';

const TAB = 'c3a9e1f0b2d40001';
const CFG = 'c3a9e1f0b2d40002';
const PULL = 'c3a9e1f0b2d40003';
const BUF = 'c3a9e1f0b2d40004';

describe('Create certificates… in the editor', () => {
  let nr: RunningNodeRed;
  let browser: Browser;
  let page: Page;
  let work: string;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'pandora-sync-certs-browser-'));
    const bufferPort = await freePort();
    nr = await startNodeRed({
      flows: [
        { id: TAB, type: 'tab', label: 'Certificates' },
        {
          id: CFG,
          type: 'pandora-config',
          name: 'central',
          incomingDir: join(work, 'data_in'),
          // Nothing listens there: the pull stays idle (interval 0), the address prefills names.
          syncAddress: `127.0.0.1:${await freePort()}`,
        },
        {
          id: PULL,
          type: 'tentacle-pull',
          z: TAB,
          x: 160,
          y: 80,
          config: CFG,
          interval: '0',
          wires: [[], []],
        },
        {
          id: BUF,
          type: 'tentacle-buffer',
          z: TAB,
          x: 160,
          y: 160,
          address: '127.0.0.1',
          port: String(bufferPort),
          storage: join(work, 'buffer'),
          wires: [[]],
        },
      ],
    });
    ({ browser, page } = await openEditor(nr.url, { width: 1400, height: 900 }));
  });

  after(async () => {
    await browser?.close();
    await nr?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('shows status words translated, not as message keys', async () => {
    await page.waitForFunction(
      (id) => (window as unknown as RedWindow).RED.nodes.node(id)?.status?.text === 'waiting',
      PULL,
      { timeout: 15_000 },
    );
    const fill = await page.evaluate(
      (id) => (window as unknown as RedWindow).RED.nodes.node(id).status.fill,
      PULL,
    );
    assert.equal(fill, 'grey');
  });

  it('pandora-config: makes the files and fills CA, Certificate and Key', async () => {
    await page.evaluate((id) => {
      (window as unknown as RedWindow).RED.editor.editConfig('config', 'pandora-config', id);
    }, CFG);
    await page.waitForSelector('#node-config-input-syncCert', { timeout: 10_000 });
    await page.click('#pandora-config-certs-open');
    await page.waitForSelector('#pandora-config-certs', { state: 'visible' });
    // Proposed: the buffers of syncAddress, and a folder in the userDir.
    assert.equal(await page.inputValue('#pandora-config-certs-names'), '127.0.0.1');
    await page.waitForFunction(() =>
      Boolean(document.getElementById('pandora-config-certs-dir')?.value),
    );
    assert.equal(
      await page.inputValue('#pandora-config-certs-dir'),
      join(nr.userDir, 'pandora-sync-certs'),
    );
    const dir = join(work, 'central-certs');
    await page.fill('#pandora-config-certs-dir', dir);
    await page.fill('#pandora-config-certs-names', '127.0.0.1, buffer1.example');
    await page.click('#pandora-config-certs-create');
    await page.waitForFunction(
      () => document.getElementById('node-config-input-syncCert')?.value,
      undefined,
      { timeout: 20_000 },
    );
    assert.equal(await page.inputValue('#node-config-input-syncCa'), join(dir, 'ca.pem'));
    assert.equal(
      await page.inputValue('#node-config-input-syncCert'),
      join(dir, 'client-cert.pem'),
    );
    assert.equal(await page.inputValue('#node-config-input-syncKey'), join(dir, 'client-key.pem'));
    const told = await page.textContent('#pandora-config-certs-result');
    assert.match(told ?? '', /server-cert\.pem/);
    assert.match(told ?? '', /server-key\.pem/);
    for (const f of ['ca.pem', 'server-cert.pem', 'server-key.pem', 'client-cert.pem']) {
      assert.ok(existsSync(join(dir, f)), f);
    }
    assert.equal(statSync(join(dir, 'client-key.pem')).mode & 0o777, 0o600);
    const server = new X509Certificate(readFileSync(join(dir, 'server-cert.pem')));
    assert.ok(server.checkIP('127.0.0.1') && server.checkHost('buffer1.example'));

    // A second time into the same folder is refused, and says why.
    await page.click('#pandora-config-certs-create');
    await page.waitForFunction(
      () =>
        /already there/.test(
          document.getElementById('pandora-config-certs-result')?.textContent ?? '',
        ),
      undefined,
      { timeout: 20_000 },
    );

    await page.click('#node-config-dialog-ok');
    await page.waitForSelector('#node-config-input-syncCert', { state: 'detached' });
    const saved = await page.evaluate(
      (id) => (window as unknown as RedWindow).RED.nodes.node(id).syncKey,
      CFG,
    );
    assert.equal(saved, join(dir, 'client-key.pem'));
  });

  it('tentacle-buffer: proposes its address and host name, fills Certificate, Key and CA', async () => {
    await page.evaluate((id) => {
      const red = (window as unknown as RedWindow).RED;
      red.editor.edit(red.nodes.node(id));
    }, BUF);
    await page.waitForSelector('#node-input-tlsCert', { timeout: 10_000 });
    await page.click('#tentacle-buffer-certs-open');
    await page.waitForFunction(() => document.getElementById('tentacle-buffer-certs-names')?.value);
    assert.equal(await page.inputValue('#tentacle-buffer-certs-names'), `127.0.0.1, ${hostname()}`);
    const dir = join(work, 'buffer-certs');
    await page.fill('#tentacle-buffer-certs-dir', dir);
    await page.click('#tentacle-buffer-certs-create');
    await page.waitForFunction(
      () => document.getElementById('node-input-tlsCert')?.value,
      undefined,
      { timeout: 20_000 },
    );
    assert.equal(await page.inputValue('#node-input-tlsCert'), join(dir, 'server-cert.pem'));
    assert.equal(await page.inputValue('#node-input-tlsKey'), join(dir, 'server-key.pem'));
    assert.equal(await page.inputValue('#node-input-tlsCa'), join(dir, 'ca.pem'));
    assert.match((await page.textContent('#tentacle-buffer-certs-result')) ?? '', /sync_cert/);
    assert.equal(statSync(join(dir, 'server-key.pem')).mode & 0o777, 0o600);
    await page.click('#node-dialog-cancel');
    await page.waitForSelector('#node-input-tlsCert', { state: 'detached' });
  });
});

// The editor's globals, only as far as these tests touch them.
interface RedWindow {
  RED: {
    nodes: {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      node(id: string): any;
    };
    editor: {
      edit(node: unknown): void;
      editConfig(name: string, type: string, id: string): void;
    };
  };
}
// Only evaluated in the page; Node's lib has no DOM types.
declare const document: {
  getElementById(id: string): { value?: string; textContent: string | null } | null;
};
