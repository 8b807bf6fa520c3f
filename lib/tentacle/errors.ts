/** Errors of the Tentacle engine, with a code a caller can branch on. */

export type TentacleErrorCode =
  | 'ERR_REPLY'
  | 'ERR_CLOSED'
  | 'ERR_TIMEOUT'
  | 'ERR_TLS'
  | 'ERR_AUTH'
  | 'ERR_PROTOCOL'
  | 'ERR_BUSY'
  | 'ERR_CONNECT'
  /** An offer (RECV/MV/ZRECV/LS SIZE) past the client's bound: declined, the file kept. */
  | 'ERR_TOO_BIG';

export class TentacleError extends Error {
  readonly code: TentacleErrorCode;
  /** The server's reply line when it answered with something other than what was expected. */
  readonly reply?: string;
  /** ERR_TOO_BIG: the size the server announced. */
  size?: number;
  /** ERR_TLS: this client did not accept the server's certificate (untrusted, wrong name, dates). */
  serverCertificate?: boolean;

  constructor(code: TentacleErrorCode, message: string, reply?: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TentacleError';
    this.code = code;
    if (reply !== undefined) this.reply = reply;
  }
}

/**
 * True for a failure of the client's own check of the server's certificate, as Node reports it
 * (OpenSSL's verify codes, which have no ERR_ prefix, and the name check), not an alert from the
 * server.
 */
export function isServerCertificateError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string') return false;
  return (
    code === 'ERR_TLS_CERT_ALTNAME_INVALID' ||
    /^(?!ERR_)[A-Z0-9_]*CERT[A-Z0-9_]*$/.test(code) ||
    /^(?!ERR_)[A-Z0-9_]*(SIGNATURE|ISSUER)[A-Z0-9_]*$/.test(code)
  );
}
