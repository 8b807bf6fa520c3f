/**
 * A puller process for the crash test: pulls rounds from the buffers given in argv (JSON) until
 * a round finds nothing, then exits. The test kills it with SIGKILL mid-round.
 */
import { SyncPuller } from '../../lib/sync/puller';
import { compilePattern } from '../../lib/sync/names';
import type { BufferEndpoint } from '../../lib/conf/pandora-conf';

interface ChildArgs {
  buffers: BufferEndpoint[];
  incomingDir: string;
  safe: boolean;
  connections: number;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as ChildArgs;
  const p = new SyncPuller({ ...args, pattern: compilePattern(''), timeout: 2, retries: 2 });
  for (let round = 0; round < 50; round++) {
    const summaries = await p.requestRound();
    for (const s of summaries) process.stdout.write(JSON.stringify(s) + '\n');
    if (summaries.every((s) => !s.error && !s.listed)) break;
  }
  await p.close();
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(String(err) + '\n');
    process.exit(1);
  },
);
