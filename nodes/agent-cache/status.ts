/** agent-cache's status line and error words, from the engine's state through the node's catalogue. */
import type { NodeStatus } from 'node-red';
import type { AgentCacheError, CacheStatus } from '../../lib/agentcache';
import { WORDS, failed, joinParts, shortText, status } from '../shared/status';

/** RED._ as the node gets it: a key of the node's catalogue and its `__name__` values. */
export type Translate = (key: string, values?: Record<string, string | number>) => string;

/** An engine error in the runtime's language (errors.<code> of the node's catalogue). */
export function errorText(err: AgentCacheError, t: Translate): string {
  // A registry row's reason is the registry's own code, worded under that code.
  const code = err.code === 'ERR_AGENT_CACHE_REGISTRY' ? String(err.facts.reason) : err.code;
  return t(`agent-cache.errors.${code}`, err.facts);
}

/** Below this the lag is not worth a yellow ring (a round on many agents takes a moment). */
const BEHIND_MIN_S = 30;

/**
 * "2 inst · 1500 agents · lag 3 s" (the largest lag); red with "down: 2" when an Instance fails or
 * with the Command Center's reason; yellow when the largest lag passes 3 intervals (30 s at least).
 */
export function cacheStatus(state: CacheStatus, intervalS: number, t: Translate): NodeStatus {
  if (state.commandCenter) return failed(errorText(state.commandCenter, t));
  if (state.instances.length === 0) return status('grey', WORDS.noInstances);
  const list = state.instances.filter((s) => !s.elsewhere);
  if (list.length === 0) return status('grey', t('agent-cache.status.instances', { count: 0 }));
  const agents = list.reduce((n, s) => n + (s.agents ?? 0), 0);
  const lags = list.filter((s) => s.lag !== null).map((s) => s.lag as number);
  const lag = lags.length === list.length ? Math.round(Math.max(...lags)) : '?';
  const down = list.filter((s) => s.down).map((s) => s.id);
  const behind =
    intervalS > 0 && typeof lag === 'number' && lag > Math.max(3 * intervalS, BEHIND_MIN_S);
  return status(
    down.length ? 'red' : behind ? 'yellow' : 'green',
    joinParts(
      t('agent-cache.status.instances', { count: list.length }),
      t('agent-cache.status.agents', { count: agents }),
      t('agent-cache.status.lag', { lag }),
      down.length > 0 && shortText(t('agent-cache.status.down', { ids: down.join(', ') }), 20),
    ),
  );
}
