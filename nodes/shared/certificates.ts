/**
 * The editor's "Create certificates…" button (pandora-config and tentacle-buffer dialogs): an
 * admin endpoint that makes a private CA, a server certificate for the buffer's addresses and a
 * client certificate for the central Sync server, and writes them to a folder on the Node-RED host.
 */
import { isIP } from 'node:net';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import type { NodeAPI } from 'node-red';
import { CertificateFilesError, writeCertificateSet } from '../../lib/tls/files';
import { generateCertificatesAsync, validityOf } from '../../lib/tls/generate';
import { toBool, toInteger, toList, toText } from '../../lib/util/values';
import { refuseUnlessJson } from './json-only';

export const CERTIFICATES_PATH = '/pandora-sync/certificates';

/** A DNS name (letters, digits, hyphens, dots; a leading `*.` wildcard allowed). */
const DNS_NAME =
  /^(\*\.)?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Checks the names the server certificate is made for; throws naming the first bad one. */
export function serverNames(value: unknown): string[] {
  const names = [...new Set(toList(value))];
  if (names.length === 0) {
    throw new Error('give at least one IP address or DNS name the buffer is reached at');
  }
  for (const n of names) {
    if (n === '0.0.0.0' || n === '::') {
      throw new Error(`${n} is a listen address, not one a client connects to`);
    }
    if (!isIP(n) && (n.length > 253 || !DNS_NAME.test(n))) {
      throw new Error(`"${n}" is neither an IP address nor a DNS name`);
    }
  }
  return names;
}

// Both node types call this; each Node-RED admin app (one per runtime, a new one per test
// helper start) gets the routes once.
const registered = new WeakSet<object>();

export function registerCertificateEndpoint(RED: NodeAPI): void {
  const app = RED.httpAdmin as unknown as object;
  if (registered.has(app)) return;
  registered.add(app);

  // What the dialog proposes before the user types anything.
  RED.httpAdmin.get(CERTIFICATES_PATH, RED.auth.needsPermission('flows.read'), (_req, res) => {
    const userDir = (RED.settings as { userDir?: string }).userDir || join(homedir(), '.node-red');
    res.json({ dir: join(userDir, 'pandora-sync-certs'), hostname: hostname() });
  });

  RED.httpAdmin.post(CERTIFICATES_PATH, RED.auth.needsPermission('flows.write'), (req, res) => {
    if (refuseUnlessJson(req, res, '{"dir": "/abs/folder", "names": "192.0.2.10, buffer1"}'))
      return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    let names: string[];
    let days: number;
    let overwrite: boolean;
    const dir = toText(body.dir);
    try {
      if (!dir) throw new Error('no folder given');
      names = serverNames(body.names);
      days = toInteger(body.days, 825, 'days', 1, 3650);
      overwrite = toBool(body.overwrite, false, 'overwrite');
    } catch (err) {
      res.status(400).json({ error: (err as Error).message });
      return;
    }
    void (async () => {
      // One start of validity in whole seconds (as X.509 stores it), so the end reported is
      // exactly the one in the files.
      const notBefore = new Date(Math.floor((Date.now() - 60_000) / 1000) * 1000);
      const options = { serverNames: names, days, notBefore };
      const set = await generateCertificatesAsync(options);
      const files = await writeCertificateSet(dir, set, { overwrite });
      RED.log.info(`pandora-sync: certificates for ${names.join(', ')} written to ${dir}`);
      res.json({ dir, names, notAfter: validityOf(options).notAfter.toISOString(), files });
    })().catch((err: Error) => {
      if (err instanceof CertificateFilesError) {
        const code = err.code === 'relative' ? 400 : err.code === 'exists' ? 409 : 500;
        res.status(code).json({ error: err.message, files: err.files });
        return;
      }
      res.status(500).json({ error: err.message });
    });
  });
}
