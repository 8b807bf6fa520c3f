/**
 * The Tentacle engine's failures: a code and the facts, never a sentence (lib/util/errors). The
 * nodes word them from their catalogues (`errors.<code>`); `message` is only the code and the facts.
 *
 * Facts used across codes: `address` (`host:port` of the server a client spoke to), `message`
 * (the words of the system, TLS library or server underneath), `command` and `name` (the request).
 */
import { CodedError, type ErrorFacts } from '../util/errors';

export type TentacleErrorCode =
  // -- the client (lib/tentacle/client.ts) --
  /** The server answered `<command> ERR...` (`reply`): the connection stays usable. */
  | 'ERR_REPLY'
  /** The connection ended (`message` when something said why). */
  | 'ERR_CLOSED'
  /** No activity for `seconds`. */
  | 'ERR_TIMEOUT'
  /** The TLS handshake or session failed (`message`; `trust: 'system'` when no CA was given). */
  | 'ERR_TLS'
  /**
   * The server hung up right after PASS without `PASS OK`, which is how a Tentacle server refuses
   * a password (`credentials`: what was presented, `password` or `password, certificate`).
   */
  | 'ERR_AUTH'
  /** The server said something the protocol does not allow there (`reply` or `message`). */
  | 'ERR_PROTOCOL'
  /** A request while another runs on the same connection. */
  | 'ERR_BUSY'
  /** The TCP connection could not be made (`message`). */
  | 'ERR_CONNECT'
  /** An offer (RECV/MV/ZRECV/LS SIZE) past the client's bound (`size`, `limit`): declined, the file kept. */
  | 'ERR_TOO_BIG'
  // -- the server (lib/tentacle/server.ts) --
  /** The server was closed (`reason`); every call after close() fails with this. */
  | 'ERR_SERVER_CLOSED'
  /** A whole-number setting out of range (`name`, `value`, `min`, `max`). */
  | 'ERR_OPTION'
  /** A setting that must be true or false (`name`, `value`). */
  | 'ERR_OPTION_FLAG'
  /** No storage directory given. */
  | 'ERR_STORAGE_REQUIRED'
  /** A `-i` filter whose regex does not compile (`value`: the piece, `message`). */
  | 'ERR_FILTERS'
  /** `pullers` given but holding no CN or fingerprint. */
  | 'ERR_PULLERS_EMPTY'
  /** `pullers` without a CA: only a verified client certificate names a puller. */
  | 'ERR_PULLERS_NEED_CA'
  /** The port is taken (`address`, `port`). */
  | 'ERR_PORT_IN_USE'
  /** The listening socket failed (`address`, `port`, `message`). */
  | 'ERR_LISTEN'
  /** The storage directory cannot be made or used (`path`, `message`). */
  | 'ERR_STORAGE'
  /** A file put by the flow was refused as a SEND would be (`name`, `reply`, `reason`). */
  | 'ERR_REFUSED';

export class TentacleError extends CodedError<TentacleErrorCode> {
  /** The server's reply line when it answered with something other than what was expected. */
  readonly reply?: string;
  /** ERR_TOO_BIG: the size the server announced. */
  readonly size?: number;
  /** ERR_TLS: this client did not accept the server's certificate (untrusted, wrong name, dates). */
  readonly serverCertificate?: boolean;

  constructor(code: TentacleErrorCode, facts: ErrorFacts = {}, options?: { cause?: unknown }) {
    super(code, facts, options);
    this.name = 'TentacleError';
    if (typeof facts.reply === 'string') this.reply = facts.reply;
    if (typeof facts.size === 'number') this.size = facts.size;
    if (facts.serverCertificate === 1) this.serverCertificate = true;
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
