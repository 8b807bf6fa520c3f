/**
 * Tentacle buffers in their own process (as they would be on other hosts): one TentacleServer per
 * storage directory given as JSON in argv[2]; their ports go to the parent by IPC.
 */
import { TentacleServer } from '../../lib/tentacle/server';

async function main(): Promise<void> {
  const storages = JSON.parse(process.argv[2] ?? '[]') as string[];
  const servers = storages.map(
    (storage) => new TentacleServer({ address: '127.0.0.1', port: 0, storage }),
  );
  const ports: number[] = [];
  for (const s of servers) ports.push((await s.start()).port);
  process.send?.({ ports });
  const close = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.close('test', 500)));
    process.exit(0);
  };
  process.on('message', (m: unknown) => {
    if (m === 'close') void close();
  });
  process.on('disconnect', () => process.exit(0));
}

void main();
