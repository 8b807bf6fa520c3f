/**
 * MySQL over TLS (pandora-config `dbTls`, `dbCa`, `dbCert`, `dbKey`): the mysql2 options every
 * pool and connection of the package uses, the same for the Command Center and every Instance,
 * and the words for what goes wrong, naming the property to change.
 */
import { isIP } from 'node:net';
import type { SslOptions } from 'mysql2';

export type { SslOptions };

/** The PEM texts (not paths): the CA that signed the servers' certificates, a client certificate. */
export interface DbTlsPem {
  ca?: SslOptions['ca'];
  cert?: SslOptions['cert'];
  key?: SslOptions['key'];
}

/**
 * mysql2's TLS options to reach `host`: the server's certificate must chain to `pem.ca` (else to
 * the system's trusted CAs); its names are checked when `host` is a name. mysql2 gives TLS no
 * server name for an IP address and then checks the certificate against "localhost", so for an
 * IP the chain alone is verified (a CA that signs only database servers keeps that meaningful).
 */
export function dbSsl(pem: DbTlsPem, host: string): SslOptions {
  return {
    ...(pem.ca ? { ca: pem.ca } : {}),
    ...(pem.cert && pem.key ? { cert: pem.cert, key: pem.key } : {}),
    rejectUnauthorized: true,
    // A `dbHost` list (lib/db/host-list.ts) reaches whichever node answers, and mysql2 checks
    // names against the whole list text: there too only the chain can be verified.
    verifyIdentity: isIP(host) === 0 && !host.includes(','),
  };
}

/** Codes of a certificate that did not verify (Node's TLS and OpenSSL). */
const UNTRUSTED =
  /^(UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|CERT_|ERR_TLS_CERT_ALTNAME|HOSTNAME_MISMATCH)/;

/**
 * The hint that belongs to a connection failure given whether TLS was on, or '' when TLS has
 * nothing to do with it. MariaDB answers a client without TLS under require_secure_transport
 * with a plain "access denied", so that error gets the hint too.
 */
export function tlsHint(err: unknown, tlsOn: boolean): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? '';
  const message = e.message ?? '';
  if (!tlsOn) {
    if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_SECURE_TRANSPORT_REQUIRED') {
      return 'if the server requires TLS (require_secure_transport=ON), turn dbTls on in pandora-config';
    }
    return '';
  }
  if (code === 'HANDSHAKE_NO_SSL_SUPPORT') {
    return 'dbTls is on in pandora-config but this server offers no TLS: configure TLS on the server (ssl_cert, ssl_key) or turn dbTls off';
  }
  if (
    code === 'HANDSHAKE_SSL_ERROR' ||
    UNTRUSTED.test(code) ||
    UNTRUSTED.test(e.cause?.code ?? '') ||
    /certificate|altnames/i.test(message)
  ) {
    return "dbTls: the server's certificate was not accepted: set dbCa in pandora-config to the CA (PEM) that signed it, and make sure the certificate names the host as this package connects to it";
  }
  return '';
}

/** The TLS options of each pool made with them, for the registry's Instance pools. */
const sslOfPool = new WeakMap<object, SslOptions>();

/** Records the TLS options a pool was made with (see sslOf). */
export function rememberSsl(pool: object, ssl: SslOptions | undefined): void {
  if (ssl) sslOfPool.set(pool, ssl);
}

/**
 * The TLS options a pool was made with: the Instances of a Command Center are reached the way
 * the Command Center is (pandora-config's dbTls covers both).
 */
export function sslOf(pool: object): SslOptions | undefined {
  return sslOfPool.get(pool);
}

/**
 * Adds the TLS hint to the connection errors of a mysql2 core pool. Every query, execute and
 * getConnection of the promise pool takes its connection through the core pool's
 * getConnection, so this one place covers every caller's error message.
 */
export function explainTlsErrors(
  core: {
    getConnection(cb: (err: NodeJS.ErrnoException | null, conn: unknown) => void): void;
  },
  tlsOn: boolean,
): void {
  const original = core.getConnection.bind(core);
  core.getConnection = (cb) =>
    original((err, conn) => {
      const e = err as
        (NodeJS.ErrnoException & { sqlMessage?: string; tlsHinted?: boolean }) | null;
      if (e && !e.tlsHinted) {
        const hint = tlsHint(e, tlsOn);
        if (hint) {
          // Callers word errors from sqlMessage when there is one, else from message.
          e.message = `${e.message} (${hint})`;
          if (typeof e.sqlMessage === 'string') e.sqlMessage = `${e.sqlMessage} (${hint})`;
          e.tlsHinted = true;
        }
      }
      cb(err, conn);
    });
}
