/**
 * event-pull's failures: a code and the facts, never a sentence. The node words them from its
 * catalogue (locales/<lang>/event-pull.json, `errors.<code>`); `message` is only the code and the
 * facts, for logs outside Node-RED.
 */
import { CodedError, reasonOf } from '../util/errors';

export type EventPullCode =
  /** The puller was closed; `reason` says why. Every call after close() fails with this. */
  | 'ERR_EVENT_PULL_CLOSED'
  /** The Command Center database failed (`message`: the server's words). */
  | 'ERR_EVENT_PULL_CC'
  /** tmetaconsole_event lacks columns the copy needs (`missing`). */
  | 'ERR_EVENT_PULL_CC_COLUMNS'
  /** tmetaconsole_event is Pandora's legacy table without the unique key of exactly-once. */
  | 'ERR_EVENT_PULL_LEGACY_KEY'
  /** A registry row cannot be used (`id`, `name`, `message`: the registry's explanation). */
  | 'ERR_EVENT_PULL_REGISTRY'
  /** An Instance cannot be reached (`id`, `name`, `message`: the registry's explanation). */
  | 'ERR_EVENT_PULL_CONNECT'
  /** An Instance round failed on the Instance (`id`, `name`, `message`: the server's words). */
  | 'ERR_EVENT_PULL_INSTANCE'
  /** An Instance round failed writing to the Command Center (`id`, `name`, `message`). */
  | 'ERR_EVENT_PULL_CC_WRITE'
  /** The Instance has no tevento table (`id`, `name`). */
  | 'ERR_EVENT_PULL_NO_TEVENTO'
  /** The Instance's tevento lacks columns the copy needs (`id`, `name`, `missing`). */
  | 'ERR_EVENT_PULL_TEVENTO_COLUMNS'
  /** Another puller moved this Instance's checkpoint: the batch was not written (`id`). */
  | 'ERR_EVENT_PULL_CHECKPOINT_MOVED'
  /** An option out of range (`name`, `value`, `min`; `max` when there is one). */
  | 'ERR_EVENT_PULL_OPTION'
  /** An option that must be a whole number (`name`, `value`). */
  | 'ERR_EVENT_PULL_WHOLE'
  /** `mode` is neither `all` nor `only_validated` (`value`). */
  | 'ERR_EVENT_PULL_MODE'
  /** The node's `interval` is not a number of seconds from 0 to `max` (`value`). */
  | 'ERR_EVENT_PULL_INTERVAL'
  /** A property that must be true or false (`name`, `value`). */
  | 'ERR_EVENT_PULL_FLAG';

export class EventPullError extends CodedError<EventPullCode> {
  constructor(
    code: EventPullCode,
    facts: Record<string, string | number> = {},
    options?: { cause?: unknown },
  ) {
    super(code, facts, options);
    this.name = 'EventPullError';
  }
}

/** `err` as the puller reports it: itself when coded already, else `code` with its words. */
export function coded(
  err: unknown,
  code: EventPullCode,
  facts: Record<string, string | number> = {},
): EventPullError {
  if (err instanceof EventPullError) return err;
  return new EventPullError(code, { ...facts, message: reasonOf(err) }, { cause: err });
}
