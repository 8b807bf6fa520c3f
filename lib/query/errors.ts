/**
 * instance-query's failures: a code and the facts, never a sentence. The node words them from its
 * catalogue (locales/<lang>/instance-query.json, `errors.<code>`), together with the registry's
 * ERR_DB_* codes (lib/db/errors.ts) an Instance's answer may carry.
 */
import { CodedError, type ErrorFacts } from '../util/errors';
import { shownValue } from '../util/options';
import type { RegistryError } from '../db/errors';

export type QueryCode =
  /** The engine was closed; `reason` says why. Every call after close() fails with this. */
  | 'ERR_QUERY_CLOSED'
  /** The Command Center database failed (`message`: the server's words). */
  | 'ERR_QUERY_CC'
  /** A node property or engine option out of range (`name`, `value`, `min`, `max`). */
  | 'ERR_QUERY_OPTION'
  // A message that cannot run, refused before any Instance is asked.
  /** Unknown operation (`name`, `known`: the operations, comma-separated). */
  | 'ERR_QUERY_OPERATION'
  /** msg.payload of a read is not an object (`kind`, `filters`, `got`: its type). */
  | 'ERR_QUERY_FILTERS'
  /** Filters the read does not have (`kind`, `names`, `filters`). */
  | 'ERR_QUERY_FILTER_UNKNOWN'
  /** Not a positive whole number (`what`, `value`). */
  | 'ERR_QUERY_NUMBER'
  /** Not a non-empty name pattern (`what`, `value`). */
  | 'ERR_QUERY_PATTERN'
  /** Not true or false (`what`, `value`). */
  | 'ERR_QUERY_YES_NO'
  /** `group` is neither a name nor an id (`value`). */
  | 'ERR_QUERY_GROUP'
  /** An empty list as a filter. */
  | 'ERR_QUERY_EMPTY_LIST'
  /** An agent or module status that does not exist (`value`, `known`). */
  | 'ERR_QUERY_STATUS'
  /** An alert state that does not exist (`value`, `known`). */
  | 'ERR_QUERY_ALERT_STATUS'
  /** A `disabled` choice that does not exist (`value`, `known`). */
  | 'ERR_QUERY_DISABLED'
  /** A change with no target (`kind`). */
  | 'ERR_QUERY_NO_TARGET'
  /** A target that is not an object (`kind`, `n`: its place, 1-based, `count`: of how many, `value`). */
  | 'ERR_QUERY_TARGET'
  /** A target whose `instance` or `id` is not a positive whole number (`kind`, `n`, `count`, `field`, `value`). */
  | 'ERR_QUERY_TARGET_NUMBER'
  // One Instance's failure, in its report (all with `id` and `name`).
  /** An id the node does not work (`id`). */
  | 'ERR_QUERY_UNLISTED'
  /** No answer in time (`seconds`); the query was stopped. */
  | 'ERR_QUERY_TIMEOUT'
  /** Not a Pandora Instance of a supported version (`message`). */
  | 'ERR_QUERY_SCHEMA'
  /** Its database user may not do this (`message`). */
  | 'ERR_QUERY_DENIED'
  /** A row locked by another session (`message`). */
  | 'ERR_QUERY_LOCKED'
  /** Deadlock; nothing was changed. */
  | 'ERR_QUERY_DEADLOCK'
  /** The connection was lost during the query. */
  | 'ERR_QUERY_CONNECTION_LOST'
  // One change target's failure, in its row (`id`).
  | 'ERR_QUERY_NO_AGENT'
  | 'ERR_QUERY_NO_MODULE'
  | 'ERR_QUERY_NO_ALERT'
  | 'ERR_QUERY_NO_POLICY';

export class QueryError extends CodedError<QueryCode> {
  constructor(code: QueryCode, facts: ErrorFacts = {}, options?: { cause?: unknown }) {
    super(code, facts, options);
    this.name = 'QueryError';
  }
}

/** What an Instance's report or a change row may carry: the engine's codes or the registry's. */
export type QueryFailure = QueryError | RegistryError;

/** A value as a fact: numbers as they are, anything else as JSON (as the words quote it). */
export const shown = shownValue;
