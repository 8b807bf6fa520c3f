/**
 * The real `node-red` program for end-to-end and browser tests: a fresh userDir with this package
 * installed from its packed tarball, as a palette install would, and a flow file of the test's.
 * NODE_RED_VERSION picks Node-RED 4 or 5 (see node-red-version.ts).
 */
import { ChildProcess, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnChild } from './child';
import { freePort } from './mariadb';
import { nodeRedDir } from './node-red-version';
import { until } from './wait';
import { offlineSettings, settingsModule } from './offline-settings';

export const repoRoot = resolve(__dirname, '../../..');

let packed: string | null = null;

/** `npm pack` of the built package, made once per test process. */
export function packPackage(): string {
  if (packed) return packed;
  const out = mkdtempSync(join(tmpdir(), 'pandora-sync-pack-'));
  execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', out], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const tgz = readdirSync(out).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new Error('npm pack made no tarball');
  packed = join(out, tgz);
  return packed;
}

export interface RunningNodeRed {
  url: string;
  port: number;
  userDir: string;
  process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export interface NodeRedOptions {
  flows: object[];
  /** Extra settings merged into settings.js (JSON-serialisable). */
  settings?: Record<string, unknown>;
}

export interface PreparedUserDir {
  userDir: string;
  port: number;
}

/** A fresh userDir with the packed package installed, settings on a free port, and the flows. */
export async function prepareUserDir(options: NodeRedOptions): Promise<PreparedUserDir> {
  const userDir = mkdtempSync(join(tmpdir(), 'pandora-sync-nr-'));
  writeFileSync(join(userDir, 'package.json'), JSON.stringify({ name: 'nr-user', private: true }));
  execFileSync(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--omit=dev', packPackage()],
    { cwd: userDir, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  mkdirSync(join(userDir, 'lib'), { recursive: true });
  const port = await freePort();
  writeFileSync(
    join(userDir, 'settings.js'),
    settingsModule(offlineSettings(port, options.settings)),
  );
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(options.flows));
  return { userDir, port };
}

/** Starts node-red on a prepared userDir (again, after a crash) and waits for its flows. */
export async function launchNodeRed({ userDir, port }: PreparedUserDir): Promise<RunningNodeRed> {
  const red = spawnChild(join(nodeRedDir(), 'red.js'), {
    args: ['--userDir', userDir, '--settings', join(userDir, 'settings.js')],
    cwd: userDir,
    stderr: 'pipe',
  });
  const child = red.process;
  const log = red.output;
  const url = `http://127.0.0.1:${port}`;
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const started = await until(() => gone() || /Started flows/.test(log()), 60_000, 100);
  if (gone()) throw new Error(`node-red exited early:\n${log()}`);
  if (!started) {
    child.kill('SIGKILL');
    throw new Error(`node-red did not start within 60 s:\n${log()}`);
  }
  return {
    url,
    port,
    userDir,
    process: child,
    output: log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}

/** Installs the packed package into a fresh userDir, starts node-red and waits for its flows. */
export async function startNodeRed(options: NodeRedOptions): Promise<RunningNodeRed> {
  return launchNodeRed(await prepareUserDir(options));
}
