/**
 * Makes a private CA, a server certificate and a client certificate with node-forge, as PEM
 * strings. Used by tests (certificates are made at test time, never committed) and by the
 * editor's "create certificates" button.
 */
import { generateKeyPair } from 'node:crypto';
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

interface SetKeys {
  ca: forge.pki.rsa.KeyPair;
  server: forge.pki.rsa.KeyPair;
  client: forge.pki.rsa.KeyPair;
}

/** Validity of a set made with these options: the same for the CA and both certificates. */
export function validityOf(options: CertificateOptions = {}): { notBefore: Date; notAfter: Date } {
  const days = options.days ?? 825;
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * 86_400_000) };
}

function signSet(options: CertificateOptions, keys: SetKeys): CertificateSet {
  const days = options.days ?? 825;
  const { notBefore } = validityOf(options);
  const caName = options.caName ?? 'Pandora Sync private CA';
  const names = options.serverNames?.length ? options.serverNames : ['127.0.0.1', 'localhost'];

  const caCert = makeCert(
    caName,
    keys.ca,
    null,
    [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      { name: 'subjectKeyIdentifier' },
    ],
    notBefore,
    days,
  );
  const issuer = { cn: caName, key: keys.ca.privateKey };

  const altNames = names.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n }));
  const serverCert = makeCert(
    names[0],
    keys.server,
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

  const clientCert = makeCert(
    options.clientName ?? 'pandora-sync-client',
    keys.client,
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
    ca: pem(caCert, keys.ca),
    server: pem(serverCert, keys.server),
    client: pem(clientCert, keys.client),
  };
}

/** Creates a CA and a server and client certificate signed by it. */
export function generateCertificates(options: CertificateOptions = {}): CertificateSet {
  const bits = options.bits ?? 2048;
  const gen = () => forge.pki.rsa.generateKeyPair({ bits, e: 0x10001 });
  return signSet(options, { ca: gen(), server: gen(), client: gen() });
}

function nativeKeyPair(bits: number): Promise<forge.pki.rsa.KeyPair> {
  return new Promise((resolve, reject) => {
    generateKeyPair(
      'rsa',
      {
        modulusLength: bits,
        publicExponent: 0x10001,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      },
      (err, publicKey, privateKey) => {
        if (err) return reject(err);
        resolve({
          publicKey: forge.pki.publicKeyFromPem(publicKey) as forge.pki.rsa.PublicKey,
          privateKey: forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey,
        });
      },
    );
  });
}

/**
 * The same set, with the RSA keys made by Node's crypto on its thread pool. Meant for a running
 * Node-RED: node-forge's pure-JS prime search would stall the event loop (and every Tentacle
 * connection it serves) for seconds per 2048-bit key.
 */
export async function generateCertificatesAsync(
  options: CertificateOptions = {},
): Promise<CertificateSet> {
  const bits = options.bits ?? 2048;
  const [ca, server, client] = await Promise.all([
    nativeKeyPair(bits),
    nativeKeyPair(bits),
    nativeKeyPair(bits),
  ]);
  return signSet(options, { ca, server, client });
}
