/**
 * event-pull's properties as the runtime reads them. The editor's validators (event-pull.html)
 * accept exactly what this accepts, so a flow that deploys also starts.
 */
import type { EventPullOptions, PullMode } from '../../lib/events';
import { toBool, toInteger, toList, toNumber, toText } from '../../lib/util/values';
import type { Translate } from './status';

/** Longest interval: Node's timers cannot wait much longer (24.8 days); a day is plenty. */
export const MAX_INTERVAL_S = 86_400;
export const MAX_BATCH = 100_000;

export interface EventPullProps {
  instances?: unknown;
  interval?: unknown;
  batchSize?: unknown;
  mode?: unknown;
  writeBack?: unknown;
}

/** A failure already worded for the user (from a catalogue), shown as it is. */
export class Worded extends Error {}

/** The puller's options from the node's properties; throws on a value the editor would refuse. */
export function pullerOptions(
  def: EventPullProps,
  t: Translate,
): Omit<EventPullOptions, 'cc' | 'hooks'> {
  const mode = toText(def.mode, 'all');
  if (mode !== 'all' && mode !== 'only_validated') {
    throw new Worded(t('event-pull.errors.mode', { mode: JSON.stringify(mode) }));
  }
  const interval = toNumber(def.interval, 10, 'interval');
  if (interval < 0 || interval > MAX_INTERVAL_S) {
    throw new Worded(
      t('event-pull.errors.interval', { max: MAX_INTERVAL_S, value: JSON.stringify(def.interval) }),
    );
  }
  return {
    instances: toList(def.instances).map((v) => toInteger(v, 0, 'instances', 1)),
    intervalMs: interval * 1000,
    batchSize: toInteger(def.batchSize, 1000, 'batchSize', 1, MAX_BATCH),
    mode: mode as PullMode,
    writeBack: toBool(def.writeBack, false, 'writeBack'),
  };
}
