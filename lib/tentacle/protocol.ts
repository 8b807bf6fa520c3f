/**
 * Constants and small pure helpers of the Tentacle wire protocol, as Pandora FMS's Perl
 * tentacle_server / tentacle_client speak it.
 */
import { createHash } from 'node:crypto';

/** IANA-registered Tentacle port. */
export const DEFAULT_PORT = 41121;
/** Longest control line the peers accept, LF included. */
export const MAX_LINE = 1024;
/** The 15 characters tentacle_server refuses in file names (and hides from LS). */
export const INVALID_CHARS = "?[]/\\=+<>:;',*~";

const INVALID_SET = new Set(INVALID_CHARS.split(''));

/** True when `name` holds none of the banned characters (the empty name is valid, as upstream). */
export function isValidName(name: string): boolean {
  for (const ch of name) if (INVALID_SET.has(ch)) return false;
  return true;
}

/**
 * A name that can become a file of its own in the storage directory: valid, and not the empty
 * name, `.`, `..` or a name with a NUL byte. The reference accepts those in SEND and then fails
 * writing after taking the data; we refuse them up front as invalid names.
 */
export function isStorableName(name: string): boolean {
  return isValidName(name) && name !== '' && name !== '.' && name !== '..' && !name.includes('\0');
}

/** The `PASS` digest: lowercase hex MD5 of the raw MD5 of the UTF-8 password. */
export function passwordDigest(password: string): string {
  const inner = createHash('md5').update(Buffer.from(password, 'utf8')).digest();
  return createHash('md5').update(inner).digest('hex');
}

/** Inactivity limit in ms for `-t` seconds and `-r` retries: each wait of t may miss r times. */
export function inactivityMs(timeout: number, retries: number): number {
  return Math.max(1, timeout) * (Math.max(0, retries) + 1) * 1000;
}

/** Replies exactly as the reference server writes them (without the LF). */
export const Reply = {
  SEND_OK: 'SEND OK',
  ZSEND_OK: 'ZSEND OK',
  PASS_OK: 'PASS OK',
  MV_ERR: 'MV ERR',
  LS_ERR: 'LS ERR',
  ZSEND_ERR: 'ZSEND ERR',
  invalidName: (cmd: 'SEND' | 'ZSEND') => `${cmd} ERR (invalid file name)`,
  tooBig: (cmd: 'SEND' | 'ZSEND') => `${cmd} ERR (file is too big)`,
  exists: (cmd: 'SEND' | 'ZSEND') => `${cmd} ERR (file already exists)`,
  recvInvalid: (cmd: 'RECV' | 'ZRECV') => `${cmd} ERR (file has an invalid file name)`,
  recvMissing: (cmd: 'RECV' | 'ZRECV') => `${cmd} ERR (file does not exist)`,
} as const;

/** Parsed client command line; `null` for anything the reference would call unknown. */
export type Command =
  | { cmd: 'SEND' | 'ZSEND'; name: string; size: number }
  | { cmd: 'RECV' | 'ZRECV' | 'MV' | 'LS'; name: string }
  | { cmd: 'QUIT' }
  | { cmd: 'PASS'; digest: string };

// The `s` flag lets `.` match a CR inside a name, like Perl's `.`; the line itself has no LF.
const PATTERNS: [RegExp, (m: RegExpExecArray) => Command][] = [
  [/^SEND <(.*)> SIZE (\d+)$/s, (m) => ({ cmd: 'SEND', name: m[1], size: Number(m[2]) })],
  [/^ZSEND <(.*)> SIZE (\d+)$/s, (m) => ({ cmd: 'ZSEND', name: m[1], size: Number(m[2]) })],
  [/^RECV <(.*)>$/s, (m) => ({ cmd: 'RECV', name: m[1] })],
  [/^ZRECV <(.*)>$/s, (m) => ({ cmd: 'ZRECV', name: m[1] })],
  [/^LS <(.*)>$/s, (m) => ({ cmd: 'LS', name: m[1] })],
  [/^MV <(.*)>$/s, (m) => ({ cmd: 'MV', name: m[1] })],
  [/^QUIT$/, () => ({ cmd: 'QUIT' })],
  [/^PASS (.*)$/s, (m) => ({ cmd: 'PASS', digest: m[1] })],
];

/** Parses one control line (LF already removed, CR kept). */
export function parseCommand(line: string): Command | null {
  for (const [re, make] of PATTERNS) {
    const m = re.exec(line);
    if (m) return make(m);
  }
  return null;
}
