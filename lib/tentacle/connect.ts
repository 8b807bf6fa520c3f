/**
 * A Tentacle client's connection: TCP, or TLS with the server's certificate always verified, and
 * the failure to make it as a coded error (ERR_CONNECT, or ERR_TLS saying whether this side
 * refused the server's certificate and against what it was checked).
 */
import net from 'node:net';
import tls from 'node:tls';
import type { ErrorFacts } from '../util/errors';
import { isServerCertificateError, TentacleError } from './errors';

export interface TentacleClientOptions {
  host: string;
  /** Default 41121. */
  port?: number;
  /**
   * TLS when given. The server's certificate is always verified, with its host name or IP: against
   * `ca` when given, otherwise against the system's trusted CAs (as any TLS client does).
   */
  tls?: {
    cert?: string | Buffer;
    key?: string | Buffer;
    ca?: string | Buffer;
    servername?: string;
  };
  /** Sends `PASS` first when set. */
  password?: string;
  /** Seconds and count; inactivity limit = timeout × (retries + 1). Defaults 1 and 3. */
  timeout?: number;
  retries?: number;
  /** Seconds; default timeout × (retries + 1). */
  connectTimeout?: number;
  /**
   * Bytes: a download (RECV, MV, ZRECV) announced larger than this is declined and fails with
   * ERR_TOO_BIG, the file kept on the server; a ZRECV that inflates past it fails and closes.
   * Default: no bound.
   */
  maxSize?: number;
  /** Bytes: an LS listing announced larger than this is declined (ERR_TOO_BIG). Default 64 MiB. */
  maxListing?: number;
}

/** Whether a socket failure came from TLS (the handshake, a certificate, an alert). */
export function tlsLike(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (
    /^ERR_SSL|^ERR_TLS|CERT|SELF_SIGNED|UNABLE_TO|HOSTNAME|ALTNAME/.test(e?.code ?? '') ||
    /ssl|tls|certificate|alert/i.test(e?.message ?? '')
  );
}

/** Opens the connection (the TLS handshake included) within `connectMs`. */
export function openSocket(
  opts: TentacleClientOptions,
  port: number,
  address: string,
  connectMs: number,
): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    let s: net.Socket;
    const onError = (err: Error, extra: ErrorFacts = {}) => {
      clearTimeout(timer);
      s.destroy();
      const isTls = Boolean(opts.tls) && tlsLike(err);
      const serverCertificate = isTls && isServerCertificateError(err);
      const facts: ErrorFacts = { address, message: err.message, ...extra };
      if (serverCertificate) {
        facts.serverCertificate = 1;
        // Without a CA the certificate met the system's trusted CAs, which a private CA or a
        // self-signed buffer certificate is not in: say what was used.
        if (opts.tls?.ca === undefined) facts.trust = 'system';
      }
      reject(new TentacleError(isTls ? 'ERR_TLS' : 'ERR_CONNECT', facts, { cause: err }));
    };
    const timer = setTimeout(
      () => onError(new Error('ETIMEDOUT'), { seconds: connectMs / 1000 }),
      connectMs,
    );
    const ready = () => {
      clearTimeout(timer);
      s.off('error', onError);
      resolve(s);
    };
    if (opts.tls) {
      const t = opts.tls;
      const servername = t.servername ?? (net.isIP(opts.host) ? undefined : opts.host);
      s = tls.connect({
        host: opts.host,
        port,
        cert: t.cert,
        key: t.key,
        ca: t.ca,
        servername,
        // Never unverified: without `ca` a man in the middle would get the reusable PASS digest
        // and could feed or drop files (the stock client's flaw).
        rejectUnauthorized: true,
      });
      s.once('secureConnect', ready);
    } else {
      s = net.connect({ host: opts.host, port });
      s.once('connect', ready);
    }
    s.once('error', (err) => onError(err));
  });
}
