/**
 * A compromised Tentacle buffer, for the tests of the centre's side: it answers LS, RECV, MV and
 * ZRECV the way a script says (sizes it does not keep, endless bytes, crafted names, junk lines),
 * and counts what it sent.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { BufferEndpoint } from '../../lib/conf/pandora-conf';

export type Download = 'RECV' | 'MV' | 'ZRECV';

/** How the buffer answers one RECV/MV/ZRECV. */
export type Offer =
  | { kind: 'err' }
  | { kind: 'close' }
  | { kind: 'junk'; line: string }
  | {
      kind: 'size';
      /** The size announced in `<CMD> SIZE n`. */
      announce: number;
      /** What follows `<CMD> OK`: these bytes, or this many zero bytes (streamed). */
      body: Buffer | number;
      /** Send the body at once, without waiting for `<CMD> OK`. */
      eager?: boolean;
      /** Close right after the body. */
      closeAfter?: boolean;
      /**
       * The stock server's stall: after this many bytes of the body, wait `pauseMs` (its 1 KiB
       * write with Nagle on, waiting for the receiver's delayed ACK).
       */
      pauseAfter?: number;
      pauseMs?: number;
      /**
       * The stock server reads a line with one read of up to 1 KiB: bytes that follow `<CMD> OK`
       * within this many ms (the time it takes to get to that read) make it a wrong answer, and
       * the connection ends with the file kept.
       */
      okReadAfterMs?: number;
      /** Called once the body is sent after a proper `<CMD> OK` (the stock MV deletes then). */
      onSent?: () => void;
    };

export interface BufferScript {
  /** The LS listing (names; LF added). */
  listing: () => string[];
  offer: (cmd: Download, name: string) => Offer;
}

/** Longest body streamed for one offer, so a puller that does not stop still ends the test. */
const STREAM_CAP = 256 * 1024 * 1024;

export class HostileBuffer {
  /** Bytes written to sockets, bodies included. */
  sent = 0;
  /** Commands answered. */
  commands = 0;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly endpoint: BufferEndpoint,
  ) {}

  static async start(script: BufferScript): Promise<HostileBuffer> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const hb = new HostileBuffer(server, {
      host: '127.0.0.1',
      port,
      address: `127.0.0.1:${port}`,
    });
    server.on('connection', (s) => hb.serve(s, script));
    return hb;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: net.Socket, script: BufferScript): void {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => this.sockets.delete(socket));
    let buf = Buffer.alloc(0);
    let wake: (() => void) | null = null;
    socket.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      wake?.();
    });
    socket.once('close', () => wake?.());
    const line = async (): Promise<string | null> => {
      for (;;) {
        const i = buf.indexOf(0x0a);
        if (i >= 0) {
          const l = buf.subarray(0, i).toString('utf8');
          buf = buf.subarray(i + 1);
          return l;
        }
        if (socket.destroyed) return null;
        await new Promise<void>((r) => (wake = r));
        wake = null;
      }
    };
    const write = async (data: Buffer | string): Promise<void> => {
      if (socket.destroyed) return;
      this.sent += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      if (!socket.write(data)) {
        await new Promise<void>((r) => {
          socket.once('drain', r);
          socket.once('close', r);
        });
      }
    };
    const body = async (b: Buffer | number): Promise<void> => {
      if (Buffer.isBuffer(b)) return write(b);
      const chunk = Buffer.alloc(64 * 1024);
      for (let left = Math.min(b, STREAM_CAP); left > 0 && !socket.destroyed;) {
        const n = Math.min(left, chunk.length);
        await write(n === chunk.length ? chunk : chunk.subarray(0, n));
        left -= n;
      }
    };
    void (async () => {
      for (;;) {
        const l = await line();
        if (l === null) return;
        this.commands++;
        const ls = /^LS <(.*)>$/s.exec(l);
        const dl = /^(RECV|MV|ZRECV) <(.*)>$/s.exec(l);
        if (ls) {
          const listing = Buffer.from(
            script
              .listing()
              .map((n) => `${n}\n`)
              .join(''),
          );
          await write(`LS SIZE ${listing.length}\n`);
          if ((await line()) === 'LS OK') await write(listing);
        } else if (dl) {
          const cmd = dl[1] as Download;
          const o = script.offer(cmd, dl[2]);
          if (o.kind === 'err')
            await write(cmd === 'MV' ? 'MV ERR\n' : `${cmd} ERR (file does not exist)\n`);
          else if (o.kind === 'junk') await write(`${o.line}\n`);
          else if (o.kind === 'close') socket.destroy();
          else {
            await write(`${cmd} SIZE ${o.announce}\n`);
            const send = async (): Promise<void> => {
              const b = o.body;
              if (o.pauseAfter === undefined || !Buffer.isBuffer(b) || b.length <= o.pauseAfter) {
                return body(b);
              }
              await write(b.subarray(0, o.pauseAfter));
              await new Promise((r) => setTimeout(r, o.pauseMs ?? 40));
              await write(b.subarray(o.pauseAfter));
            };
            if (o.eager) await send();
            else if ((await line()) === `${cmd} OK`) {
              if (o.okReadAfterMs !== undefined) {
                await new Promise((r) => setTimeout(r, o.okReadAfterMs));
                if (buf.length > 0) {
                  socket.destroy();
                  return;
                }
              }
              await send();
              o.onSent?.();
            }
            if (o.closeAfter) socket.destroy();
          }
        } else {
          socket.destroy();
          return;
        }
      }
    })();
  }
}
