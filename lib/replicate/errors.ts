/**
 * metaconsole-replicate's failures: a code and the facts, never a sentence. The node words them
 * from its catalogue (locales/<lang>/metaconsole-replicate.json, `errors.<code>`); `message` is
 * only the code and the facts, for logs outside Node-RED.
 */
import { describeDb, type DbFacts } from '../db/pool';
import { looksEncrypted } from '../db/registry';
import { tlsHint } from '../db/tls';
import { CodedError, reasonOf, type ErrorFacts } from '../util/errors';

export type ReplicateCode =
  /** The engine was closed (`reason`); every call after close() fails with this. */
  | 'ERR_REPLICATE_CLOSED'
  /** An option or node property out of range (`name`, `value`, `min`, `max`). */
  | 'ERR_REPLICATE_OPTION'
  /** `objects` names kinds that do not exist (`unknown`, `known`). */
  | 'ERR_REPLICATE_OBJECTS'
  /** `ccDbAddress` is not host or host:port (`text`). */
  | 'ERR_REPLICATE_ADDRESS_FORM'
  /** `ccDbAddress`'s host is not a host name or address (`text`, `host`). */
  | 'ERR_REPLICATE_ADDRESS_HOST'
  /** `ccDbAddress`'s port is not 1-65535 (`text`). */
  | 'ERR_REPLICATE_ADDRESS_PORT'
  /** The Command Center database failed (`message`: the server's words). */
  | 'ERR_REPLICATE_CC'
  /** A registry row cannot be used (`id`, `name`, `message` from the registry). */
  | 'ERR_REPLICATE_REGISTRY'
  /** An Instance's database failed (`id`, `name`, `at`, `message`). */
  | 'ERR_REPLICATE_INSTANCE'
  /** Its login was refused (`id`, `name`, `at`, `hint`: '; ' and the TLS advice, or ''). */
  | 'ERR_REPLICATE_INSTANCE_DENIED'
  /** Its login was refused and its dbpass looks encrypted by Pandora (`id`, `name`, `at`). */
  | 'ERR_REPLICATE_INSTANCE_ENCRYPTED'
  /** Its database does not exist (`id`, `name`, `at`, `database`). */
  | 'ERR_REPLICATE_INSTANCE_NO_DATABASE'
  /** Connection refused (`id`, `name`, `at`). */
  | 'ERR_REPLICATE_INSTANCE_REFUSED'
  /** Connection timed out (`id`, `name`, `at`). */
  | 'ERR_REPLICATE_INSTANCE_TIMEOUT'
  /** Unknown host (`id`, `name`, `at`, `host`). */
  | 'ERR_REPLICATE_INSTANCE_UNKNOWN_HOST'
  /** A queue item with an empty `table` column (`item`). */
  | 'ERR_REPLICATE_ITEM_NO_TABLE'
  /** A queue item whose statement the check refuses (`item`, `refusal`: the check's reason). */
  | 'ERR_REPLICATE_ITEM_STATEMENT'
  /** A queue item writing a table that is not centrally managed (`item`, `table`). */
  | 'ERR_REPLICATE_ITEM_UNMANAGED'
  /** A queue item whose `table` column differs from what it writes (`item`, `declared`, `table`). */
  | 'ERR_REPLICATE_ITEM_TABLE_MISMATCH'
  /** A queue item for a table the Instance lacks (`item`, `table`). */
  | 'ERR_REPLICATE_ITEM_MISSING_TABLE'
  /** A queue item's statement failed on the Instance (`item`, `instance`, `message`). */
  | 'ERR_REPLICATE_ITEM_FAILED'
  /** A named operation, left in the queue (`item`, `operation`). */
  | 'ERR_REPLICATE_NAMED_OPERATION'
  /** The same, carrying something an operator needs (`item`, `operation`, `carries`). */
  | 'ERR_REPLICATE_NAMED_OPERATION_CARRYING'
  /** skip: `id` is not a tsync_queue id. */
  | 'ERR_REPLICATE_SKIP_ID'
  /** skip: no such item (`id`). */
  | 'ERR_REPLICATE_SKIP_NOT_QUEUED'
  /** skip: the item is for a node this engine does not replicate (`id`, `target`). */
  | 'ERR_REPLICATE_SKIP_OTHER_NODE'
  /** A synchronized table is missing on one side (`table`, `side`: cc or instance). */
  | 'ERR_REPLICATE_TABLE_MISSING'
  /** No tconfig table: not a Pandora database. */
  | 'ERR_REPLICATE_NOT_PANDORA'
  /** merge without the Command Center database facts. */
  | 'ERR_REPLICATE_NO_CC_FACTS'
  /** The Command Center's dbHost is loopback and no ccDbAddress names another (`host`). */
  | 'ERR_REPLICATE_CC_LOOPBACK'
  /** The replication_db* tokens would not reach the CC database (`at`, `message`). */
  | 'ERR_REPLICATE_CC_UNREACHABLE';

export class ReplicateError extends CodedError<ReplicateCode> {
  constructor(code: ReplicateCode, facts: ErrorFacts = {}, options?: { cause?: unknown }) {
    super(code, facts, options);
    this.name = 'ReplicateError';
  }
}

/** An Instance as its failures name it. */
export interface InstancePlace {
  id: number;
  name: string;
  facts: DbFacts;
}

/** The TLS advice after a refused login, as a clause to append ('' when none applies). */
function denialHint(err: unknown, facts: DbFacts): string {
  const tls = tlsHint(err, facts.ssl !== undefined);
  return tls ? `; ${tls}` : '';
}

/**
 * A failure met while working one Instance, coded by what the administrator can act on. A coded
 * failure (a refused item, a missing table) is kept as it is.
 */
export function instanceError(inst: InstancePlace, err: unknown): ReplicateError {
  if (err instanceof ReplicateError) return err;
  const where = { id: inst.id, name: inst.name, at: describeDb(inst.facts) };
  const code = (err as { code?: string } | null)?.code;
  const made = (c: ReplicateCode, more: ErrorFacts = {}) =>
    new ReplicateError(c, { ...where, ...more }, { cause: err });
  switch (code) {
    case 'ER_ACCESS_DENIED_ERROR':
      return looksEncrypted(inst.facts.password)
        ? made('ERR_REPLICATE_INSTANCE_ENCRYPTED')
        : made('ERR_REPLICATE_INSTANCE_DENIED', { hint: denialHint(err, inst.facts) });
    case 'ER_BAD_DB_ERROR':
      return made('ERR_REPLICATE_INSTANCE_NO_DATABASE', { database: inst.facts.database });
    case 'ECONNREFUSED':
      return made('ERR_REPLICATE_INSTANCE_REFUSED');
    case 'ETIMEDOUT':
      return made('ERR_REPLICATE_INSTANCE_TIMEOUT');
    case 'ENOTFOUND':
      return made('ERR_REPLICATE_INSTANCE_UNKNOWN_HOST', { host: inst.facts.host });
    default:
      return made('ERR_REPLICATE_INSTANCE', { message: reasonOf(err) });
  }
}

/** A Command Center failure, coded (a coded one kept as it is). */
export function ccError(err: unknown): ReplicateError {
  if (err instanceof ReplicateError) return err;
  return new ReplicateError('ERR_REPLICATE_CC', { message: reasonOf(err) }, { cause: err });
}
