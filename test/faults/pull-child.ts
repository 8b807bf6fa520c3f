/**
 * A Sync puller process for the crash tests: pulls rounds from one buffer (argv[2], JSON) until
 * a round lists nothing, then exits 0. The test kills it with SIGKILL at random moments.
 */
import { SyncPuller } from '../../lib/sync/puller';

interface ChildArgs {
  port: number;
  incomingDir: string;
  safe: boolean;
}

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
  const p = new SyncPuller({
    buffers: [{ host: '127.0.0.1', port: a.port, address: `127.0.0.1:${a.port}` }],
    incomingDir: a.incomingDir,
    pattern: /\.data$/,
    safe: a.safe,
    connections: 4,
    timeout: 2,
    retries: 2,
    baseBackoffMs: 1,
    maxBackoffMs: 1,
  });
  for (let round = 0; round < 100; round++) {
    const [s] = await p.requestRound();
    if (!s.error && !s.listed) break;
  }
  await p.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  },
);
