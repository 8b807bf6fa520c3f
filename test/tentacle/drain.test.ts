import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { drain } from '../../lib/tentacle/drain';

describe('drain', () => {
  it('rejects at once for a socket already destroyed (a wait that would never end)', async () => {
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('close', r));
    await assert.rejects(drain(socket), /connection closed/);
    server.close();
  });

  it('resolves on drain and rejects on close while waiting', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    const peer = new Promise<net.Socket>((r) => server.once('connection', r));
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const other = await peer;
    const waiting = drain(socket);
    socket.emit('drain');
    await waiting;
    const closing = drain(socket);
    other.destroy();
    socket.destroy();
    await assert.rejects(closing, /connection closed/);
    server.close();
  });
});
