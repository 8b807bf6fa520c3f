/**
 * The PKZIP framing of ZSEND/ZRECV, written by hand on node:zlib. The writer makes a
 * single-member archive the way the reference server's ZRECV does (deflate, general-purpose
 * flag bit 3, sizes in a data descriptor); the reader inflates the first member of an archive
 * and, like the reference's transparent unzip, passes anything that is not a zip through.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { createDeflateRaw, createInflateRaw, crc32, type InflateRaw } from 'node:zlib';

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

/**
 * A Transform that outputs the inflated first member of a zip archive, or its input unchanged
 * when the input does not start with a local file header. Bytes after the first member
 * (descriptor, other members, central directory) are read and dropped.
 */
export function createUnzipReader(): Transform {
  type State = 'sniff' | 'header' | 'body' | 'stored' | 'passthrough' | 'done';
  let state: State = 'sniff';
  let head: Buffer = Buffer.alloc(0);
  let inflate: InflateRaw | null = null;
  let storedLeft = 0;
  let expectCrc: number | null = null;
  let crc = 0;
  let inflateEnded: Promise<void> | null = null;

  const out = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      feed(chunk, cb);
    },
    flush(cb: TransformCallback) {
      if (state === 'sniff' || state === 'passthrough') {
        if (head.length) out.push(head);
        cb();
      } else if (state === 'header') {
        cb(new Error('zip: truncated local header'));
      } else if (state === 'stored') {
        cb(new Error('zip: truncated stored member'));
      } else if (state === 'body' && inflate && inflateEnded) {
        const ended = inflateEnded;
        inflate.end();
        ended.then(
          () => cb(check()),
          (err: Error) => cb(err),
        );
      } else cb(check());
    },
  });

  function check(): Error | null {
    if (expectCrc !== null && crc >>> 0 !== expectCrc) return new Error('zip: CRC mismatch');
    return null;
  }

  function feed(chunk: Buffer, cb: TransformCallback): void {
    switch (state) {
      case 'sniff':
      case 'header': {
        head = head.length ? Buffer.concat([head, chunk]) : chunk;
        if (state === 'sniff') {
          if (head.length < 4) return cb();
          if (head.readUInt32LE(0) !== LOCAL_SIG) {
            state = 'passthrough';
            out.push(head);
            head = Buffer.alloc(0);
            return cb();
          }
          state = 'header';
        }
        if (head.length < 30) return cb();
        const nameLen = head.readUInt16LE(26);
        const extraLen = head.readUInt16LE(28);
        const total = 30 + nameLen + extraLen;
        if (head.length < total) return cb();
        const flags = head.readUInt16LE(6);
        const method = head.readUInt16LE(8);
        if (!(flags & FLAG_DESCRIPTOR)) expectCrc = head.readUInt32LE(14);
        const storedSize = head.readUInt32LE(18);
        const rest = head.subarray(total);
        head = Buffer.alloc(0);
        if (method === METHOD_DEFLATE) {
          state = 'body';
          startInflate();
        } else if (method === METHOD_STORED && !(flags & FLAG_DESCRIPTOR)) {
          state = 'stored';
          storedLeft = storedSize;
          if (storedLeft === 0) state = 'done';
        } else {
          return cb(new Error(`zip: unsupported member (method ${method}, flags ${flags})`));
        }
        if (rest.length === 0) return cb();
        return feed(rest, cb);
      }
      case 'stored': {
        const take = Math.min(storedLeft, chunk.length);
        if (take > 0) {
          const part = chunk.subarray(0, take);
          crc = crc32(part, crc);
          out.push(part);
          storedLeft -= take;
        }
        if (storedLeft === 0) state = 'done';
        return cb();
      }
      case 'body': {
        const z = inflate as InflateRaw;
        if (z.write(chunk)) return cb();
        // The member may end inside this chunk, after which no drain comes.
        const go = () => {
          z.off('drain', go);
          z.off('end', go);
          cb();
        };
        z.on('drain', go);
        z.on('end', go);
        return;
      }
      case 'passthrough':
        out.push(chunk);
        return cb();
      case 'done':
        return cb();
    }
  }

  function startInflate(): void {
    const z = createInflateRaw();
    inflate = z;
    z.on('data', (c: Buffer) => {
      crc = crc32(c, crc);
      out.push(c);
    });
    inflateEnded = new Promise<void>((resolve, reject) => {
      z.on('end', () => {
        // The deflate stream ended by itself: whatever follows is not part of the member.
        if (state === 'body') state = 'done';
        resolve();
      });
      z.on('error', (err) => {
        reject(err);
        out.destroy(err);
      });
    });
    inflateEnded.catch(() => undefined);
  }

  return out;
}
