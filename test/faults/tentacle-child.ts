/**
 * A TentacleServer alone in a child process, so that a crash (an uncaught exception a hostile
 * peer provokes) shows as a dead process instead of tearing down the test runner. Options come
 * as JSON in argv[2]; the port, RSS samples and any uncaught exception go to the parent by IPC.
 */
import { TentacleServer, type TentacleServerOptions } from '../../lib/tentacle/server';

export type ChildReport =
  | { type: 'listening'; port: number }
  | { type: 'rss'; rss: number }
  | { type: 'crash'; error: string };

const send = (m: ChildReport) => process.send?.(m);

process.on('uncaughtException', (err) => {
  send({ type: 'crash', error: err.stack ?? String(err) });
  // Die as an unhandled error would, after the report has left.
  setTimeout(() => process.exit(70), 100);
});

async function main(): Promise<void> {
  const opts = JSON.parse(process.argv[2] ?? '{}') as TentacleServerOptions;
  const server = new TentacleServer({ ...opts, address: '127.0.0.1', port: 0 });
  const { port } = await server.start();
  send({ type: 'listening', port });
  process.on('message', (m: unknown) => {
    if (m === 'rss') send({ type: 'rss', rss: process.memoryUsage().rss });
    if (m === 'close') void server.close('test', 1000).then(() => process.exit(0));
  });
  // Die with the parent.
  process.on('disconnect', () => process.exit(0));
}

void main();
