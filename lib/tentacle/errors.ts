/** Errors of the Tentacle engine, with a code a caller can branch on. */

export type TentacleErrorCode =
  | 'ERR_REPLY'
  | 'ERR_CLOSED'
  | 'ERR_TIMEOUT'
  | 'ERR_TLS'
  | 'ERR_AUTH'
  | 'ERR_PROTOCOL'
  | 'ERR_BUSY'
  | 'ERR_CONNECT';

export class TentacleError extends Error {
  readonly code: TentacleErrorCode;
  /** The server's reply line when it answered with something other than what was expected. */
  readonly reply?: string;

  constructor(code: TentacleErrorCode, message: string, reply?: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TentacleError';
    this.code = code;
    if (reply !== undefined) this.reply = reply;
  }
}
