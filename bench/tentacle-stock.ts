/**
 * Our drain against Pandora's real Perl tentacle_server, beside the stock `tentacle_client -g`
 * fetching the same files, with and without `quickack` on the route to the server. The stock
 * server pauses about one delayed-ACK timeout per file on a connection; quickack on the Sync
 * server host's route removes that pause.
 *
 * Nothing of Pandora's is in this repository: give the programs by path.
 *
 *   PANDORA_TENTACLE_SERVER=/path/to/tentacle_server   required, else the bench is skipped
 *   PANDORA_TENTACLE_CLIENT=/path/to/tentacle_client   the stock client's column (optional)
 *   TENTACLE_BENCH_ADDRESS=127.0.0.1                   where the server listens
 *   TENTACLE_BENCH_SERVER_PREFIX="ip netns exec ns-buf runuser -u nobody --"
 *                                                      command prefix for the server (as root
 *                                                      without one: `runuser -u nobody --`)
 *   TENTACLE_BENCH_QUICKACK_ROUTE="10.77.0.0/24 dev veth0 proto kernel scope link src 10.77.0.1"
 *                                                      a route of this process's network
 *                                                      namespace to run with quickack 0 and 1
 *                                                      (`ip route change`); unset: as it is
 *   FILES=2000 SIZE=4096
 *   CONTENT=xml                                        xml: agent data files (they compress to
 *                                                      about a fifth); random: incompressible
 *
 *   node dist/bench/tentacle-stock.js
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { compilePattern } from '../lib/sync/names';
import { SyncPuller } from '../lib/sync/puller';
import { agentXml } from '../test/helpers/agent-xml';

const SERVER = process.env.PANDORA_TENTACLE_SERVER;
const CLIENT = process.env.PANDORA_TENTACLE_CLIENT;
const ADDRESS = process.env.TENTACLE_BENCH_ADDRESS ?? '127.0.0.1';
const ROUTE = process.env.TENTACLE_BENCH_QUICKACK_ROUTE;
const FILES = Number(process.env.FILES ?? 2000);
const SIZE = Number(process.env.SIZE ?? 4096);
const CONTENT = process.env.CONTENT === 'random' ? 'random' : 'xml';
const PORT = 42000 + Math.floor(Math.random() * 1000);

function prefix(): string[] {
  const p = process.env.TENTACLE_BENCH_SERVER_PREFIX;
  if (p !== undefined) return p.split(/\s+/).filter(Boolean);
  // The stock server refuses to run as root.
  return userInfo().uid === 0 ? ['runuser', '-u', 'nobody', '--'] : [];
}

/** The uid the server runs as, so that it may delete what it serves. */
function serverUid(): number | null {
  const p = prefix();
  const i = p.indexOf('-u');
  if (i < 0) return null;
  const r = spawnSync('id', ['-u', p[i + 1]], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : null;
}

async function waitPort(ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: ADDRESS, port: PORT });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`tentacle_server did not listen on ${ADDRESS}:${PORT}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function startServer(storage: string): ChildProcess {
  const p = prefix();
  const args = [...p, 'perl', SERVER as string, '-a', ADDRESS, '-p', String(PORT), '-s', storage];
  const child = spawn(args[0], [...args.slice(1), '-I'], { detached: true, stdio: 'ignore' });
  return child;
}

function stopServer(child: ChildProcess): void {
  // The prefix may fork (runuser): end the whole group this bench started.
  if (child.pid) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

/** name -> sha1 of what was put on the buffer, to check what the drain delivered. */
const sent = new Map<string, string>();

function fill(storage: string, uid: number | null): string[] {
  const names: string[] = [];
  for (let i = 0; i < FILES; i++) {
    const name = `agent.${100000 + i}.data`;
    const body = CONTENT === 'random' ? randomBytes(SIZE) : agentXml(`agent${i}`, i, SIZE);
    writeFileSync(join(storage, name), body);
    sent.set(name, createHash('sha1').update(body).digest('hex'));
    names.push(name);
  }
  if (uid !== null) chownSync(storage, uid, 0);
  return names;
}

function quickack(on: boolean): void {
  if (!ROUTE) return;
  const r = spawnSync('ip', ['route', 'change', ...ROUTE.split(/\s+/), 'quickack', on ? '1' : '0']);
  if (r.status !== 0) throw new Error(`ip route change failed: ${r.stderr.toString().trim()}`);
}

function stockClient(names: string[], cwd: string): number {
  const t0 = performance.now();
  const r = spawnSync(
    'perl',
    [CLIENT as string, '-a', ADDRESS, '-p', String(PORT), '-g', ...names],
    { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 600_000 },
  );
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`tentacle_client -g failed: ${r.stderr.toString().trim()}`);
  const got = readdirSync(cwd).length;
  if (got !== names.length) throw new Error(`tentacle_client -g got ${got} of ${names.length}`);
  return ms;
}

async function ourDrain(root: string, tag: string): Promise<{ ms: number; files: number }> {
  const p = new SyncPuller({
    buffers: [{ host: ADDRESS, port: PORT, address: `${ADDRESS}:${PORT}` }],
    incomingDir: join(root, `in-${tag}`),
    pattern: compilePattern(''),
    timeout: 10,
    retries: 3,
  });
  const t0 = performance.now();
  const [s] = await p.requestRound();
  const ms = performance.now() - t0;
  await p.close();
  if (s.error) throw new Error(s.error);
  // Every file delivered byte for byte, whatever command brought it.
  const incoming = join(root, `in-${tag}`);
  const delivered = readdirSync(incoming).filter((n) => sent.has(n));
  if (delivered.length !== s.files) throw new Error(`${delivered.length} files in ${incoming}`);
  for (const name of delivered) {
    const got = createHash('sha1')
      .update(readFileSync(join(incoming, name)))
      .digest('hex');
    if (got !== sent.get(name)) throw new Error(`${name} was delivered with other content`);
  }
  return { ms, files: s.files };
}

const rate = (files: number, ms: number) => `${((files / ms) * 1000).toFixed(1)} files/s`;

async function main(): Promise<void> {
  if (!SERVER) {
    console.log(
      'tentacle-stock: skipped: set PANDORA_TENTACLE_SERVER to the path of a Perl tentacle_server ' +
        '(and PANDORA_TENTACLE_CLIENT to its tentacle_client) to compare with the stock programs',
    );
    return;
  }
  console.log(
    `tentacle-stock: ${FILES} ${CONTENT === 'xml' ? 'agent XML' : 'random'} files of ${SIZE} B on a stock tentacle_server at ${ADDRESS}:${PORT}; ` +
      'our drain with the defaults (safe, 8 connections) beside the stock tentacle_client -g',
  );
  const root = mkdtempSync(join(tmpdir(), 'bench-stock-'));
  const uid = serverUid();
  if (uid !== null) chownSync(root, uid, 0);
  const settings = ROUTE ? [false, true] : [null];
  try {
    for (const q of settings) {
      if (q !== null) quickack(q);
      const label = q === null ? 'route as it is' : `quickack ${q ? 1 : 0}`;
      const storage = join(root, `storage-${label.replace(/\W+/g, '-')}`);
      mkdirSync(storage);
      const names = fill(storage, uid);
      const server = startServer(storage);
      try {
        await waitPort(10_000);
        let stock: number | null = null;
        if (CLIENT) {
          const cwd = mkdtempSync(join(root, 'client-'));
          stock = stockClient(names, cwd);
          rmSync(cwd, { recursive: true, force: true });
        }
        const ours = await ourDrain(root, label.replace(/\W+/g, '-'));
        const left = readdirSync(storage).length;
        console.log(
          `${label.padEnd(16)} stock tentacle_client -g: ${
            stock === null
              ? 'not run (PANDORA_TENTACLE_CLIENT unset)'
              : `${(stock / 1000).toFixed(2)} s = ${rate(FILES, stock)}`
          }; our drain: ${ours.files} files in ${(ours.ms / 1000).toFixed(2)} s = ${rate(ours.files, ours.ms)}` +
            (stock === null ? '' : ` (${(stock / ours.ms).toFixed(1)}x the stock client)`) +
            `; ${left} left on the buffer`,
        );
      } finally {
        stopServer(server);
      }
    }
  } finally {
    if (ROUTE) quickack(false);
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
