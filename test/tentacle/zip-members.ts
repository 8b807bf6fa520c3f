/** Hand-built zip members for the tests of the hardened unzip reader and ZSEND. */
import { deflateRawSync } from 'node:zlib';
import { tableCrc32 } from '../../lib/tentacle/crc32';
import { createUnzipReader, type UnzipOptions } from '../../lib/tentacle/zip';

export interface MemberOptions {
  /** Sizes and CRC in a data descriptor after the data (flag bit 3), as the stock client writes. */
  descriptor?: boolean;
  /** Write the descriptor without its optional signature. */
  unsigned?: boolean;
  /** Store a CRC that does not match the content. */
  badCrc?: boolean;
  /** Store an uncompressed size that does not match the content. */
  badSize?: boolean;
}

/** One local header + deflated data (+ descriptor) for `data`. */
export function member(name: string, data: Buffer, o: MemberOptions = {}): Buffer {
  const body = deflateRawSync(data);
  const crc = (tableCrc32(data) ^ (o.badCrc ? 0x5a5a5a5a : 0)) >>> 0;
  const size = (data.length + (o.badSize ? 1 : 0)) >>> 0;
  const n = Buffer.from(name);
  const h = Buffer.alloc(30);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(20, 4);
  h.writeUInt16LE(o.descriptor ? 8 : 0, 6);
  h.writeUInt16LE(8, 8);
  if (!o.descriptor) {
    h.writeUInt32LE(crc, 14);
    h.writeUInt32LE(body.length, 18);
    h.writeUInt32LE(size, 22);
  }
  h.writeUInt16LE(n.length, 26);
  const parts = [h, n, body];
  if (o.descriptor) {
    const d = Buffer.alloc(16);
    d.writeUInt32LE(0x08074b50, 0);
    d.writeUInt32LE(crc, 4);
    d.writeUInt32LE(body.length, 8);
    d.writeUInt32LE(size, 12);
    parts.push(o.unsigned ? d.subarray(4) : d);
  }
  return Buffer.concat(parts);
}

/** A central-directory-looking tail: the reader stops checking there. */
export const CENTRAL_TAIL = Buffer.from('PK\x01\x02 central directory follows');

/** Unzips `data` fed in pieces of `split` bytes; rejects with the reader's error. */
export async function unzip(data: Buffer, split = 1000, opts: UnzipOptions = {}): Promise<Buffer> {
  const r = createUnzipReader(opts);
  const parts: Buffer[] = [];
  r.on('data', (c: Buffer) => parts.push(c));
  const done = new Promise<void>((resolve, reject) => {
    r.on('end', resolve);
    r.on('error', reject);
  });
  for (let i = 0; i < data.length; i += split) r.write(data.subarray(i, i + split));
  r.end();
  await done;
  return Buffer.concat(parts);
}
