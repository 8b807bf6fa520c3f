/**
 * Pandora FMS's own programs as test peers, run unchanged from a Pandora source tree named by
 * `PANDORA_SOURCE` (a checkout of github.com/pandorafms/pandorafms, or CI's ../shared/peers/pandorafms
 * which holds the same paths): the stock Perl `tentacle_server` and `tentacle_client`, and the Perl
 * `pandora_server` with only its data server on, against a database of the harness's MariaDB loaded
 * with the tree's `pandoradb.sql` and `pandoradb_data.sql`.
 *
 * Without `PANDORA_SOURCE` the suites that need these skip with `PEERS_SKIP` as the reason (under
 * CI=true scripts/test.mjs fails a run with a skip, and CI sets the variable). With it set, a tree
 * that lacks a program, or a Perl that lacks a module, fails loudly instead.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  createReadStream,
  existsSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import type mysql from 'mysql2/promise';
import type { BufferEndpoint } from '../../lib/conf/pandora-conf';
import { generateCertificatesAsync, type CertificateSet } from '../../lib/tls/generate';
import { removeDir, tempDir } from './files';
import { freePort, type PrivateMariaDb } from './mariadb';
import { until } from './wait';

/** The paths this helper uses inside a Pandora source tree. */
export const PANDORA_PATHS = {
  tentacleServer: 'pandora_agents/unix/tentacle_server',
  tentacleClient: 'pandora_agents/unix/tentacle_client',
  pandoraServer: 'pandora_server/bin/pandora_server',
  pandoraLib: 'pandora_server/lib',
  schema: 'pandora_console/pandoradb.sql',
  data: 'pandora_console/pandoradb_data.sql',
} as const;

/** The tree named by PANDORA_SOURCE (resolved against the working directory), or null. */
export function pandoraSource(): string | null {
  const v = process.env.PANDORA_SOURCE;
  return v ? resolve(v) : null;
}

/**
 * The skip reason for a suite of Pandora's own programs (`describe(name, { skip: PEERS_SKIP })`),
 * or false when PANDORA_SOURCE is set.
 */
export const PEERS_SKIP: string | false = pandoraSource()
  ? false
  : "did not run: PANDORA_SOURCE is not set (point it at a checkout of pandorafms/pandorafms to test against Pandora's own tentacle_server, tentacle_client and pandora_server)";

/** The absolute path of a file of the tree; throws naming what is missing. */
export function pandoraPath(key: keyof typeof PANDORA_PATHS): string {
  const root = pandoraSource();
  if (!root) throw new Error('PANDORA_SOURCE is not set');
  const p = join(root, PANDORA_PATHS[key]);
  if (!existsSync(p)) {
    throw new Error(`${p} is missing: PANDORA_SOURCE must be a checkout of pandorafms/pandorafms`);
  }
  return p;
}

/** uid and gid of `nobody`/`nogroup` on Debian: the Tentacle programs refuse to run as root. */
const NOBODY = 65534;
const isRoot = () => process.getuid?.() === 0;

/** A folder the unprivileged peers can read (mkdtemp makes 0700 ones). */
export function peerDir(prefix: string): string {
  const dir = tempDir(prefix);
  chmodSync(dir, 0o755);
  return dir;
}

/** A folder the Tentacle server may write in (owned by nobody when the tests run as root). */
function writableDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  if (isRoot()) chownSync(dir, NOBODY, NOBODY);
  return dir;
}

/** Spawns `perl script args` as nobody when the tests run as root. */
function spawnPerl(script: string, args: string[], cwd?: string): ChildProcess {
  const perl = ['perl', script, ...args];
  const [cmd, ...rest] = isRoot()
    ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...perl]
    : perl;
  return spawn(cmd, rest, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface StockServerOptions {
  /** `-I`: LS and MV (what a Sync server pulls with). Default true. */
  insecure?: boolean;
  /** `-o`: overwrite an existing file. Default true (how a buffer for agents runs). */
  overwrite?: boolean;
  /** `-x` */
  password?: string;
  /** `-e`/`-k` (and `-f` with `ca`): PEM text. */
  tls?: { cert: string; key: string; ca?: string };
  /** `-m` bytes. */
  maxSize?: number;
  /** `-t` seconds. */
  timeout?: number;
  /** `-i` filters. */
  filters?: string;
}

/** The stock Perl tentacle_server on 127.0.0.1, a free port, its own storage folder. */
export class StockTentacleServer {
  private log = '';
  private constructor(
    readonly port: number,
    readonly storage: string,
    private readonly work: string,
    private readonly logFile: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
  }

  static async start(opts: StockServerOptions = {}): Promise<StockTentacleServer> {
    const script = pandoraPath('tentacleServer');
    const work = peerDir('pandora-peer-tentacle-');
    const storage = writableDir(join(work, 'storage'));
    // -V -l: every request as a line of a file, written at once (its stdout would sit in Perl's
    // buffer until it exits).
    const logFile = join(writableDir(join(work, 'log')), 'tentacle_server.log');
    const args = ['-a', '127.0.0.1', '-s', storage, '-V', '-l', logFile];
    if (opts.insecure !== false) args.push('-I');
    if (opts.overwrite !== false) args.push('-o');
    if (opts.password !== undefined) args.push('-x', opts.password);
    if (opts.maxSize !== undefined) args.push('-m', String(opts.maxSize));
    if (opts.timeout !== undefined) args.push('-t', String(opts.timeout));
    if (opts.filters !== undefined) args.push('-i', opts.filters);
    if (opts.tls) {
      const pem = (name: string, text: string) => {
        const p = join(work, name);
        writeFileSync(p, text, { mode: 0o644 });
        return p;
      };
      args.push('-e', pem('server.crt', opts.tls.cert), '-k', pem('server.key', opts.tls.key));
      if (opts.tls.ca) args.push('-f', pem('ca.crt', opts.tls.ca));
    }
    // The port is chosen free then handed over: another process may take it first, so try again.
    let last = '';
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = await freePort();
      const child = spawnPerl(script, [...args, '-p', String(port)]);
      const server = new StockTentacleServer(port, storage, work, logFile, child);
      const gone = () => child.exitCode !== null || child.signalCode !== null;
      // With -l it writes "Server listening on <address> port <port>" to its log once bound.
      const listening = () => server.output().includes(`port ${port}`);
      await until(() => gone() || listening(), 20_000, 50);
      if (listening() && !gone()) return server;
      last = server.output();
      await server.stop(false);
    }
    removeDir(work);
    throw new Error(`the stock tentacle_server did not start:\n${last}`);
  }

  get endpoint(): BufferEndpoint {
    return { host: '127.0.0.1', port: this.port, address: `127.0.0.1:${this.port}` };
  }

  /** Its log (`-V`: a line per request and per error) and what it printed. */
  output(): string {
    let file = '';
    try {
      file = readFileSync(this.logFile, 'utf8');
    } catch {
      // nothing logged yet
    }
    return file + this.log;
  }

  /**
   * The file requests it logged, in order, as `<command> <name>`: `RECV`, `ZRECV`, `MV`, `SEND`,
   * `ZSEND` (each connection is a process of its own that logs as it goes).
   */
  requests(): string[] {
    const kinds: [RegExp, string][] = [
      [/Request to receive compressed file '(.*)' from/, 'ZRECV'],
      [/Request to receive file '(.*)' from/, 'RECV'],
      [/Request to move file '(.*)' from/, 'MV'],
      [/Request to send compressed file '(.*)' size/, 'ZSEND'],
      [/Request to send file '(.*)' size/, 'SEND'],
    ];
    const out: string[] = [];
    for (const line of this.output().split('\n')) {
      for (const [re, cmd] of kinds) {
        const m = re.exec(line);
        if (m) {
          out.push(`${cmd} ${m[1]}`);
          break;
        }
      }
    }
    return out;
  }

  /** Puts a file in its storage as an agent would have sent it. */
  put(name: string, content: Buffer | string): void {
    const p = join(this.storage, name);
    writeFileSync(p, content);
    if (isRoot()) chownSync(p, NOBODY, NOBODY);
  }

  /** Stops it (SIGTERM, SIGKILL after 5 s) and removes its folder (unless `remove` is false). */
  async stop(remove = true): Promise<void> {
    await stopChild(this.child, false);
    if (remove) removeDir(this.work);
  }
}

/** Ends a child (or its process group) with SIGTERM, then SIGKILL after 5 s; resolves once gone. */
async function stopChild(child: ChildProcess, group: boolean): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const pid = child.pid;
  const exited = new Promise((r) => child.once('exit', r));
  const signal = (s: NodeJS.Signals) => {
    try {
      if (group) process.kill(-pid, s);
      else child.kill(s);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
  // Threads or children of a group leader that outlived it.
  if (group) signal('SIGKILL');
}

export interface ClientRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the stock tentacle_client (`-a 127.0.0.1` is its default; pass `-p`); never rejects, so a
 * test can assert on the exit code and message. It runs as the test's user: the client does not
 * refuse root, and it reads the test's files.
 */
export function stockTentacleClient(args: string[], cwd: string): Promise<ClientRun> {
  const script = pandoraPath('tentacleClient');
  return new Promise((done) =>
    execFile('perl', [script, ...args], { cwd, timeout: 60_000 }, (err, stdout, stderr) =>
      done({
        code: err ? (typeof err.code === 'number' ? err.code : 1) : 0,
        stdout: String(stdout),
        stderr: String(stderr).trim(),
      }),
    ),
  );
}

let certificates: Promise<CertificateSet> | null = null;

/**
 * A CA, a server certificate for 127.0.0.1 and a client certificate, made once per test process.
 * 2048-bit keys: the OpenSSL under the Perl programs refuses shorter ones ("ee key too small").
 */
export function peerCertificates(): Promise<CertificateSet> {
  certificates ??= generateCertificatesAsync({ serverNames: ['127.0.0.1', 'localhost'] });
  return certificates;
}

/** The client side's files for the stock client's `-e`, `-k` and `-f`. */
export function clientPemFiles(
  dir: string,
  certs: CertificateSet,
): { cert: string; key: string; ca: string } {
  const files = {
    cert: join(dir, 'client.crt'),
    key: join(dir, 'client.key'),
    ca: join(dir, 'ca.crt'),
  };
  writeFileSync(files.cert, certs.client.cert);
  writeFileSync(files.key, certs.client.key);
  writeFileSync(files.ca, certs.ca.cert);
  return files;
}

/** The MariaDB command-line client that ships with mariadb-server. */
function mysqlClient(): string {
  const found = ['/usr/bin/mariadb', '/usr/bin/mysql'].find((p) => existsSync(p));
  if (!found) throw new Error('the mariadb command-line client is missing (mariadb-client)');
  return found;
}

/** The account pandora_server logs in with (its conf cannot give an empty password). */
export const PANDORA_DB_USER = { user: 'pandora_peer', password: 'pandora_peer' };

/**
 * Creates `database` afresh with the tree's schema and initial data, as an install does. The data
 * file is loaded with `--force`: a few of its INSERTs name tables the schema changed since (at
 * the CI tree's commit, about 44 into `tskin` and `tpolicy_modules`); everything else loads.
 */
export async function loadPandoraDatabase(db: PrivateMariaDb, database: string): Promise<void> {
  await db.freshDatabase(database);
  const c = await db.connect();
  try {
    const { user, password } = PANDORA_DB_USER;
    await c.query(`CREATE USER IF NOT EXISTS ?@'127.0.0.1' IDENTIFIED BY ?`, [user, password]);
    await c.query(`GRANT ALL ON \`${database.replace(/`/g, '``')}\`.* TO ?@'127.0.0.1'`, [user]);
  } finally {
    await c.end();
  }
  await runSqlFile(db, database, pandoraPath('schema'), false);
  await runSqlFile(db, database, pandoraPath('data'), true);
}

function runSqlFile(
  db: PrivateMariaDb,
  database: string,
  file: string,
  force: boolean,
): Promise<void> {
  const args = [
    '--no-defaults',
    `--socket=${db.socket}`,
    '-u',
    db.user,
    '--default-character-set=utf8mb4',
    ...(force ? ['--force'] : []),
    database,
  ];
  return new Promise((ok, fail) => {
    const child = spawn(mysqlClient(), args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', fail);
    child.once('exit', (code) => {
      if (code === 0 || force) ok();
      else fail(new Error(`loading ${file} failed (${String(code)}):\n${err.slice(0, 2000)}`));
    });
    createReadStream(file).pipe(child.stdin);
  });
}

export interface PandoraServerOptions {
  db: PrivateMariaDb;
  /** A database made by `loadPandoraDatabase`. */
  database: string;
  servername?: string;
  /** Seconds between scans of incomingdir (`server_threshold`). Default 1. */
  threshold?: number;
}

/** Every server of pandora_server but the data server, switched off. */
const OTHER_SERVERS = [
  'alertserver',
  'discoveryserver',
  'eventserver',
  'exportserver',
  'icmpserver',
  'inventoryserver',
  'logserver',
  'madeserver',
  'ncmserver',
  'netflowserver',
  'networkserver',
  'pluginserver',
  'predictionserver',
  'provisioningserver',
  'reconserver',
  'snmpconsole',
  'snmpserver',
  'syncserver',
  'syslogserver',
  'webserver',
  'wmiserver',
  'wuxserver',
];

/**
 * The Perl pandora_server, data server only, in its own session (at exit it sends HUP to its own
 * process group). It turns each agent file of `incomingDir` into tagente/tagente_modulo/
 * tagente_estado rows and tevento events, and deletes the file (`<name>_BADXML` when unreadable).
 */
export class PandoraServer {
  private log = '';
  private constructor(
    readonly incomingDir: string,
    readonly servername: string,
    private readonly work: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
  }

  static async start(opts: PandoraServerOptions): Promise<PandoraServer> {
    const script = pandoraPath('pandoraServer');
    const lib = pandoraPath('pandoraLib');
    const work = peerDir('pandora-peer-server-');
    const incomingDir = join(work, 'data_in');
    mkdirSync(incomingDir, { recursive: true });
    mkdirSync(join(work, 'log'));
    const servername = opts.servername ?? `peer-${process.pid}`;
    // A loopback port nobody listens on: without an API URL the server rewrites its conf, adds a
    // console user and calls port 80.
    const apiPort = await freePort();
    const conf = [
      'dbengine mysql',
      `dbname ${opts.database}`,
      `dbuser ${PANDORA_DB_USER.user}`,
      `dbpass ${PANDORA_DB_USER.password}`,
      `dbhost ${opts.db.host}`,
      `dbport ${opts.db.port}`,
      `incomingdir ${incomingDir}`,
      `servername ${servername}`,
      `log_file ${join(work, 'log', 'pandora_server.log')}`,
      `errorlog_file ${join(work, 'log', 'pandora_server.error')}`,
      `snmp_logfile ${join(work, 'log', 'snmp.log')}`,
      `console_api_url http://127.0.0.1:${apiPort}/include/api.php`,
      'console_api_pass peer',
      'console_user peer',
      'console_pass peer',
      `ha_hosts_file ${join(work, 'ha_hosts')}`,
      'dataserver 1',
      ...OTHER_SERVERS.map((s) => `${s} 0`),
      'self_monitoring 0',
      'remote_config 0',
      `server_threshold ${opts.threshold ?? 1}`,
      'verbosity 1',
      '',
    ].join('\n');
    const confPath = join(work, 'pandora_server.conf');
    writeFileSync(confPath, conf);
    const child = spawn('perl', ['-I', lib, script, confPath], {
      cwd: work,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new PandoraServer(incomingDir, servername, work, child);
    const gone = () => child.exitCode !== null || child.signalCode !== null;
    const c = await opts.db.connect(opts.database);
    try {
      await until(
        async () => {
          if (gone()) return true;
          const [rows] = await c.query<mysql.RowDataPacket[]>(
            'SELECT 1 FROM tserver WHERE name = ? AND server_type = 0 AND status = 1',
            [servername],
          );
          return rows.length > 0;
        },
        60_000,
        200,
      );
      const [rows] = await c.query<mysql.RowDataPacket[]>(
        'SELECT 1 FROM tserver WHERE name = ? AND server_type = 0 AND status = 1',
        [servername],
      );
      if (gone() || rows.length === 0) {
        await server.stop(false);
        throw new Error(`pandora_server did not start its data server:\n${server.log}`);
      }
    } finally {
      await c.end();
    }
    return server;
  }

  /** What it printed, and its log files' folder. */
  output(): string {
    return this.log;
  }

  get logDir(): string {
    return join(this.work, 'log');
  }

  /** Stops its whole process group and removes its folder. */
  async stop(remove = true): Promise<void> {
    await stopChild(this.child, true);
    if (remove) removeDir(this.work);
  }
}

/** A Command Center and one Instance of Pandora's own schema, with the Instance's pandora_server. */
export interface PandoraSite {
  server: PandoraServer;
  /** Connections to the Instance's and the Command Center's databases. */
  node: mysql.Connection;
  cc: mysql.Connection;
}

/**
 * Loads both databases from the tree, registers the Instance as node 1 in the Command Center's
 * `tmetaconsole_setup` (as the console's setup writes it) and starts its pandora_server as
 * `node-1`: the site every end-to-end test against Pandora's programs starts from.
 */
export async function startPandoraSite(
  db: PrivateMariaDb,
  instance: string,
  commandCenter: string,
): Promise<PandoraSite> {
  await Promise.all([loadPandoraDatabase(db, instance), loadPandoraDatabase(db, commandCenter)]);
  const node = await db.connect(instance);
  const cc = await db.connect(commandCenter);
  await cc.query(
    `INSERT INTO tmetaconsole_setup (id, server_name, server_uid, dbuser, dbpass, dbhost, dbport, dbname, disabled)
     VALUES (1, 'node-1', 'node-1', ?, ?, ?, ?, ?, 0)`,
    [db.user, db.password, db.host, String(db.port), instance],
  );
  const server = await PandoraServer.start({ db, database: instance, servername: 'node-1' });
  return { server, node, cc };
}
