/**
 * tentacle-pull's failures: a code and the facts, never a sentence. The node words them from its
 * catalogue (locales/<lang>/tentacle-pull.json, `errors.<code>`).
 */
import { CodedError, type ErrorFacts } from '../util/errors';

export type SyncCode =
  /** The puller was closed; `reason` says why. Every call after close() fails with this. */
  | 'ERR_SYNC_CLOSED'
  /** A whole-number property out of range (`name`, `value`, `min`, `max`). */
  | 'ERR_SYNC_OPTION'
  /** A true/false property is neither (`name`, `value`). */
  | 'ERR_SYNC_BOOLEAN'
  /** `deliver` is not one of `modes` (`value`). */
  | 'ERR_SYNC_DELIVER'
  /** `pattern` is not a regular expression (`pattern`, `message`: the engine's words). */
  | 'ERR_SYNC_PATTERN'
  /** `msg.address` names no buffer of the puller (`address`). */
  | 'ERR_SYNC_ADDRESS'
  /**
   * A write on this side failed (disk full, permissions, not a directory): `path`, `message`
   * (the system's words). The file stays on its buffer.
   */
  | 'ERR_SYNC_LOCAL';

export class SyncError extends CodedError<SyncCode> {
  constructor(code: SyncCode, facts: ErrorFacts = {}, options?: { cause?: unknown }) {
    super(code, facts, options);
    this.name = 'SyncError';
  }
}

/**
 * A local failure (disk full, permissions...): the file stays on its buffer. `what`: the
 * incoming directory not usable (`dir`), a temp file not writable (`write`), or the file not
 * deliverable into place (`deliver`, with its `name`).
 */
export class LocalStoreError extends SyncError {
  constructor(
    readonly what: 'dir' | 'write' | 'deliver',
    readonly path: string,
    cause: unknown,
    name = '',
  ) {
    super(
      'ERR_SYNC_LOCAL',
      { what, path, name, message: cause instanceof Error ? cause.message : String(cause) },
      { cause },
    );
    this.name = 'LocalStoreError';
  }
}
