/**
 * A TLS server's PEM files (tentacle_server's `-e` `-k` `-f`): read once at start, each failure
 * naming the file and the property it came from. Unlike ./material (the puller's client material,
 * where an expired certificate is an error), an expired server certificate is only reported: the
 * node warns and the buffer keeps taking files from agents that do not check it.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CodedError, reasonOf } from '../util/errors';

export type PemCode =
  /** A file cannot be read (`what`: the property, `path`, `message`). */
  | 'ERR_TLS_READ'
  /** The certificate file holds no usable certificate (`what`, `path`, `message`). */
  | 'ERR_TLS_NOT_PEM'
  /** A certificate without its key or the reverse (or a CA alone). */
  | 'ERR_TLS_PAIR';

export class PemError extends CodedError<PemCode> {
  constructor(...args: ConstructorParameters<typeof CodedError<PemCode>>) {
    super(...args);
    this.name = 'PemError';
  }
}

/** Property names of the three files, as the node calls them. */
export interface PemLabels {
  cert: string;
  key: string;
  ca: string;
}

export interface ServerPems {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  /** The end of validity of the certificate (the first one of a chain file). */
  notAfter: Date;
}

async function readPem(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new PemError('ERR_TLS_READ', { what, path, message: reasonOf(err) }, { cause: err });
  }
}

/** The end of validity of the first certificate in `pem`. */
export function certificateEnd(pem: Buffer | string, path: string, what: string): Date {
  try {
    return new Date(new X509Certificate(pem).validTo);
  } catch (err) {
    throw new PemError('ERR_TLS_NOT_PEM', { what, path, message: reasonOf(err) }, { cause: err });
  }
}

/**
 * Reads the certificate, key and (optional) CA named by `paths`; null when none is set (no TLS).
 * A CA alone, or a certificate or key alone, is ERR_TLS_PAIR: TLS needs both of the pair.
 */
export async function readServerPems(
  paths: { cert: string; key: string; ca: string },
  labels: PemLabels = { cert: 'tlsCert', key: 'tlsKey', ca: 'tlsCa' },
): Promise<ServerPems | null> {
  if (!paths.cert && !paths.key && !paths.ca) return null;
  if (!paths.cert || !paths.key) {
    throw new PemError('ERR_TLS_PAIR', { cert: labels.cert, key: labels.key });
  }
  const cert = await readPem(paths.cert, labels.cert);
  const key = await readPem(paths.key, labels.key);
  const ca = paths.ca ? await readPem(paths.ca, labels.ca) : undefined;
  return { cert, key, ca, notAfter: certificateEnd(cert, paths.cert, labels.cert) };
}
