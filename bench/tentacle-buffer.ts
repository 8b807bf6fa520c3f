/**
 * Many agents at once against one tentacle-buffer node in a Node-RED test runtime, beside the
 * same load against a bare TentacleServer in the same run:
 *   node dist/bench/tentacle-buffer.js [clients=200] [filesEach=50] [fileKiB=4]
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TentacleClient, TentacleServer } from '../lib/tentacle';
import tentacleBuffer from '../nodes/tentacle-buffer/tentacle-buffer';
import helper from '../test/helpers/red-helper';

interface Result {
  filesPerSec: number;
  p99ms: number;
  peakRssMiB: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.once('error', reject);
  });
}

async function load(port: number, clients: number, each: number, body: Buffer): Promise<Result> {
  const times: number[] = [];
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const client = await TentacleClient.connect({
        host: '127.0.0.1',
        port,
        timeout: 30,
        retries: 3,
      });
      for (let i = 0; i < each; i++) {
        const s = process.hrtime.bigint();
        await client.send(`agent${c}_${i}.data`, body);
        times.push(Number(process.hrtime.bigint() - s) / 1e6);
      }
      await client.quit();
    }),
  );
  const secs = (Date.now() - t0) / 1000;
  clearInterval(sampler);
  times.sort((a, b) => a - b);
  return {
    filesPerSec: times.length / secs,
    p99ms: times[Math.min(times.length - 1, Math.floor(times.length * 0.99))],
    peakRssMiB: peak / 1024 / 1024,
  };
}

async function main(): Promise<void> {
  const clients = Number(process.argv[2] ?? 200);
  const each = Number(process.argv[3] ?? 50);
  const body = randomBytes(Number(process.argv[4] ?? 4) * 1024);

  const bareDir = await mkdtemp(join(tmpdir(), 'tentacle-bench-bare-'));
  const bare = new TentacleServer({
    address: '127.0.0.1',
    port: 0,
    storage: bareDir,
    maxConnections: clients,
    timeout: 30,
  });
  const { port: barePort } = await bare.start();
  const engine = await load(barePort, clients, each, body);
  await bare.close('done', 1000);
  await rm(bareDir, { recursive: true, force: true });

  const nodeDir = await mkdtemp(join(tmpdir(), 'tentacle-bench-node-'));
  const port = await freePort();
  await new Promise<void>((r) => helper.startServer(r));
  await helper.load(tentacleBuffer, [
    {
      id: 'buf',
      type: 'tentacle-buffer',
      address: '127.0.0.1',
      port,
      storage: nodeDir,
      maxConnections: clients,
      timeout: 30,
      wires: [['sink']],
    },
    { id: 'sink', type: 'helper' },
  ]);
  await new Promise((r) => setTimeout(r, 300));
  const node = await load(port, clients, each, body);
  await helper.unload();
  await new Promise<void>((r) => helper.stopServer(r));
  await rm(nodeDir, { recursive: true, force: true });

  const row = (label: string, r: Result) =>
    `  ${label.padEnd(22)} ${r.filesPerSec.toFixed(0).padStart(6)} files/s   p99 ${r.p99ms.toFixed(1).padStart(7)} ms/file   peak RSS ${r.peakRssMiB.toFixed(0)} MiB (clients in the same process)`;
  console.log(`${clients} clients × ${each} files of ${body.length} bytes, loopback`);
  console.log(row('bare TentacleServer', engine));
  console.log(row('tentacle-buffer node', node));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
