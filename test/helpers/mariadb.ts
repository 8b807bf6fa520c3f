/**
 * A private MariaDB server for tests, benchmarks and the demo: its own datadir, loopback only,
 * a free random port, started from Debian's `mariadbd`. Never skipped: a machine without
 * MariaDB fails loudly, because every database promise is tested against the real server.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { until } from './wait';

const run = promisify(execFile);

const MARIADBD_CANDIDATES = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld', '/usr/bin/mariadbd'];
const INSTALL_DB_CANDIDATES = ['/usr/bin/mariadb-install-db', '/usr/bin/mysql_install_db'];

function firstExisting(paths: string[], what: string): string {
  const found = paths.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `${what} not found (looked in ${paths.join(', ')}): install Debian's mariadb-server ` +
        '(.ci/run does this) to run the database tests',
    );
  }
  return found;
}

/** A port nobody listens on right now, chosen by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** The server's own TLS material (PEM paths), as mariadbd's --ssl-ca/--ssl-cert/--ssl-key take it. */
export interface MariaDbTls {
  ca: string;
  cert: string;
  key: string;
  /** require_secure_transport=ON: TCP clients without TLS are refused. */
  requireSecureTransport?: boolean;
}

export interface MariaDbOptions {
  /** Keep the datadir here across runs (the demo); default: a fresh temp dir removed on stop. */
  dir?: string;
  port?: number;
  /** Serve TLS with this material (default: no TLS, as before). */
  tls?: MariaDbTls;
  /** More server options (a Galera node's wsrep settings: test/helpers/galera.ts). */
  args?: string[];
}

export interface ConnectionFacts {
  host: string;
  port: number;
  user: string;
  password: string;
  /** A TLS server only: how the helper and fixtures reach it (verified against its CA). */
  ssl?: { ca: string; rejectUnauthorized: true };
}

export class PrivateMariaDb {
  readonly dir: string;
  readonly host = '127.0.0.1';
  readonly user = 'root';
  readonly password = '';
  port = 0;
  private child: ChildProcess | null = null;
  private readonly temporary: boolean;
  /** More server options for the next start (see MariaDbOptions.args). */
  args: string[];

  constructor(private readonly options: MariaDbOptions = {}) {
    this.temporary = !options.dir;
    this.args = options.args ?? [];
    this.dir = options.dir ?? mkdtempSync(join(tmpdir(), 'pandora-sync-mariadb-'));
  }

  get socket(): string {
    return join(this.dir, 'mariadb.sock');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get facts(): ConnectionFacts {
    const facts: ConnectionFacts = {
      host: this.host,
      port: this.port,
      user: this.user,
      password: this.password,
    };
    // A TLS server is reached over TLS by the helper and the fixtures (require_secure_transport
    // refuses anything else); a plain server's facts are as they always were.
    const tls = this.options.tls;
    if (tls) facts.ssl = { ca: readFileSync(tls.ca, 'utf8'), rejectUnauthorized: true };
    return facts;
  }

  /** Initialises the datadir when it is new, then starts the server and waits until it answers. */
  async start(): Promise<this> {
    const mariadbd = firstExisting(MARIADBD_CANDIDATES, 'mariadbd');
    const datadir = join(this.dir, 'data');
    // A private tmpdir: servers started side by side must never share temporary table files
    // (seen: one bootstrap failing on a `#sql-temptable` file gone from the shared /tmp).
    const tmp = join(this.dir, 'tmp');
    mkdirSync(tmp, { recursive: true });
    if (!existsSync(join(datadir, 'mysql'))) {
      mkdirSync(datadir, { recursive: true });
      const installDb = firstExisting(INSTALL_DB_CANDIDATES, 'mariadb-install-db');
      await run(installDb, [
        '--no-defaults',
        `--datadir=${datadir}`,
        `--tmpdir=${tmp}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        '--user=root',
      ]);
    }
    if (!this.port) this.port = this.options.port ?? (await freePort());
    const args = [
      '--no-defaults',
      `--datadir=${datadir}`,
      `--socket=${this.socket}`,
      `--tmpdir=${tmp}`,
      `--port=${this.port}`,
      '--bind-address=127.0.0.1',
      '--user=root',
      '--skip-name-resolve',
      '--skip-log-bin',
      '--innodb-buffer-pool-size=128M',
      '--innodb-log-file-size=64M',
      '--max-connections=500',
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_unicode_ci',
      `--pid-file=${join(this.dir, 'mariadb.pid')}`,
      `--log-error=${join(this.dir, 'error.log')}`,
      ...this.args,
    ];
    const tls = this.options.tls;
    if (tls) {
      args.push(`--ssl-ca=${tls.ca}`, `--ssl-cert=${tls.cert}`, `--ssl-key=${tls.key}`);
      if (tls.requireSecureTransport) args.push('--require-secure-transport=ON');
    }
    const child = spawn(mariadbd, args, { stdio: 'ignore' });
    this.child = child;
    const exited = new Promise<never>((_, reject) => {
      child.once('exit', (code, signal) =>
        reject(
          new Error(
            `mariadbd exited during start (code ${code}, signal ${signal}); see ${this.dir}/error.log`,
          ),
        ),
      );
    });
    await Promise.race([this.waitReady(), exited]);
    child.removeAllListeners('exit');
    return this;
  }

  private async waitReady(): Promise<void> {
    let last: unknown;
    const ready = await until(
      async () => {
        try {
          const c = await mysql.createConnection({ ...this.facts, connectTimeout: 1000 });
          await c.end();
          return true;
        } catch (err) {
          last = err;
          return false;
        }
      },
      30_000,
      30,
    );
    if (!ready) throw new Error(`mariadbd did not answer within 30 s: ${String(last)}`);
  }

  /** Stops the server (SIGTERM: a clean shutdown, or SIGKILL: a crash) and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  /** Stops and starts again on the same port and datadir: an outage as clients see it. */
  async restart(downMs = 0, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.stop(signal);
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.start();
  }

  /** Stops the server and, for a temporary one, removes its datadir. */
  async destroy(): Promise<void> {
    await this.stop();
    if (this.temporary) rmSync(this.dir, { recursive: true, force: true });
  }

  /** A connection to the server (optionally to one database), for test setup and checks. */
  async connect(database?: string): Promise<mysql.Connection> {
    return mysql.createConnection({
      ...this.facts,
      database,
      supportBigNumbers: true,
      bigNumberStrings: true,
      charset: 'utf8mb4',
    });
  }

  /** Drops and recreates a database. */
  async freshDatabase(name: string): Promise<void> {
    const c = await this.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS \`${name.replace(/`/g, '``')}\``);
      await c.query(
        `CREATE DATABASE \`${name.replace(/`/g, '``')}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
      );
    } finally {
      await c.end();
    }
  }
}

/** Starts a temporary server; the caller destroys it in its `after` hook. */
export async function startMariaDb(options: MariaDbOptions = {}): Promise<PrivateMariaDb> {
  return new PrivateMariaDb(options).start();
}
