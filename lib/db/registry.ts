/**
 * The Command Center's node registry: the enabled rows of `tmetaconsole_setup` (or the ids a node
 * names), each with its own lazily opened pool, re-read when the registry changes.
 */
import type { RowDataPacket } from 'mysql2';
import { createPool, describeDb, DbFacts, Pool, PoolTuning } from './pool';
import { dbSsl, sslOf, tlsHint } from './tls';

export interface Instance {
  /** `tmetaconsole_setup.id`: the node id everywhere (tsync_queue.target, events' server_id). */
  id: number;
  name: string;
  /** The node has been merged into the centralised environment (`unified = 1`). */
  unified: boolean;
  facts: DbFacts;
  pool: Pool;
}

/** A registry row that cannot be used, with the reason in words an administrator can act on. */
export interface RegistryProblem {
  id: number;
  name: string;
  message: string;
}

interface SetupRow {
  id: number | string;
  server_name: string | null;
  dbhost: string | null;
  dbport: string | null;
  dbname: string | null;
  dbuser: string | null;
  dbpass: string | null;
  disabled: number | string;
  unified: number | string;
}

export interface RegistryOptions {
  /** Only these ids (the node's `instances` property); empty = every enabled row. */
  ids?: number[];
  tuning?: PoolTuning;
}

function sameFacts(a: DbFacts, b: DbFacts): boolean {
  return (
    a.host === b.host &&
    a.port === b.port &&
    a.database === b.database &&
    a.user === b.user &&
    a.password === b.password &&
    a.ssl === b.ssl
  );
}

function sameSsl(a: NonNullable<DbFacts['ssl']>, b: NonNullable<DbFacts['ssl']>): boolean {
  return (
    a.ca === b.ca &&
    a.cert === b.cert &&
    a.key === b.key &&
    a.verifyIdentity === b.verifyIdentity &&
    a.rejectUnauthorized === b.rejectUnauthorized
  );
}

/**
 * Pandora stores `dbpass` through io_input_password, encrypted when the console has an encryption
 * passphrase: base64 of the cipher text. We cannot decrypt it, so when a login fails and the
 * stored value has that shape, say so instead of reporting a bare "access denied".
 */
export function looksEncrypted(password: string): boolean {
  return (
    password.length >= 24 && password.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(password)
  );
}

/** Turns a connection failure into a message that names the instance and the likely cause. */
export function explainConnectError(
  instance: Pick<Instance, 'id' | 'name' | 'facts'>,
  err: unknown,
): string {
  const e = err as { code?: string; message?: string };
  const where = `instance ${instance.id} (${instance.name}) at ${describeDb(instance.facts)}`;
  switch (e.code) {
    case 'ER_ACCESS_DENIED_ERROR': {
      const tls = tlsHint(err, instance.facts.ssl !== undefined);
      return looksEncrypted(instance.facts.password)
        ? `${where}: access denied; its dbpass in tmetaconsole_setup looks encrypted with Pandora's encryption_passphrase, which this package does not support: store the password unencrypted`
        : `${where}: access denied: check dbuser/dbpass in tmetaconsole_setup${tls ? `; ${tls}` : ''}`;
    }
    case 'ER_BAD_DB_ERROR':
      return `${where}: database "${instance.facts.database}" does not exist`;
    case 'ECONNREFUSED':
      return `${where}: connection refused (is MySQL running and listening on that port?)`;
    case 'ETIMEDOUT':
      return `${where}: connection timed out`;
    case 'ENOTFOUND':
      return `${where}: unknown host "${instance.facts.host}"`;
    default:
      return `${where}: ${e.message ?? String(err)}`;
  }
}

export class InstanceRegistry {
  private current = new Map<number, Instance>();
  private problems: RegistryProblem[] = [];

  constructor(
    private readonly cc: Pool,
    private readonly options: RegistryOptions = {},
  ) {}

  /** The usable instances as last read. */
  instances(): Instance[] {
    return [...this.current.values()];
  }

  /** Rows that could not be turned into an instance, as last read. */
  lastProblems(): RegistryProblem[] {
    return this.problems;
  }

  /**
   * Re-reads the registry: opens pools for new rows, replaces the pool of a row whose connection
   * facts changed, and closes pools of rows that went away or were disabled.
   */
  async refresh(): Promise<Instance[]> {
    const ids = this.options.ids ?? [];
    const [rows] = await this.cc.query<(SetupRow & RowDataPacket)[]>(
      ids.length > 0
        ? 'SELECT id, server_name, dbhost, dbport, dbname, dbuser, dbpass, disabled, unified FROM tmetaconsole_setup WHERE id IN (?) ORDER BY id'
        : 'SELECT id, server_name, dbhost, dbport, dbname, dbuser, dbpass, disabled, unified FROM tmetaconsole_setup WHERE disabled = 0 ORDER BY id',
      ids.length > 0 ? [ids] : [],
    );

    const next = new Map<number, Instance>();
    const problems: RegistryProblem[] = [];
    for (const row of rows) {
      const id = Number(row.id);
      const name = row.server_name ?? `node ${id}`;
      if (Number(row.disabled) !== 0) {
        problems.push({
          id,
          name,
          message: `instance ${id} (${name}) is disabled in tmetaconsole_setup`,
        });
        continue;
      }
      const port = Number(row.dbport ?? '3306') || 3306;
      const facts: DbFacts = {
        host: row.dbhost ?? '127.0.0.1',
        port,
        database: row.dbname ?? 'pandora',
        user: row.dbuser ?? 'pandora',
        password: row.dbpass ?? '',
      };
      // pandora-config's dbTls covers the Instances too: they are reached as the Command Center is.
      const tls = sslOf(this.cc);
      const old = this.current.get(id);
      if (tls) {
        const ssl = dbSsl(tls, facts.host);
        // The same options object while nothing changed, so that the pool is kept.
        facts.ssl = old?.facts.ssl && sameSsl(old.facts.ssl, ssl) ? old.facts.ssl : ssl;
      }
      if (old && sameFacts(old.facts, facts)) {
        next.set(id, { ...old, name, unified: Number(row.unified) === 1 });
      } else {
        next.set(id, {
          id,
          name,
          unified: Number(row.unified) === 1,
          facts,
          pool: createPool(facts, this.options.tuning),
        });
      }
    }
    for (const missing of ids.filter((id) => !rows.some((r) => Number(r.id) === id))) {
      problems.push({
        id: missing,
        name: `node ${missing}`,
        message: `instance ${missing} is not in tmetaconsole_setup`,
      });
    }
    const closing: Promise<void>[] = [];
    for (const [id, old] of this.current) {
      if (next.get(id)?.pool !== old.pool) closing.push(old.pool.end().catch(() => {}));
    }
    this.current = next;
    this.problems = problems;
    await Promise.all(closing);
    return this.instances();
  }

  /** Closes every instance pool (not the Command Center's, which its owner closes). */
  async close(): Promise<void> {
    const pools = [...this.current.values()].map((i) => i.pool.end().catch(() => {}));
    this.current.clear();
    await Promise.all(pools);
  }
}
