/**
 * Writes a certificate set (lib/tls/generate) to a folder as PEM files, the way an administrator
 * would lay them out by hand for `tentacle_server -e -k -f` and `sync_cert`/`sync_key`/`sync_ca`.
 * The CA's private key is not written: nothing here signs again, and a CA key lying on disk is
 * a key that can mint certificates the buffers would trust.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { commitAll, DurableFile } from '../util/durable-file';
import type { CertificateSet } from './generate';

/** File names inside the folder. */
export const CERTIFICATE_FILES = {
  ca: 'ca.pem',
  serverCert: 'server-cert.pem',
  serverKey: 'server-key.pem',
  clientCert: 'client-cert.pem',
  clientKey: 'client-key.pem',
} as const;

export type CertificateFile = keyof typeof CERTIFICATE_FILES;
export type CertificatePaths = Record<CertificateFile, string>;

export interface WriteOptions {
  /** Replace files already in the folder; otherwise their presence is an error. */
  overwrite?: boolean;
}

/** Why a set could not be written; `code` tells the caller which HTTP answer fits. */
export class CertificateFilesError extends Error {
  constructor(
    message: string,
    readonly code: 'relative' | 'exists' | 'io',
    readonly files: string[] = [],
  ) {
    super(message);
    this.name = 'CertificateFilesError';
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Writes the CA certificate, the server certificate and key and the client certificate and key
 * into `dir` (created if missing). Keys get mode 0600, certificates 0644. Refuses a relative
 * folder and, unless `overwrite`, any file already there (before writing anything).
 */
export async function writeCertificateSet(
  dir: string,
  set: CertificateSet,
  options: WriteOptions = {},
): Promise<CertificatePaths> {
  if (!dir || !isAbsolute(dir)) {
    throw new CertificateFilesError(
      `the folder must be an absolute path on the Node-RED host, got "${dir}"`,
      'relative',
    );
  }
  const paths = Object.fromEntries(
    Object.entries(CERTIFICATE_FILES).map(([k, name]) => [k, join(dir, name)]),
  ) as CertificatePaths;
  const content: Record<CertificateFile, [string, number]> = {
    ca: [set.ca.cert, 0o644],
    serverCert: [set.server.cert, 0o644],
    serverKey: [set.server.key, 0o600],
    clientCert: [set.client.cert, 0o644],
    clientKey: [set.client.key, 0o600],
  };
  const overwrite = options.overwrite === true;
  try {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    if (!overwrite) {
      const present: string[] = [];
      for (const p of Object.values(paths)) if (await exists(p)) present.push(p);
      if (present.length > 0) {
        throw new CertificateFilesError(
          `${present.length === 1 ? 'a file is' : 'files are'} already there: ${present.join(', ')}`,
          'exists',
          present,
        );
      }
    }
    // Each file whole or not at all, under a temp name with `~` (which no Tentacle peer can ask
    // for). Without overwrite, link() refuses a target that appeared since the check.
    const files: DurableFile[] = [];
    try {
      for (const k of Object.keys(CERTIFICATE_FILES) as CertificateFile[]) {
        const [text, mode] = content[k];
        const f = await DurableFile.open(paths[k], {
          tempPath: `${paths[k]}.${randomBytes(4).toString('hex')}~`,
          mode,
          place: overwrite ? 'replace' : 'exclusive',
        });
        files.push(f);
        await f.write(text);
      }
    } catch (err) {
      for (const f of files) await f.abort();
      throw err;
    }
    const failed = (await commitAll(files)).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (err) {
    if (err instanceof CertificateFilesError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST') {
      throw new CertificateFilesError(`a file appeared while writing: ${e.path ?? dir}`, 'exists');
    }
    throw new CertificateFilesError(`cannot write in ${dir}: ${e.message}`, 'io');
  }
  return paths;
}
