/**
 * The sync TLS material (`sync_ca`, `sync_cert`, `sync_key`), read once and checked before any
 * connection, so that a wrong path or a stale certificate is one clear message naming the file
 * instead of a handshake failure per buffer per round.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface TlsPaths {
  /** `sync_ca`: verifies the buffers' certificates when set. */
  ca?: string;
  /** `sync_cert` and `sync_key`: the client certificate; together they turn TLS on. */
  cert?: string;
  key?: string;
}

export interface TlsMaterial {
  ca?: string;
  cert?: string;
  key?: string;
  /** The client certificate's end of validity, and whole days left (negative never: expired is an error). */
  notAfter?: Date;
  daysLeft?: number;
  /** The CA's end of validity, when a CA is given. */
  caNotAfter?: Date;
}

/** An error of the TLS material, naming the file at fault. */
export class TlsMaterialError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'TlsMaterialError';
  }
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'file not found' : e.message;
    throw new TlsMaterialError(`cannot read ${what} "${path}": ${why}`, path);
  }
}

function parseCert(pem: string, path: string, what: string): X509Certificate {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new TlsMaterialError(`${what} "${path}" is not a PEM certificate`, path);
  }
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new TlsMaterialError(
      `${what} "${path}" is not a valid PEM certificate: ${(err as Error).message}`,
      path,
    );
  }
}

function checkValidity(x509: X509Certificate, path: string, what: string, now: Date): Date {
  const from = new Date(x509.validFrom);
  const to = new Date(x509.validTo);
  if (now < from) {
    throw new TlsMaterialError(
      `${what} "${path}" is not valid yet (valid from ${from.toISOString()})`,
      path,
    );
  }
  if (now > to) {
    throw new TlsMaterialError(`${what} "${path}" expired on ${to.toISOString()}`, path);
  }
  return to;
}

/** What the files are called in messages: pandora_server.conf tokens, or node properties. */
export interface TlsLabels {
  ca: string;
  cert: string;
  key: string;
}

const SYNC_LABELS: TlsLabels = { ca: 'sync_ca', cert: 'sync_cert', key: 'sync_key' };

/**
 * Reads and checks the sync TLS material: files readable, PEM certificates, the certificate
 * matching its key, both inside their validity. A certificate without its key (or the reverse)
 * is an error too, since TLS needs both. `labels` name the files in messages (the database's
 * dbCa/dbCert/dbKey use the same checks).
 */
export function readTlsMaterial(
  paths: TlsPaths,
  now = new Date(),
  labels: TlsLabels = SYNC_LABELS,
): TlsMaterial {
  const L = labels;
  const out: TlsMaterial = {};
  const cert = paths.cert?.trim() || '';
  const key = paths.key?.trim() || '';
  const ca = paths.ca?.trim() || '';
  if (cert && !key) {
    throw new TlsMaterialError(`${L.cert} "${cert}" is set but ${L.key} is empty`, cert);
  }
  if (key && !cert) {
    throw new TlsMaterialError(`${L.key} "${key}" is set but ${L.cert} is empty`, key);
  }
  if (cert) {
    const certPem = readPem(cert, L.cert);
    const keyPem = readPem(key, L.key);
    const x509 = parseCert(certPem, cert, L.cert);
    let privateKey;
    try {
      privateKey = createPrivateKey(keyPem);
    } catch (err) {
      throw new TlsMaterialError(
        `${L.key} "${key}" is not a usable PEM private key: ${(err as Error).message}`,
        key,
      );
    }
    if (!x509.checkPrivateKey(privateKey)) {
      throw new TlsMaterialError(
        `${L.cert} "${cert}" does not match the private key "${key}"`,
        cert,
      );
    }
    const notAfter = checkValidity(x509, cert, L.cert, now);
    out.cert = certPem;
    out.key = keyPem;
    out.notAfter = notAfter;
    out.daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000);
  }
  if (ca) {
    const caPem = readPem(ca, L.ca);
    const x509 = parseCert(caPem, ca, L.ca);
    out.caNotAfter = checkValidity(x509, ca, L.ca, now);
    out.ca = caPem;
  }
  return out;
}
