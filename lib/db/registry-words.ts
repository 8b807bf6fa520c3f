/**
 * English words for the registry's coded errors, for the engines that still report sentences
 * (events: instance-worker.ts, puller.ts; replicate: replicator.ts). They read
 * `RegistryProblem.message` and `explainConnectError`; once they word `RegistryError` codes from
 * their node's catalogue, this file goes. instance-query and agent-cache word the codes from
 * their own catalogues (errors.ERR_DB_*) and do not use it.
 */
import { connectError, RegistryError, type InstanceFacts } from './errors';

/** The sentence a registry failure read as before it had a code. */
export function registryWords(err: RegistryError): string {
  const f = err.facts;
  const where = `instance ${f.id} (${f.name}) at ${f.where}`;
  switch (err.code) {
    case 'ERR_DB_INSTANCE_DISABLED':
      return `instance ${f.id} (${f.name}) is disabled in tmetaconsole_setup`;
    case 'ERR_DB_INSTANCE_MISSING':
      return `instance ${f.id} is not in tmetaconsole_setup`;
    case 'ERR_DB_PASSWORD_ENCRYPTED':
      return `${where}: access denied; its dbpass in tmetaconsole_setup looks encrypted with Pandora's encryption_passphrase, which this package does not support: store the password unencrypted`;
    case 'ERR_DB_ACCESS_DENIED':
      return `${where}: access denied: check dbuser/dbpass in tmetaconsole_setup${f.tls ? `; ${f.tls}` : ''}`;
    case 'ERR_DB_UNKNOWN_DATABASE':
      return `${where}: database "${f.database}" does not exist`;
    case 'ERR_DB_REFUSED':
      return `${where}: connection refused (is MySQL running and listening on that port?)`;
    case 'ERR_DB_TIMEOUT':
      return `${where}: connection timed out`;
    case 'ERR_DB_UNKNOWN_HOST':
      return `${where}: unknown host "${f.host}"`;
    case 'ERR_DB_CONNECT':
      return `${where}: ${f.message}`;
  }
}

/** A connection failure in words that name the instance and the likely cause. */
export function explainConnectError(instance: InstanceFacts, err: unknown): string {
  return registryWords(connectError(instance, err));
}
