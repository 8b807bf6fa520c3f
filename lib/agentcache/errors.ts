/**
 * agent-cache's failures: a code and the facts, never a sentence. The node words them from its
 * catalogue (locales/<lang>/agent-cache.json, `errors.<code>`); `message` is only the code and
 * the facts, for logs outside Node-RED.
 */

export type AgentCacheCode =
  /** The engine was closed; `reason` says why. Every call after close() fails with this. */
  | 'ERR_AGENT_CACHE_CLOSED'
  /** The Command Center database failed (`message`: the server's words). */
  | 'ERR_AGENT_CACHE_CC'
  /** A table lacks what the cache needs (`side`, `table`, `missing`). */
  | 'ERR_AGENT_CACHE_SCHEMA'
  /** A registry row cannot be used (`id`, `name`, `message` from the registry). */
  | 'ERR_AGENT_CACHE_REGISTRY'
  /** An Instance's round failed (`id`, `name`, `message`: the server's words). */
  | 'ERR_AGENT_CACHE_INSTANCE'
  /** A node property out of range (`name`, `value`, `min`, `max`). */
  | 'ERR_AGENT_CACHE_OPTION';

export type AgentCacheFacts = Record<string, string | number>;

export class AgentCacheError extends Error {
  constructor(
    readonly code: AgentCacheCode,
    readonly facts: AgentCacheFacts = {},
    options?: { cause?: unknown },
  ) {
    super(`${code} ${JSON.stringify(facts)}`, options);
    this.name = 'AgentCacheError';
  }
}

/** The words a database or network failure carries (the server's own message when it has one). */
export function reasonOf(err: unknown): string {
  if (err instanceof AgentCacheError) return String(err.facts.message ?? err.code);
  const e = err as { sqlMessage?: string; message?: string; code?: string } | null;
  return e?.sqlMessage ?? e?.message ?? e?.code ?? String(err);
}
