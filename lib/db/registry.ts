/**
 * The Command Center's node registry: the enabled rows of `tmetaconsole_setup` (or the ids a node
 * names), each with its own lazily opened pool, re-read when the registry changes.
 */
import type { RowDataPacket } from 'mysql2';
import { RegistryError } from './errors';
import { createPool, DbFacts, Pool, PoolTuning } from './pool';
import { registryWords } from './registry-words';
import { dbSsl, sslOf } from './tls';

export { connectError, looksEncrypted, RegistryError, type RegistryCode } from './errors';
export { explainConnectError, registryWords } from './registry-words';

export interface Instance {
  /** `tmetaconsole_setup.id`: the node id everywhere (tsync_queue.target, events' server_id). */
  id: number;
  name: string;
  /** The node has been merged into the centralised environment (`unified = 1`). */
  unified: boolean;
  facts: DbFacts;
  pool: Pool;
}

/** A registry row that cannot be used: its coded reason, and (for the engines that still report
 * sentences) those words. */
export interface RegistryProblem {
  id: number;
  name: string;
  error: RegistryError;
  /** registryWords(error): kept for events and replicate, which report it as it is. */
  message: string;
}

function problem(id: number, name: string, error: RegistryError): RegistryProblem {
  return { id, name, error, message: registryWords(error) };
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
        problems.push(
          problem(id, name, new RegistryError('ERR_DB_INSTANCE_DISABLED', { id, name })),
        );
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
      const name = `node ${missing}`;
      problems.push(
        problem(missing, name, new RegistryError('ERR_DB_INSTANCE_MISSING', { id: missing, name })),
      );
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
