/**
 * Many buffers in one process, for bench/scale-pull: one TentacleServer per storage directory on
 * its own 127.0.0.1 port, and `holes` blackholed addresses (they accept a connection and never
 * answer), and with `delayMs` each buffer also behind a delaying proxy (`far`). Prints
 * `{"ports":[...],"far":[...],"holes":[...]}` on one line once every port listens; ends on SIGTERM.
 *
 *   node dist/bench/scale-pull-buffers-child.js '{"dirs":["/dev/shm/b0",...],"holes":5}'
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { TentacleServer } from '../lib/tentacle/server';

interface Args {
  dirs: string[];
  holes: number;
  /** With more than 0: each buffer also behind a proxy that delays every chunk this long each way. */
  delayMs?: number;
}

/**
 * A port in front of `port` that delays every chunk by `delayMs` each way (a round trip of
 * 2 x delayMs, as across a WAN); chunks keep their order (equal timeouts fire in order).
 */
async function delayed(port: number, delayMs: number): Promise<number> {
  const proxy = createServer((client) => {
    const up = connect(port, '127.0.0.1');
    const pass = (from: Socket, to: Socket) => {
      from.on('data', (d) => setTimeout(() => to.writable && to.write(d), delayMs));
      from.on('end', () => setTimeout(() => to.end(), delayMs));
      from.on('error', () => to.destroy());
      from.on('close', () => setTimeout(() => to.destroy(), delayMs));
    };
    pass(client, up);
    pass(up, client);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  return (proxy.address() as AddressInfo).port;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as Args;
  const servers: TentacleServer[] = [];
  const ports: number[] = [];
  for (const storage of args.dirs) {
    const s = new TentacleServer({
      address: '127.0.0.1',
      port: 0,
      storage,
      insecure: true,
      maxConnections: 16,
      timeout: 10,
      retries: 3,
    });
    ports.push((await s.start()).port);
    servers.push(s);
  }
  const sockets = new Set<Socket>();
  const holes: Server[] = [];
  for (let i = 0; i < args.holes; i++) {
    const h = createServer((sock) => {
      sockets.add(sock);
      sock.on('error', () => undefined);
      sock.on('close', () => sockets.delete(sock));
    });
    await new Promise<void>((r) => h.listen(0, '127.0.0.1', r));
    holes.push(h);
  }
  const far: number[] = [];
  if (args.delayMs) for (const p of ports) far.push(await delayed(p, args.delayMs));
  process.stdout.write(
    `${JSON.stringify({ ports, far, holes: holes.map((h) => (h.address() as AddressInfo).port) })}\n`,
  );
  process.on('SIGTERM', () => {
    for (const s of sockets) s.destroy();
    for (const h of holes) h.close();
    void Promise.all(servers.map((s) => s.close('bench over', 100))).then(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
