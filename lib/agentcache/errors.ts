/**
 * agent-cache's failures: a code and the facts, never a sentence. The node words them from its
 * catalogue (locales/<lang>/agent-cache.json, `errors.<code>`); `message` is only the code and
 * the facts, for logs outside Node-RED.
 */
import { CodedError, type ErrorFacts } from '../util/errors';

export { reasonOf } from '../util/errors';

export type AgentCacheCode =
  /** The engine was closed; `reason` says why. Every call after close() fails with this. */
  | 'ERR_AGENT_CACHE_CLOSED'
  /** The Command Center database failed (`message`: the server's words). */
  | 'ERR_AGENT_CACHE_CC'
  /** A table lacks what the cache needs (`side`, `table`, `missing`). */
  | 'ERR_AGENT_CACHE_SCHEMA'
  /**
   * A registry row cannot be used (`id`, `name`, `reason`: the registry's code,
   * ERR_DB_INSTANCE_DISABLED or ERR_DB_INSTANCE_MISSING, worded by the catalogue under that code).
   */
  | 'ERR_AGENT_CACHE_REGISTRY'
  /** An Instance's round failed (`id`, `name`, `message`: the server's words). */
  | 'ERR_AGENT_CACHE_INSTANCE'
  /** A node property out of range (`name`, `value`, `min`, `max`). */
  | 'ERR_AGENT_CACHE_OPTION';

export type AgentCacheFacts = ErrorFacts;

export class AgentCacheError extends CodedError<AgentCacheCode> {
  constructor(code: AgentCacheCode, facts: AgentCacheFacts = {}, options?: { cause?: unknown }) {
    super(code, facts, options);
    this.name = 'AgentCacheError';
  }
}
