/**
 * CRC-32 (the zip/gzip polynomial). `zlib.crc32` only exists from Node 20.15; the package
 * supports Node 20.0, so older runtimes get a table-driven version of the same function.
 */
import * as zlib from 'node:zlib';

type Crc32 = (data: Uint8Array, value?: number) => number;

let table: Uint32Array | null = null;

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/** CRC-32 of `data`, continuing from `value` (the CRC of the bytes before it), as zlib.crc32. */
export function tableCrc32(data: Uint8Array, value = 0): number {
  const t = (table ??= makeTable());
  let c = ~value >>> 0;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const native = (zlib as { crc32?: Crc32 }).crc32;

/** zlib.crc32 where the runtime has it, else `tableCrc32`. */
export const crc32: Crc32 =
  typeof native === 'function' ? (data, value = 0) => native(data, value) : tableCrc32;
