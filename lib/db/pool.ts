/**
 * mysql2 pools as every database piece of the package opens them: big ids as strings (Pandora's
 * ids are BIGINT UNSIGNED), utf8mb4, one statement per query, dates as the server wrote them.
 */
import mysql from 'mysql2/promise';
import { explainTlsErrors, rememberSsl, type SslOptions } from './tls';
import { FirstReachable, parseHostList } from './host-list';

export interface DbFacts {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  /** MySQL over TLS (pandora-config dbTls, see dbSsl in ./tls); absent: plain TCP. */
  ssl?: SslOptions;
}

export interface PoolTuning {
  connectionLimit?: number;
  connectTimeoutMs?: number;
}

export type Pool = mysql.Pool;
export type PoolConnection = mysql.PoolConnection;

/** Opens a pool lazily (no connection is made until the first query). */
export function createPool(facts: DbFacts, tuning: PoolTuning = {}): Pool {
  // `host[:port],host[:port]`: each new connection goes to the first of them that accepts.
  const hosts = facts.host.includes(',') ? parseHostList(facts.host, facts.port) : null;
  const connectTimeout = tuning.connectTimeoutMs ?? 5000;
  const pool = mysql.createPool({
    ...(hosts
      ? { stream: () => new FirstReachable(hosts, Math.max(500, connectTimeout / hosts.length)) }
      : {}),
    host: facts.host,
    port: facts.port,
    database: facts.database,
    user: facts.user,
    password: facts.password,
    connectionLimit: tuning.connectionLimit ?? 4,
    connectTimeout,
    waitForConnections: true,
    queueLimit: 0,
    enableKeepAlive: true,
    charset: 'utf8mb4',
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    multipleStatements: false,
    ssl: facts.ssl,
  });
  rememberSsl(pool, facts.ssl);
  explainTlsErrors(pool.pool, facts.ssl !== undefined);
  // An idle connection that dies (server restart) emits 'error' on the pool in some mysql2
  // versions; without a listener that would crash Node-RED. The listener goes on the core pool:
  // the promise wrapper does not pass 'error' on.
  pool.pool.on('error', () => {});
  return pool;
}

/** Where a pool points, for messages: never the password. */
export function describeDb(facts: DbFacts): string {
  return `${facts.user}@${facts.host}:${facts.port}/${facts.database}`;
}
