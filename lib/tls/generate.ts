/**
 * Makes a private CA, a server certificate and a client certificate with node-forge, as PEM
 * strings. Used by tests (certificates are made at test time, never committed) and by the
 * editor's "create certificates" button.
 */
import { isIP } from 'node:net';
import forge from 'node-forge';

export interface PemPair {
  cert: string;
  key: string;
}

export interface CertificateSet {
  ca: PemPair;
  server: PemPair;
  client: PemPair;
}

export interface CertificateOptions {
  /** Common name of the CA. */
  caName?: string;
  /** DNS names and IP addresses the server certificate is valid for. */
  serverNames?: string[];
  clientName?: string;
  /** Validity in days from `notBefore`. */
  days?: number;
  /** Start of validity; a date in the past with few days makes an expired certificate. */
  notBefore?: Date;
  /** RSA modulus size; 2048 by default (tests may use less for speed). */
  bits?: number;
}

function serial(): string {
  // A positive serial: first byte below 0x80.
  const bytes = forge.random.getBytesSync(16);
  return '0' + forge.util.bytesToHex(bytes).slice(1);
}

function makeCert(
  subjectCn: string,
  keys: forge.pki.rsa.KeyPair,
  issuer: { cn: string; key: forge.pki.rsa.PrivateKey } | null,
  extensions: object[],
  notBefore: Date,
  days: number,
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = new Date(notBefore.getTime() + days * 86_400_000);
  cert.setSubject([{ name: 'commonName', value: subjectCn }]);
  cert.setIssuer([{ name: 'commonName', value: issuer ? issuer.cn : subjectCn }]);
  cert.setExtensions(extensions);
  cert.sign(issuer ? issuer.key : keys.privateKey, forge.md.sha256.create());
  return cert;
}

function pem(cert: forge.pki.Certificate, keys: forge.pki.rsa.KeyPair): PemPair {
  return {
    cert: forge.pki.certificateToPem(cert),
    key: forge.pki.privateKeyToPem(keys.privateKey),
  };
}

/** Creates a CA and a server and client certificate signed by it. */
export function generateCertificates(options: CertificateOptions = {}): CertificateSet {
  const bits = options.bits ?? 2048;
  const days = options.days ?? 825;
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  const caName = options.caName ?? 'Pandora Sync private CA';
  const names = options.serverNames?.length ? options.serverNames : ['127.0.0.1', 'localhost'];
  const gen = () => forge.pki.rsa.generateKeyPair({ bits, e: 0x10001 });

  const caKeys = gen();
  const caCert = makeCert(
    caName,
    caKeys,
    null,
    [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      { name: 'subjectKeyIdentifier' },
    ],
    notBefore,
    days,
  );
  const issuer = { cn: caName, key: caKeys.privateKey };

  const serverKeys = gen();
  const altNames = names.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n }));
  const serverCert = makeCert(
    names[0],
    serverKeys,
    issuer,
    [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
    notBefore,
    days,
  );

  const clientKeys = gen();
  const clientCert = makeCert(
    options.clientName ?? 'pandora-sync-client',
    clientKeys,
    issuer,
    [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', clientAuth: true },
    ],
    notBefore,
    days,
  );

  return {
    ca: pem(caCert, caKeys),
    server: pem(serverCert, serverKeys),
    client: pem(clientCert, clientKeys),
  };
}
