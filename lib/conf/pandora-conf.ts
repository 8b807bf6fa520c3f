/**
 * pandora_server.conf as the Pandora server reads it (PandoraFMS/Config.pm): `token value` lines,
 * `#` comments, blank lines, repeated tokens (the last one wins), unknown tokens ignored.
 */
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { toInteger, toText } from '../util/values';

/** The pandora_server.conf tokens that pandora-config uses, keyed by token. */
export const CONF_TOKENS = {
  dbhost: 'dbHost',
  dbport: 'dbPort',
  dbname: 'dbName',
  dbuser: 'dbUser',
  dbpass: 'dbPass',
  servername: 'servername',
  incomingdir: 'incomingDir',
  syncserver: 'syncserver',
  sync_address: 'syncAddress',
  sync_port: 'syncPort',
  sync_ca: 'syncCa',
  sync_cert: 'syncCert',
  sync_key: 'syncKey',
  sync_retries: 'syncRetries',
  sync_timeout: 'syncTimeout',
} as const;

export type ConfToken = keyof typeof CONF_TOKENS;
export type ConfProperty = (typeof CONF_TOKENS)[ConfToken];

/** What a pandora_server.conf says, under pandora-config property names. */
export type ConfValues = Partial<Record<ConfProperty, string>>;

export interface ParsedConf {
  /** Every token of the file (last value wins), as written: for the editor's "show" button. */
  tokens: Record<string, string>;
  /** The tokens pandora-config understands, under its property names. */
  values: ConfValues;
}

/** Parses the text of a pandora_server.conf. */
export function parsePandoraConf(text: string): ParsedConf {
  const tokens: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^[ \t]+/, '');
    if (line === '' || line.startsWith('#')) continue;
    // Config.pm matches /^(\S+)\s+(.*)$/ per token, then trims the value's end.
    const m = /^(\S+)(?:[ \t]+(.*))?$/.exec(line);
    if (!m) continue;
    tokens[m[1]] = (m[2] ?? '').replace(/[ \t\r]+$/, '');
  }
  const values: ConfValues = {};
  for (const [token, prop] of Object.entries(CONF_TOKENS)) {
    if (Object.prototype.hasOwnProperty.call(tokens, token)) values[prop] = tokens[token];
  }
  return { tokens, values };
}

/** A pandora_server.conf is a few kilobytes; anything past this is not one. */
export const MAX_CONF_BYTES = 1024 * 1024;

export type ConfFileProblem = 'not-found' | 'unreadable' | 'not-regular' | 'too-large';

/** Why a conf file could not be read; the message names the path, never the content. */
export class ConfFileError extends Error {
  constructor(
    readonly code: ConfFileProblem,
    readonly path: string,
    why: string,
  ) {
    super(`cannot read pandora_server.conf "${path}": ${why}`);
  }
}

const PROBLEM_TEXT: Record<ConfFileProblem, string> = {
  'not-found': 'file not found',
  unreadable: 'the Node-RED process may not read it',
  'not-regular': 'not a regular file',
  'too-large': `larger than ${MAX_CONF_BYTES / 1024 / 1024} MiB`,
};

function confFileError(path: string, code: ConfFileProblem, detail?: string): ConfFileError {
  return new ConfFileError(code, path, detail ?? PROBLEM_TEXT[code]);
}

function openError(path: string, err: unknown): ConfFileError {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return confFileError(path, 'not-found');
  if (e.code === 'EACCES' || e.code === 'EPERM') return confFileError(path, 'unreadable');
  return confFileError(path, 'unreadable', e.code ?? e.message);
}

// Non-blocking, so that opening a FIFO returns at once and fstat refuses it instead of the
// constructor hanging Node-RED's start; no controlling terminal from a tty path.
const OPEN_FLAGS = fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOCTTY;

/** Refuses what is not a regular file of at most MAX_CONF_BYTES; else room to read it and see growth. */
function bufferFor(path: string, st: { isFile(): boolean; size: number }): Buffer {
  if (!st.isFile()) throw confFileError(path, 'not-regular');
  if (st.size > MAX_CONF_BYTES) throw confFileError(path, 'too-large');
  return Buffer.alloc(MAX_CONF_BYTES + 1);
}

/**
 * The bytes of a conf file, read only when it is a regular file of at most MAX_CONF_BYTES (a
 * device, FIFO or directory is refused before any read). The size is checked on what is read as
 * well as on fstat: /proc files report 0 bytes, and a file may grow while it is read.
 */
export function readConfBytesSync(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (err) {
    throw openError(path, err);
  }
  try {
    const buf = bufferFor(path, fstatSync(fd));
    let got = 0;
    for (;;) {
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
      if (got > MAX_CONF_BYTES) throw confFileError(path, 'too-large');
    }
    return buf.subarray(0, got);
  } catch (err) {
    if (err instanceof ConfFileError) throw err;
    throw openError(path, err);
  } finally {
    closeSync(fd);
  }
}

/** The same, without blocking the event loop (the editor's preview). */
export async function readConfBytes(path: string): Promise<Buffer> {
  let handle: FileHandle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (err) {
    throw openError(path, err);
  }
  try {
    const buf = bufferFor(path, await handle.stat());
    let got = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, got, buf.length - got, null);
      if (bytesRead === 0) break;
      got += bytesRead;
      if (got > MAX_CONF_BYTES) throw confFileError(path, 'too-large');
    }
    return buf.subarray(0, got);
  } catch (err) {
    if (err instanceof ConfFileError) throw err;
    throw openError(path, err);
  } finally {
    await handle.close();
  }
}

/** Reads and parses a pandora_server.conf; a missing or unreadable file is an error naming it. */
export async function readPandoraConf(path: string): Promise<ParsedConf> {
  return parsePandoraConf((await readConfBytes(path)).toString('utf8'));
}

/** The same, synchronously (a config node resolves its settings in its constructor). */
export function readPandoraConfSync(path: string): ParsedConf {
  return parsePandoraConf(readConfBytesSync(path).toString('utf8'));
}

/** The nodes' defaults (as their help documents them), when neither the node nor the conf file says anything. */
export const PANDORA_DEFAULTS = {
  dbHost: '127.0.0.1',
  dbPort: 3306,
  dbName: 'pandora',
  dbUser: 'pandora',
  dbPass: '',
  incomingDir: '/var/spool/pandora/data_in',
  syncAddress: '',
  syncPort: 41121,
  syncRetries: 3,
  syncTimeout: 10,
  syncCa: '',
  syncCert: '',
  syncKey: '',
} as const;

/** The properties of a pandora-config node, as the flow carries them (strings or numbers). */
export interface PandoraConfigProps {
  dbHost?: unknown;
  dbPort?: unknown;
  dbName?: unknown;
  dbUser?: unknown;
  dbPass?: unknown;
  incomingDir?: unknown;
  syncAddress?: unknown;
  syncPort?: unknown;
  syncRetries?: unknown;
  syncTimeout?: unknown;
  syncCa?: unknown;
  syncCert?: unknown;
  syncKey?: unknown;
}

/** The effective settings: explicit property, then conf file, then default. */
export interface PandoraSettings {
  dbHost: string;
  dbPort: number;
  dbName: string;
  dbUser: string;
  dbPass: string;
  incomingDir: string;
  syncAddress: string;
  syncPort: number;
  syncRetries: number;
  syncTimeout: number;
  syncCa: string;
  syncCert: string;
  syncKey: string;
  /** `servername` and `syncserver` of the conf file, for information. */
  servername?: string;
  syncserver?: string;
  /** Where each setting came from. */
  origin: Record<keyof typeof PANDORA_DEFAULTS, 'node' | 'conf' | 'default'>;
}

/** Merges node properties over conf values over defaults; numbers are checked. */
export function resolvePandoraSettings(
  props: PandoraConfigProps,
  conf: ConfValues = {},
): PandoraSettings {
  const origin = {} as PandoraSettings['origin'];
  const pick = (key: keyof typeof PANDORA_DEFAULTS): unknown => {
    const own = props[key];
    if (own !== undefined && own !== null && String(own).trim() !== '') {
      origin[key] = 'node';
      return own;
    }
    const fromConf = (conf as Record<string, string | undefined>)[key];
    if (fromConf !== undefined && fromConf.trim() !== '') {
      origin[key] = 'conf';
      return fromConf;
    }
    origin[key] = 'default';
    return PANDORA_DEFAULTS[key];
  };
  const text = (key: keyof typeof PANDORA_DEFAULTS) => toText(pick(key));
  const settings: PandoraSettings = {
    dbHost: text('dbHost'),
    dbPort: toInteger(pick('dbPort'), 3306, 'dbPort', 1, 65535),
    dbName: text('dbName'),
    dbUser: text('dbUser'),
    // A password may legitimately start or end with spaces: keep it as given.
    dbPass: String(pick('dbPass') ?? ''),
    incomingDir: text('incomingDir'),
    syncAddress: text('syncAddress'),
    syncPort: toInteger(pick('syncPort'), 41121, 'syncPort', 1, 65535),
    syncRetries: toInteger(pick('syncRetries'), 3, 'syncRetries', 0, 1000),
    syncTimeout: toInteger(pick('syncTimeout'), 10, 'syncTimeout', 1, 86400),
    syncCa: text('syncCa'),
    syncCert: text('syncCert'),
    syncKey: text('syncKey'),
    origin,
  };
  if (conf.servername !== undefined) settings.servername = conf.servername;
  if (conf.syncserver !== undefined) settings.syncserver = conf.syncserver;
  return settings;
}

/** One remote Tentacle buffer of `sync_address`. */
export interface BufferEndpoint {
  host: string;
  port: number;
  /** `host:port` (`[v6]:port`), the name a buffer goes by in messages and status. */
  address: string;
}

/** Parses `sync_address`: a comma list of `host`, `host:port`, `[v6]` or `[v6]:port`. */
export function parseSyncAddress(list: string, defaultPort = 41121): BufferEndpoint[] {
  const out: BufferEndpoint[] = [];
  const seen = new Set<string>();
  for (const piece of list.split(',')) {
    const item = piece.trim();
    if (item === '') continue;
    let host: string;
    let portText: string | undefined;
    const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(item);
    if (v6) {
      host = v6[1];
      portText = v6[2];
    } else if ((item.match(/:/g) ?? []).length > 1) {
      // A bare IPv6 address without brackets cannot carry a port.
      host = item;
    } else {
      const at = item.lastIndexOf(':');
      host = at >= 0 ? item.slice(0, at) : item;
      portText = at >= 0 ? item.slice(at + 1) : undefined;
    }
    if (host === '') throw new Error(`sync_address: empty host in "${item}"`);
    const port =
      portText === undefined
        ? defaultPort
        : toInteger(portText, defaultPort, `sync_address port of "${item}"`, 1, 65535);
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    if (seen.has(address)) continue;
    seen.add(address);
    out.push({ host, port, address });
  }
  return out;
}
