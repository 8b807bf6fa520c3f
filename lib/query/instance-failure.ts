/**
 * Why one Instance failed a message, as a coded error: a timeout, a database that is not a
 * supported Pandora Instance, a missing grant, a lock, a lost connection; anything else is a
 * connection failure the registry names (ERR_DB_*).
 */
import { connectError, type InstanceFacts } from '../db/errors';
import { reasonOf } from '../util/errors';
import { TimeoutError } from './deadline';
import { QueryError, type QueryCode, type QueryFailure } from './errors';

const BY_SERVER_CODE: Record<string, QueryCode> = {
  ER_NO_SUCH_TABLE: 'ERR_QUERY_SCHEMA',
  ER_BAD_FIELD_ERROR: 'ERR_QUERY_SCHEMA',
  ER_TABLEACCESS_DENIED_ERROR: 'ERR_QUERY_DENIED',
  ER_COLUMNACCESS_DENIED_ERROR: 'ERR_QUERY_DENIED',
  ER_LOCK_WAIT_TIMEOUT: 'ERR_QUERY_LOCKED',
  ER_LOCK_DEADLOCK: 'ERR_QUERY_DEADLOCK',
  PROTOCOL_CONNECTION_LOST: 'ERR_QUERY_CONNECTION_LOST',
  ECONNRESET: 'ERR_QUERY_CONNECTION_LOST',
};

export function instanceFailure(instance: InstanceFacts, err: unknown): QueryFailure {
  const who = { id: instance.id, name: instance.name };
  if (err instanceof TimeoutError) {
    return new QueryError(
      'ERR_QUERY_TIMEOUT',
      { ...who, seconds: (err.ms / 1000).toFixed(1) },
      { cause: err },
    );
  }
  const code = BY_SERVER_CODE[(err as { code?: string } | null)?.code ?? ''];
  if (code) return new QueryError(code, { ...who, message: reasonOf(err) }, { cause: err });
  return connectError(instance, err);
}
