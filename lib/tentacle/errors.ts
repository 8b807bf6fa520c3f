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

  constructor(code: TentacleErrorCode, message: string, reply?: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TentacleError';
    this.code = code;
    if (reply !== undefined) this.reply = reply;
  }
}
