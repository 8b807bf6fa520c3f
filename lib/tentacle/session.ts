/**
 * One connection of a Tentacle buffer: reads command lines and answers them as the reference
 * tentacle_server does (same replies, same closes). RECV/MV send exactly the size announced; an
 * MV'd file is deleted only when the client's next line arrives (a puller that vanished
 * mid-transfer leaves the file for the next round); a file being MV'd is claimed, so two
 * pullers never both get it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import type net from 'node:net';
import type { Readable } from 'node:stream';
import { drain } from './drain';
import { LineReader } from './line-reader';
import { isValidName, parseCommand, Reply } from './protocol';
import { Refusal, type Admission, type HandedOut, type TentacleStore, type Upload } from './store';
import { createUnzipReader, createZipWriter } from './zip';

export interface SessionOptions {
  /** The `PASS` line's digest to expect first; null without a password. */
  digest: string | null;
  /** `-I`: LS and MV allowed. */
  insecure: boolean;
  /** This client may take files (LS, RECV, ZRECV, MV); false for one outside `pullers`. */
  mayTake: boolean;
  /** Told when a command is refused because of `mayTake`. */
  refused?: (command: string) => void;
  idleMs: number;
  /** Names one LS answers at most; 0 = all. */
  lsLimit: number;
  /** True once the server is closing: no new command is started. */
  closing: () => boolean;
}

const READ_CHUNK = 256 * 1024;

/**
 * Compares a PASS line with the expected one in constant time: both are hashed to the same
 * length first, so neither the content nor the length of the digest shows in the timing.
 */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

function writeLine(socket: net.Socket, line: string): void {
  socket.write(`${line}\n`);
}

export class TentacleSession {
  readonly peer: string;
  private readonly reader: LineReader;
  /** A command is running (close() lets it finish within its grace time). */
  busy = false;
  /** An MV whose bytes were written; deleted when the next line arrives. */
  private pendingMv: HandedOut | null = null;

  constructor(
    readonly socket: net.Socket,
    private readonly store: TentacleStore,
    private readonly opts: SessionOptions,
  ) {
    this.peer = `${socket.remoteAddress}:${socket.remotePort}`;
    this.reader = new LineReader(socket);
  }

  /** Serves commands until the peer leaves, a command ends the connection, or the server closes. */
  async run(): Promise<void> {
    const { socket, reader } = this;
    socket.setNoDelay(true);
    socket.setTimeout(this.opts.idleMs, () => socket.destroy());
    socket.resume();
    try {
      if (this.opts.digest) {
        const line = (await reader.readLine()).toString('utf8');
        if (!sameSecret(line, `PASS ${this.opts.digest}`)) return;
        writeLine(socket, Reply.PASS_OK);
      }
      while (!this.opts.closing()) {
        this.busy = false;
        const raw = await reader.readLine();
        this.busy = true;
        if (this.pendingMv) {
          const mv = this.pendingMv;
          this.pendingMv = null;
          await this.store.taken(mv, this.peer);
        }
        const cmd = parseCommand(raw.toString('utf8'));
        if (!cmd || cmd.cmd === 'PASS' || cmd.cmd === 'QUIT') return;
        if (cmd.cmd !== 'SEND' && cmd.cmd !== 'ZSEND' && !this.opts.mayTake) {
          // What the stock server answers an LS or MV without -I: nothing, and it hangs up.
          this.opts.refused?.(cmd.cmd);
          return;
        }
        let keep: boolean;
        switch (cmd.cmd) {
          case 'SEND':
          case 'ZSEND':
            keep = await this.onSend(cmd.cmd, cmd.name, cmd.size);
            break;
          case 'RECV':
          case 'ZRECV':
            keep = await this.onRecv(cmd.cmd, cmd.name);
            break;
          case 'MV':
            keep = await this.onMv(cmd.name);
            break;
          case 'LS':
            keep = await this.onLs(cmd.name);
            break;
        }
        if (!keep) return;
      }
    } catch {
      // Every failure ends the connection silently, as the reference does.
    } finally {
      const mv = this.pendingMv;
      if (mv) this.store.unclaim(mv.path);
      this.pendingMv = null;
      reader.fail(new Error('session ended'));
      reader.detach();
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    }
  }

  private async onSend(cmd: Upload, name: string, size: number): Promise<boolean> {
    const { socket } = this;
    let a: Admission;
    try {
      a = await this.store.admit(cmd, name, size);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      writeLine(socket, err.reply);
      this.store.reject(name, size, this.peer, err.reason);
      return true;
    }
    try {
      writeLine(socket, `${cmd} OK`);
      const payload = this.reader.readPayload(size);
      let zipFailure: Error | null = null;
      try {
        await this.store.write(a, name, this.peer, async (file) => {
          let source: Readable = payload;
          if (cmd === 'ZSEND') {
            source = payload.pipe(createUnzipReader({ check: this.store.inflateGuard(a, size) }));
            let cut = false;
            payload.on('error', (err) => {
              cut = true;
              source.destroy(err);
            });
            source.on('error', (err) => {
              if (!cut) zipFailure = err;
            });
          }
          await file.writeFrom(source);
        });
      } catch (err) {
        const failure = zipFailure as Error | null;
        if (cmd === 'ZSEND' && failure) {
          // Take the rest of the payload to stay in step, then say so like the reference.
          if (!payload.readableEnded) {
            payload.unpipe();
            payload.resume();
            await once(payload, 'end');
          }
          if (failure instanceof Refusal) {
            writeLine(socket, failure.reply);
            this.store.reject(name, size, this.peer, failure.reason);
          } else {
            writeLine(socket, Reply.ZSEND_ERR);
            this.store.reject(name, size, this.peer, `decompression failed: ${failure.message}`);
          }
          return true;
        }
        this.store.reject(name, size, this.peer, `upload failed: ${(err as Error).message}`);
        return false;
      }
      writeLine(socket, `${cmd} OK`);
      return true;
    } finally {
      this.store.release(a);
    }
  }

  /** Streams exactly `size` bytes of `fh` to the socket; anything else cuts the connection. */
  private async sendFile(fh: FileHandle, size: number): Promise<void> {
    if (size === 0) return;
    if (size <= READ_CHUNK) {
      // A small file (agent data) in one read and one write: a stream per file costs more CPU
      // than the transfer itself.
      const buf = Buffer.allocUnsafe(size);
      let got = 0;
      while (got < size) {
        const { bytesRead } = await fh.read(buf, got, size - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      if (got !== size) throw new Error(`file changed while being sent (${got} of ${size})`);
      if (!this.socket.write(buf)) await drain(this.socket);
      return;
    }
    let sent = 0;
    const stream = fh.createReadStream({
      start: 0,
      end: size - 1,
      autoClose: false,
      highWaterMark: READ_CHUNK,
    });
    for await (const chunk of stream) {
      sent += (chunk as Buffer).length;
      if (!this.socket.write(chunk as Buffer)) await drain(this.socket);
    }
    if (sent !== size) throw new Error(`file changed while being sent (${sent} of ${size})`);
  }

  private async onRecv(cmd: 'RECV' | 'ZRECV', name: string): Promise<boolean> {
    const { socket } = this;
    if (!isValidName(name)) {
      writeLine(socket, Reply.recvInvalid(cmd));
      return true;
    }
    const path = this.store.pathFor(name);
    const file = await this.store.openServable(path);
    if (!file) {
      writeLine(socket, Reply.recvMissing(cmd));
      return true;
    }
    let { fh, size } = file;
    let zipTemp: string | null = null;
    try {
      if (cmd === 'ZRECV') {
        zipTemp = this.store.tempBeside(path, name);
        const out = await open(zipTemp, 'wx', 0o600);
        try {
          const zip = fh.createReadStream({ autoClose: false }).pipe(createZipWriter(path));
          for await (const chunk of zip) await out.write(chunk as Buffer);
        } catch {
          // The reference says QUIT when it cannot compress.
          writeLine(socket, 'QUIT');
          return false;
        } finally {
          await out.close();
        }
        await fh.close();
        fh = await open(zipTemp, 'r');
        size = (await fh.stat()).size;
      }
      writeLine(socket, `${cmd} SIZE ${size}`);
      const answer = (await this.reader.readLine(false)).toString('utf8');
      if (answer !== `${cmd} OK`) return true;
      // The reference takes its own zero-length write for a dropped peer and hangs up.
      if (size === 0) return false;
      await this.sendFile(fh, size);
      return true;
    } finally {
      await fh.close().catch(() => undefined);
      if (zipTemp) await unlink(zipTemp).catch(() => undefined);
    }
  }

  private async onMv(name: string): Promise<boolean> {
    if (!this.opts.insecure) return false;
    const path = this.store.pathFor(name);
    const file = isValidName(name) ? await this.store.openServable(path) : null;
    if (!file) {
      writeLine(this.socket, Reply.MV_ERR);
      return true;
    }
    this.store.claim(path);
    const { fh, size, dev, ino } = file;
    let handedOut = false;
    try {
      writeLine(this.socket, `MV SIZE ${size}`);
      const answer = (await this.reader.readLine(false)).toString('utf8');
      if (answer !== 'MV OK') return true;
      await this.sendFile(fh, size);
      this.pendingMv = { path, name, size, dev, ino };
      handedOut = true;
      return true;
    } finally {
      await fh.close().catch(() => undefined);
      if (!handedOut) this.store.unclaim(path);
    }
  }

  private async onLs(arg: string): Promise<boolean> {
    if (!this.opts.insecure) return false;
    const { socket } = this;
    if (!isValidName(arg)) {
      writeLine(socket, Reply.LS_ERR);
      return true;
    }
    let names: string[];
    try {
      names = await this.store.list(arg, this.opts.lsLimit);
    } catch {
      writeLine(socket, Reply.LS_ERR);
      return true;
    }
    // `.` and `..` first, as a readdir gives them and whatever the limit.
    const listing = Buffer.from(
      ['.', '..', ...names.filter((n) => n !== '.' && n !== '..')].map((n) => `${n}\n`).join(''),
      'utf8',
    );
    writeLine(socket, `LS SIZE ${listing.length}`);
    const answer = (await this.reader.readLine(false)).toString('utf8');
    if (answer !== 'LS OK') return true;
    if (listing.length > 0 && !socket.write(listing)) await drain(socket);
    return true;
  }
}
