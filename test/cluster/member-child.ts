/**
 * One cluster member without Node-RED, for the kill tests: a SyncPuller working through a
 * LeaseManager and the shared delivery records on the Command Center database, as
 * tentacle-pull does with `cluster` on. Rounds run back to back until SIGTERM; the test kills
 * it with SIGKILL (placed with PANDORA_SYNC_PAUSE_AT, see lib/sync/pause-point.ts).
 * argv[2]: JSON of MemberArgs. Prints `member ready` once started.
 */
import { DbDeliveries, LeaseManager } from '../../lib/cluster';
import { createPool } from '../../lib/db/pool';
import { SyncPuller } from '../../lib/sync/puller';

export interface MemberArgs {
  /** Command Center hosts, tried in order (`host:port,...`). */
  dbHost: string;
  dbPort: number;
  database: string;
  member: string;
  leaseSeconds: number;
  incomingDir: string;
  ports: number[];
}

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2] ?? '{}') as MemberArgs;
  const db = createPool(
    { host: a.dbHost, port: a.dbPort, database: a.database, user: 'root', password: '' },
    { connectionLimit: 8, connectTimeoutMs: 2000 },
  );
  const leases = new LeaseManager({ db, member: a.member, leaseMs: a.leaseSeconds * 1000 });
  leases.start();
  const puller = new SyncPuller({
    buffers: a.ports.map((port) => ({ host: '127.0.0.1', port, address: `127.0.0.1:${port}` })),
    incomingDir: a.incomingDir,
    pattern: /\.data$/,
    concurrency: 4,
    connections: 2,
    timeout: 2,
    retries: 2,
    baseBackoffMs: 100,
    maxBackoffMs: 500,
    gate: leases.gate(),
    shared: new DbDeliveries(db, leases),
  });
  let running = true;
  process.on('SIGTERM', () => {
    running = false;
  });
  process.stdout.write('member ready\n');
  while (running) {
    const summaries = await puller.requestRound('timer');
    for (const s of summaries) {
      if (s.files > 0 || s.error) {
        process.stdout.write(`round ${s.address} files=${s.files} error=${s.error ?? ''}\n`);
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await puller.close();
  await leases.close('SIGTERM');
  await db.end();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  },
);
