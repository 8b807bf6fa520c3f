/**
 * End to end: the packed package installed into a fresh Node-RED user directory, the real
 * node-red started on it with a flow holding a tentacle-buffer, files sent over TCP.
 */
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TentacleClient } from '../../lib/tentacle';
import { spawnChild } from '../helpers/child';
import { nodeRedDir } from '../helpers/node-red-version';
import { until } from '../helpers/wait';
import { removeDir, sleep, tempDir } from '../tentacle/helpers';
import { offlineSettings, settingsModule } from '../helpers/offline-settings';

const PKG = 'node-red-contrib-pandora-sync';

/** The package root: the nearest directory up whose package.json is this package. */
function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const p = join(dir, 'package.json');
    if (existsSync(p) && (JSON.parse(readFileSync(p, 'utf8')) as { name?: string }).name === PKG) {
      return dir;
    }
    const up = resolve(dir, '..');
    if (up === dir) throw new Error('package root not found');
    dir = up;
  }
}
const root = packageRoot();

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => res(port));
    });
    s.once('error', rej);
  });
}

async function waitPort(port: number, ms: number, alive: () => boolean): Promise<void> {
  const open = () =>
    new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
  if (await until(async () => !alive() || (await open()), ms, 200)) {
    if (!alive()) throw new Error('node-red exited');
    return;
  }
  throw new Error(`port ${port} not open after ${ms} ms`);
}

describe('tentacle-buffer in a real Node-RED', { timeout: 180_000 }, () => {
  let work: string;
  let red: ChildProcess | null = null;
  let log = (): string => '';
  let bufferPort = 0;
  let storage = '';

  before(async () => {
    work = await tempDir('tentacle-e2e-');
    const userDir = join(work, 'user');
    storage = join(work, 'data_in');
    await mkdir(userDir);
    // Pack a staged copy laid out as `npm run build` lays out dist/ (from the compiled tree these
    // tests run from), so a concurrent rebuild of the shared dist/ cannot make a broken package.
    const pkgDir = join(work, 'pkg');
    const compiled = resolve(__dirname, '../..');
    cpSync(join(root, 'package.json'), join(pkgDir, 'package.json'));
    for (const extra of ['icons', 'examples', 'README.md', 'LICENSE', 'CHANGELOG.md']) {
      if (existsSync(join(root, extra)))
        cpSync(join(root, extra), join(pkgDir, extra), { recursive: true });
    }
    cpSync(join(compiled, 'lib'), join(pkgDir, 'dist/lib'), { recursive: true });
    cpSync(join(compiled, 'nodes'), join(pkgDir, 'dist/nodes'), { recursive: true });
    for (const name of readdirSync(join(root, 'nodes'))) {
      const src = join(root, 'nodes', name);
      if (!statSync(src).isDirectory()) continue;
      for (const entry of readdirSync(src)) {
        if (!entry.endsWith('.ts'))
          cpSync(join(src, entry), join(pkgDir, 'dist/nodes', name, entry), { recursive: true });
      }
      cpSync(join(root, 'icons'), join(pkgDir, 'dist/nodes', name, 'icons'), { recursive: true });
    }
    execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], {
      cwd: pkgDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    assert.ok(tgz, 'npm pack made no tarball');
    writeFileSync(join(userDir, 'package.json'), JSON.stringify({ name: 'e2e', private: true }));
    execFileSync(
      'npm',
      ['install', join(work, tgz), '--prefer-offline', '--no-audit', '--no-fund', '--silent'],
      { cwd: userDir, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 },
    );
    const installed = join(userDir, 'node_modules', PKG, 'package.json');
    const pkg = JSON.parse(readFileSync(installed, 'utf8')) as {
      'node-red': { nodes: Record<string, string> };
    };
    // Until package.json lists the node, register it in the installed copy only.
    if (!pkg['node-red'].nodes['tentacle-buffer']) {
      pkg['node-red'].nodes['tentacle-buffer'] = 'dist/nodes/tentacle-buffer/tentacle-buffer.js';
      writeFileSync(installed, JSON.stringify(pkg, null, 2));
    }
    assert.ok(
      existsSync(
        join(userDir, 'node_modules', PKG, 'dist/nodes/tentacle-buffer/tentacle-buffer.html'),
      ),
      'the package lacks the editor files',
    );
    bufferPort = await freePort();
    const uiPort = await freePort();
    const flows = [
      { id: '0f3c5a7e9b1d2468', type: 'tab', label: 'buffer' },
      {
        id: '7e2d4c6a8f0b1357',
        type: 'tentacle-buffer',
        z: '0f3c5a7e9b1d2468',
        name: 'e2e buffer',
        address: '127.0.0.1',
        port: String(bufferPort),
        storage,
        filters: '.*\\.conf:conf;.*\\.md5:md5;.*\\.zip:collections',
        insecure: 'true',
        overwrite: 'false',
        wires: [[]],
      },
    ];
    writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flows));
    const settings = join(work, 'settings.js');
    writeFileSync(settings, settingsModule(offlineSettings(uiPort)));
    const child = spawnChild(join(nodeRedDir(), 'red.js'), {
      args: ['-u', userDir, '--settings', settings],
      stderr: 'pipe',
    });
    red = child.process;
    log = child.output;
    try {
      await waitPort(bufferPort, 60_000, () => red?.exitCode === null);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${log()}`);
    }
  });

  after(async () => {
    if (red && red.exitCode === null) {
      const exited = new Promise((r) => red?.once('exit', r));
      red.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (red.exitCode === null && red.signalCode === null) red.kill('SIGKILL');
    }
    if (work) await removeDir(work);
  });

  it('agents SEND files that land in the storage, routed by the filters', async () => {
    const c = await TentacleClient.connect({ host: '127.0.0.1', port: bufferPort });
    await c.send('agent_1.1.data', Buffer.from('<agent_data/>'));
    await c.send('agent.conf', Buffer.from('conf'));
    assert.ok((await c.ls('')).includes('agent_1.1.data'));
    await c.quit();
    assert.equal(await readFile(join(storage, 'agent_1.1.data'), 'utf8'), '<agent_data/>');
    assert.equal(await readFile(join(storage, 'conf', 'agent.conf'), 'utf8'), 'conf');
  });

  it('stops cleanly on SIGTERM and frees the port', async () => {
    assert.ok(red);
    const exited = new Promise<number | null>((r) => red?.once('exit', (code) => r(code)));
    red.kill('SIGTERM');
    await Promise.race([exited, sleep(20_000)]);
    assert.notEqual(red.exitCode === null && red.signalCode === null, true, log());
    const free = await new Promise<boolean>((r) => {
      const s = net.createServer();
      s.once('error', () => r(false));
      s.listen(bufferPort, '127.0.0.1', () => s.close(() => r(true)));
    });
    assert.ok(free, 'port still bound after node-red exited');
  });
});
