/** instance-query's status line and error words, from the engine's answer through the node's catalogue. */
import type { NodeStatus } from 'node-red';
import type { CodedError } from '../../lib/util/errors';
import type { ChangeRow, InstanceAnswer, QueryAnswer, QueryRow } from '../../lib/query';
import { secondsText, status } from '../shared/status';

/** RED._ as the node gets it: a key of the node's catalogue and its `__name__` values. */
export type Translate = (key: string, values?: Record<string, string | number>) => string;

/**
 * A coded error of the engine or the registry in the runtime's language (errors.<code> of the
 * node's catalogue). A refused login with a TLS hint has its own wording.
 */
export function errorText(err: CodedError, t: Translate): string {
  const code = err.code === 'ERR_DB_ACCESS_DENIED' && err.facts.tls ? `${err.code}_TLS` : err.code;
  return t(`instance-query.errors.${code}`, err.facts);
}

/** msg.instances as nodes.md gives it: each Instance's error in words. */
export function instancesOut(
  list: InstanceAnswer[],
  t: Translate,
): (Omit<InstanceAnswer, 'error'> & { error: string | null })[] {
  return list.map((i) => ({ ...i, error: i.error ? errorText(i.error, t) : null }));
}

/** msg.payload: the rows, a change row's error in words. */
export function rowsOut(rows: QueryRow[], t: Translate): QueryRow[] {
  return rows.map((r) => {
    const e = (r as Partial<ChangeRow>).error;
    return e ? { ...r, error: errorText(e, t) } : r;
  });
}

/** "2/3 answered · slowest 0.4 s": green when all answered, yellow when some, red when none. */
export function answerStatus(a: QueryAnswer, t: Translate): NodeStatus {
  const asked = a.instances.length;
  if (asked === 0) return status('grey', t('instance-query.status.noInstances'));
  const answered = a.instances.filter((i) => i.ok).length;
  const slowest = Math.max(0, ...a.instances.filter((i) => i.ok).map((i) => i.ms));
  return status(
    answered === asked ? 'green' : answered === 0 ? 'red' : 'yellow',
    t('instance-query.status.answered', { answered, asked, slowest: secondsText(slowest) }),
  );
}
