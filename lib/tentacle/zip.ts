/**
 * The PKZIP framing of ZSEND/ZRECV, written by hand on node:zlib. The writer makes a
 * single-member archive the way the reference server's ZRECV does (deflate, general-purpose
 * flag bit 3, sizes in a data descriptor); the reader inflates the first member of an archive
 * and, like the reference's transparent unzip, passes anything that is not a zip through.
 *
 * The reader distrusts its input: every member's CRC and size is checked (from the local header,
 * or from the data descriptor that follows the data when flag bit 3 is set), and the inflated
 * bytes are counted as they come out, so a caller can stop a zip bomb before it is stored.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { createDeflateRaw, createInflateRaw, type InflateRaw } from 'node:zlib';
import { crc32 } from './crc32';

const LOCAL_SIG = 0x04034b50;
const DESCRIPTOR_SIG = 0x08074b50;
const CENTRAL_SIG = 0x02014b50;
const END_SIG = 0x06054b50;
const FLAG_DESCRIPTOR = 0x0008;
const FLAG_UTF8 = 0x0800;
const METHOD_DEFLATE = 8;
const METHOD_STORED = 0;
const LIMIT32 = 0xffffffff;

function dosTime(d: Date): { time: number; date: number } {
  const year = Math.max(1980, d.getFullYear());
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

/** A Transform turning raw bytes into a one-member zip archive named `memberName`. */
export function createZipWriter(memberName: string, mtime = new Date()): Transform {
  const name = Buffer.from(memberName.replace(/^\/+/, ''), 'utf8');
  const flags = FLAG_DESCRIPTOR | (/[^\x20-\x7e]/.test(memberName) ? FLAG_UTF8 : 0);
  const { time, date } = dosTime(mtime);
  let crc = 0;
  let rawSize = 0;
  let zipSize = 0;
  let offset = 0;
  const deflate = createDeflateRaw();

  const local = Buffer.alloc(30);
  local.writeUInt32LE(LOCAL_SIG, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(flags, 6);
  local.writeUInt16LE(METHOD_DEFLATE, 8);
  local.writeUInt16LE(time, 10);
  local.writeUInt16LE(date, 12);
  // crc and sizes stay 0: they follow in the data descriptor (bit 3).
  local.writeUInt16LE(name.length, 26);
  local.writeUInt16LE(0, 28);

  const out = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      crc = crc32(chunk, crc);
      rawSize += chunk.length;
      if (deflate.write(chunk)) cb();
      else deflate.once('drain', () => cb());
    },
    flush(cb: TransformCallback) {
      deflate.once('end', () => {
        if (rawSize > LIMIT32 || zipSize > LIMIT32) {
          cb(new RangeError('zip member larger than 4 GiB (zip64 is not supported)'));
          return;
        }
        const desc = Buffer.alloc(16);
        desc.writeUInt32LE(DESCRIPTOR_SIG, 0);
        desc.writeUInt32LE(crc >>> 0, 4);
        desc.writeUInt32LE(zipSize, 8);
        desc.writeUInt32LE(rawSize, 12);
        const central = Buffer.alloc(46);
        central.writeUInt32LE(CENTRAL_SIG, 0);
        central.writeUInt16LE(0x0314, 4); // made by: unix, 2.0
        central.writeUInt16LE(20, 6);
        central.writeUInt16LE(flags, 8);
        central.writeUInt16LE(METHOD_DEFLATE, 10);
        central.writeUInt16LE(time, 12);
        central.writeUInt16LE(date, 14);
        central.writeUInt32LE(crc >>> 0, 16);
        central.writeUInt32LE(zipSize, 20);
        central.writeUInt32LE(rawSize, 24);
        central.writeUInt16LE(name.length, 28);
        central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
        central.writeUInt32LE(0, 42);
        const centralStart = offset + desc.length;
        const end = Buffer.alloc(22);
        end.writeUInt32LE(END_SIG, 0);
        end.writeUInt16LE(1, 8);
        end.writeUInt16LE(1, 10);
        end.writeUInt32LE(central.length + name.length, 12);
        end.writeUInt32LE(centralStart, 16);
        out.push(desc);
        out.push(Buffer.concat([central, name, end]));
        cb();
      });
      deflate.end();
    },
  });
  deflate.on('data', (c: Buffer) => {
    zipSize += c.length;
    offset += c.length;
    out.push(c);
  });
  deflate.on('error', (err) => out.destroy(err));
  out.push(Buffer.concat([local, name]));
  offset = local.length + name.length;
  return out;
}

/** Zips a whole buffer in memory (what a client needs to announce the compressed size). */
export async function zipBuffer(memberName: string, data: Buffer): Promise<Buffer> {
  const w = createZipWriter(memberName);
  const parts: Buffer[] = [];
  w.on('data', (c: Buffer) => parts.push(c));
  const done = new Promise<void>((resolve, reject) => {
    w.on('end', resolve);
    w.on('error', reject);
  });
  w.end(data);
  await done;
  return Buffer.concat(parts);
}

/** The archive is malformed, truncated, or a member's CRC or size does not match. */
export class ZipFormatError extends Error {
  constructor(message: string) {
    super(`zip: ${message}`);
    this.name = 'ZipFormatError';
  }
}

export interface UnzipOptions {
  /**
   * Called with the running total of inflated bytes (all members) before each piece is passed
   * on; returning an Error stops the reader with it, so no byte past the bound is emitted.
   */
  check?: (inflated: number) => Error | null;
}

type State =
  'sniff' | 'header' | 'deflate' | 'stored' | 'trailer' | 'next' | 'passthrough' | 'done';

/**
 * A Transform that outputs the inflated first member of a zip archive, or its input unchanged
 * when the input does not start with a local file header. Later members are inflated only to
 * check their CRC, and dropped; the central directory and anything after it are dropped.
 */
export function createUnzipReader(options: UnzipOptions = {}): Transform {
  let state: State = 'sniff';
  let head: Buffer = Buffer.alloc(0);
  let member = 0;
  let flags = 0;
  /** CRC and size from the local header; null when a data descriptor carries them. */
  let expect: { crc: number; size: number } | null = null;
  let crc = 0;
  let memberSize = 0;
  let inflated = 0;
  let storedLeft = 0;
  let inflate: InflateRaw | null = null;
  let inflateDone = false;
  /** Input handed to inflate that it may not have consumed yet (the member may end inside). */
  let fed: Buffer[] = [];
  let fedBase = 0;
  let fedTotal = 0;

  const out = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      feed(chunk).then(() => cb(), cb);
    },
    flush(cb: TransformCallback) {
      finish().then(() => cb(), cb);
    },
  });
  // Inflation waits for the reader's consumer: a bomb is never inflated faster than it is taken.
  const baseRead = out._read.bind(out);
  out._read = (size: number) => {
    inflate?.resume();
    baseRead(size);
  };
  out.on('close', () => inflate?.destroy());

  /** Counts and passes on one piece of a member's content; throws past the caller's bound. */
  function emit(piece: Buffer): boolean {
    crc = crc32(piece, crc);
    memberSize += piece.length;
    inflated += piece.length;
    const err = options.check?.(inflated);
    if (err) throw err;
    if (member > 0) return true;
    return out.push(piece);
  }

  async function feed(chunk: Buffer): Promise<void> {
    switch (state) {
      case 'passthrough': {
        inflated += chunk.length;
        const err = options.check?.(inflated);
        if (err) throw err;
        out.push(chunk);
        return;
      }
      case 'done':
        return;
      case 'deflate':
        return feedInflate(chunk);
      case 'stored': {
        const take = Math.min(storedLeft, chunk.length);
        if (take > 0) emit(chunk.subarray(0, take));
        storedLeft -= take;
        if (storedLeft > 0) return;
        state = 'trailer';
        return parse(chunk.subarray(take));
      }
      default:
        return parse(chunk);
    }
  }

  /** Runs the header/trailer states over buffered bytes until more input is needed. */
  async function parse(chunk: Buffer): Promise<void> {
    head = head.length ? Buffer.concat([head, chunk]) : chunk;
    for (;;) {
      if (state === 'sniff' || state === 'next') {
        if (head.length < 4) return;
        if (head.readUInt32LE(0) !== LOCAL_SIG) {
          if (state === 'sniff') {
            state = 'passthrough';
            const all = head;
            head = Buffer.alloc(0);
            return feed(all);
          }
          // Central directory (or anything else) after the members: nothing more to check.
          state = 'done';
          head = Buffer.alloc(0);
          return;
        }
        state = 'header';
      }
      if (state === 'header') {
        if (head.length < 30) return;
        const total = 30 + head.readUInt16LE(26) + head.readUInt16LE(28);
        if (head.length < total) return;
        flags = head.readUInt16LE(6);
        const method = head.readUInt16LE(8);
        const descriptor = (flags & FLAG_DESCRIPTOR) !== 0;
        expect = descriptor ? null : { crc: head.readUInt32LE(14), size: head.readUInt32LE(22) };
        const compressed = head.readUInt32LE(18);
        crc = 0;
        memberSize = 0;
        head = head.subarray(total);
        if (method === METHOD_DEFLATE) {
          state = 'deflate';
          startInflate();
          const rest = head;
          head = Buffer.alloc(0);
          if (rest.length > 0) await feedInflate(rest);
          return;
        }
        if (method === METHOD_STORED && !descriptor) {
          if (compressed !== (expect as { size: number }).size) {
            throw new ZipFormatError('stored member whose sizes differ');
          }
          state = 'stored';
          storedLeft = compressed;
          const rest = head;
          head = Buffer.alloc(0);
          if (rest.length > 0 || storedLeft === 0) await feed(rest);
          return;
        }
        throw new ZipFormatError(`unsupported member (method ${method}, flags ${flags})`);
      }
      if (state === 'trailer') {
        let want = expect;
        if (!want) {
          // Data descriptor: optional signature, CRC, compressed and uncompressed sizes.
          const signed = head.length >= 4 && head.readUInt32LE(0) === DESCRIPTOR_SIG;
          const len = signed ? 16 : 12;
          if (head.length < len) return;
          const at = signed ? 4 : 0;
          want = { crc: head.readUInt32LE(at), size: head.readUInt32LE(at + 8) };
          head = head.subarray(len);
        }
        if (crc >>> 0 !== want.crc)
          throw new ZipFormatError(`CRC mismatch in member ${member + 1}`);
        if (memberSize % 2 ** 32 !== want.size) {
          throw new ZipFormatError(`size mismatch in member ${member + 1}`);
        }
        member++;
        state = 'next';
        continue;
      }
      return;
    }
  }

  async function feedInflate(chunk: Buffer): Promise<void> {
    const z = inflate as InflateRaw;
    fed.push(chunk);
    fedTotal += chunk.length;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      z.once('error', onError);
      z.write(chunk, () => {
        z.off('error', onError);
        resolve();
      });
    });
    if (!inflateDone && z.bytesWritten < fedTotal) {
      // The member ended inside this input; its end event is on its way.
      await new Promise<void>((resolve, reject) => {
        z.once('end', () => resolve());
        z.once('error', reject);
      });
    }
    if (!inflateDone) {
      fed = [];
      fedBase = fedTotal;
      return;
    }
    const tail = Buffer.concat(fed).subarray(z.bytesWritten - fedBase);
    fed = [];
    state = 'trailer';
    return parse(tail);
  }

  function startInflate(): void {
    const z = createInflateRaw();
    inflate = z;
    inflateDone = false;
    fed = [];
    fedBase = 0;
    fedTotal = 0;
    z.on('data', (c: Buffer) => {
      try {
        if (!emit(c)) z.pause();
      } catch (err) {
        out.destroy(err as Error);
      }
    });
    z.once('end', () => {
      inflateDone = true;
    });
    z.on('error', (err) => out.destroy(err));
  }

  async function finish(): Promise<void> {
    if (state === 'deflate') {
      const z = inflate as InflateRaw;
      if (!inflateDone) {
        await new Promise<void>((resolve, reject) => {
          z.once('end', () => resolve());
          z.once('error', reject);
          z.end();
        });
      }
      if (!inflateDone) throw new ZipFormatError('truncated member');
      state = 'trailer';
      await parse(Buffer.concat(fed).subarray(z.bytesWritten - fedBase));
    }
    // `parse` may have moved on (even into a next member); read the state afresh.
    switch (state as State) {
      case 'sniff': {
        // Fewer than 4 bytes: not a zip.
        state = 'passthrough';
        const all = head;
        head = Buffer.alloc(0);
        if (all.length) await feed(all);
        return;
      }
      case 'passthrough':
      case 'next':
      case 'done':
        return;
      case 'header':
        throw new ZipFormatError('truncated local header');
      case 'stored':
        throw new ZipFormatError('truncated stored member');
      case 'trailer':
        throw new ZipFormatError('truncated data descriptor');
      case 'deflate':
        throw new ZipFormatError('truncated member');
    }
  }

  return out;
}
