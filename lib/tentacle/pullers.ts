/**
 * Who may take files from a buffer: the `pullers` list of certificate subject CNs and SHA-256
 * fingerprints, matched against the verified client certificate of a TLS connection.
 */
import type tls from 'node:tls';
import { TentacleError } from './errors';

/** What names a client: its certificate's subject CN and SHA-256 fingerprint (lowercase hex). */
export interface ClientIdentity {
  cn: string;
  fingerprint: string;
}

/** 64 hex digits, with or without colons between the bytes. */
const FINGERPRINT = /^(?:[0-9a-f]{2}:){31}[0-9a-f]{2}$|^[0-9a-f]{64}$/i;

/** A fingerprint as compared: lowercase hex without colons; null when `text` is not one. */
export function normalizeFingerprint(text: string): string | null {
  const t = text.trim();
  return FINGERPRINT.test(t) ? t.replace(/:/g, '').toLowerCase() : null;
}

export class Pullers {
  private readonly cns = new Set<string>();
  private readonly fingerprints = new Set<string>();

  /** Each entry a fingerprint (64 hex digits, colons allowed) or else a subject CN. */
  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const e = raw.trim();
      if (!e) continue;
      const fp = normalizeFingerprint(e);
      if (fp) this.fingerprints.add(fp);
      else this.cns.add(e);
    }
    if (this.cns.size === 0 && this.fingerprints.size === 0) {
      throw new TentacleError('ERR_PULLERS_EMPTY');
    }
  }

  allows(client: ClientIdentity): boolean {
    return (
      (client.cn !== '' && this.cns.has(client.cn)) ||
      (client.fingerprint !== '' && this.fingerprints.has(client.fingerprint))
    );
  }
}

/** The identity of a TLS client whose certificate the server verified; null otherwise. */
export function describeClient(socket: tls.TLSSocket): ClientIdentity | null {
  if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return null;
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return null;
  // A subject with several CNs comes as an array: none of them is taken as the name.
  const cn = typeof cert.subject?.CN === 'string' ? cert.subject.CN : '';
  return { cn, fingerprint: normalizeFingerprint(cert.fingerprint256 ?? '') ?? '' };
}
