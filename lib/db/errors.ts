/**
 * The Instance registry's failures: a row that cannot be used, and an Instance that cannot be
 * reached. A code and the facts (never a sentence); each node words them from its catalogue
 * (`errors.<code>`), the engines not yet moved to codes through ./registry-words.
 */
import { CodedError, type ErrorFacts } from '../util/errors';
import { describeDb, type DbFacts } from './pool';
import { tlsHint } from './tls';

export type RegistryCode =
  /** The row is disabled in tmetaconsole_setup (`id`, `name`). */
  | 'ERR_DB_INSTANCE_DISABLED'
  /** A listed id has no row in tmetaconsole_setup (`id`). */
  | 'ERR_DB_INSTANCE_MISSING'
  /** The login was refused (`id`, `name`, `where`, `tls`: a TLS hint or ''). */
  | 'ERR_DB_ACCESS_DENIED'
  /** Refused, and the stored dbpass looks encrypted by the console (`id`, `name`, `where`). */
  | 'ERR_DB_PASSWORD_ENCRYPTED'
  /** The database does not exist (`id`, `name`, `where`, `database`). */
  | 'ERR_DB_UNKNOWN_DATABASE'
  /** Nothing listens there (`id`, `name`, `where`). */
  | 'ERR_DB_REFUSED'
  /** The connection timed out (`id`, `name`, `where`). */
  | 'ERR_DB_TIMEOUT'
  /** The host name does not resolve (`id`, `name`, `where`, `host`). */
  | 'ERR_DB_UNKNOWN_HOST'
  /** Any other failure (`id`, `name`, `where`, `message`: the server's or the system's words). */
  | 'ERR_DB_CONNECT';

export class RegistryError extends CodedError<RegistryCode> {
  constructor(code: RegistryCode, facts: ErrorFacts = {}, options?: { cause?: unknown }) {
    super(code, facts, options);
    this.name = 'RegistryError';
  }
}

/**
 * Pandora stores `dbpass` through io_input_password, encrypted when the console has an encryption
 * passphrase: base64 of the cipher text. We cannot decrypt it, so when a login fails and the
 * stored value has that shape, that is the likely cause.
 */
export function looksEncrypted(password: string): boolean {
  return (
    password.length >= 24 && password.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(password)
  );
}

/** What an Instance is known by in a failure. */
export interface InstanceFacts {
  id: number;
  name: string;
  facts: DbFacts;
}

/** A connection failure of an Instance as a coded error naming the Instance and the likely cause. */
export function connectError(instance: InstanceFacts, err: unknown): RegistryError {
  const e = err as { code?: string };
  const facts = {
    id: instance.id,
    name: instance.name,
    where: describeDb(instance.facts),
  };
  const coded = (code: RegistryCode, more: ErrorFacts = {}) =>
    new RegistryError(code, { ...facts, ...more }, { cause: err });
  switch (e?.code) {
    case 'ER_ACCESS_DENIED_ERROR':
      return looksEncrypted(instance.facts.password)
        ? coded('ERR_DB_PASSWORD_ENCRYPTED')
        : coded('ERR_DB_ACCESS_DENIED', { tls: tlsHint(err, instance.facts.ssl !== undefined) });
    case 'ER_BAD_DB_ERROR':
      return coded('ERR_DB_UNKNOWN_DATABASE', { database: instance.facts.database });
    case 'ECONNREFUSED':
      return coded('ERR_DB_REFUSED');
    case 'ETIMEDOUT':
      return coded('ERR_DB_TIMEOUT');
    case 'ENOTFOUND':
      return coded('ERR_DB_UNKNOWN_HOST', { host: instance.facts.host });
    default:
      return coded('ERR_DB_CONNECT', {
        message: (err as { message?: string } | null)?.message ?? String(err),
      });
  }
}
