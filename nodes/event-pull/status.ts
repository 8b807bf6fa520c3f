/** event-pull's status line, worded from the puller's state through the node's catalogue. */
import type { NodeStatus } from 'node-red';
import type { EventPullError, PullerStatus } from '../../lib/events';
import { WORDS, failed, joinParts, shortText, status } from '../shared/status';

/** RED._ as the node gets it: a key of the node's catalogue and its `__name__` values. */
export type Translate = (key: string, values?: Record<string, string | number>) => string;

/** An engine error in the runtime's language (errors.<code> of the node's catalogue). */
export function errorText(err: EventPullError, t: Translate): string {
  return t(`event-pull.errors.${err.code}`, err.facts);
}

/** Beyond this many instances the status gives the worst lag instead of each one. */
const LAGS_SHOWN = 4;
/** Seconds of lag that make the status yellow. */
const BEHIND_S = 60;

/** "2 inst · lag 0/3 s", red with "down: 2" when an instance is down, yellow when one is behind. */
export function pullerStatus(state: PullerStatus, t: Translate): NodeStatus {
  if (state.commandCenter !== null) {
    return failed(errorText(state.commandCenter, t));
  }
  if (state.instances.length === 0) return status('grey', WORDS.noInstances);
  // Cluster: only the instances worked here; the others' lag is known where they are worked.
  const list = state.instances.filter((s) => !s.elsewhere);
  if (list.length === 0) return status('grey', t('event-pull.status.instances', { count: 0 }));
  const lag = (s: (typeof list)[number]): string =>
    s.down || s.lag === null ? '?' : String(Math.round(s.lag));
  const known = list.filter((s) => !s.down && s.lag !== null).map((s) => s.lag as number);
  const lags =
    list.length <= LAGS_SHOWN
      ? t('event-pull.status.lags', { lags: list.map(lag).join('/') })
      : t('event-pull.status.maxLag', {
          lag: known.length ? Math.round(Math.max(...known)) : '?',
        });
  const down = list.filter((s) => s.down).map((s) => s.id);
  const behind = known.some((l) => l > BEHIND_S);
  return status(
    down.length ? 'red' : behind ? 'yellow' : 'green',
    joinParts(
      t('event-pull.status.instances', { count: list.length }),
      lags,
      down.length > 0 && shortText(t('event-pull.status.down', { ids: down.join(', ') }), 20),
    ),
  );
}
