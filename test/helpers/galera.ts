/**
 * A three-node MariaDB Galera cluster on loopback for tests: Debian's galera-4 provider
 * (`/usr/lib/galera/libgalera_smm.so`, installed with mariadb-server), each node a
 * PrivateMariaDb (test/helpers/mariadb.ts) with its own datadir, SQL port and group port.
 *
 * The first node bootstraps the cluster; the others join it and receive its state by rsync
 * (SST), each on its own ports. A node stopped and started again catches up by IST.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { freePort, PrivateMariaDb } from './mariadb';
import { until } from './wait';

export const GALERA_PROVIDER = '/usr/lib/galera/libgalera_smm.so';
/** Debian's `nobody` / `nogroup`: who rsync's daemon writes as when started by root. */
const NOBODY = 65534;

interface NodePorts {
  sql: number;
  group: number;
  ist: number;
  sst: number;
}

export class GaleraCluster {
  readonly nodes: PrivateMariaDb[] = [];
  private readonly ports: NodePorts[] = [];

  private constructor(readonly dir: string) {}

  /** Starts a cluster of `size` nodes (default 3) and waits until every node is synced. */
  static async start(size = 3): Promise<GaleraCluster> {
    if (!existsSync(GALERA_PROVIDER)) {
      throw new Error(
        `${GALERA_PROVIDER} not found: install Debian's galera-4 (comes with mariadb-server)`,
      );
    }
    const c = new GaleraCluster(mkdtempSync(join(tmpdir(), 'pandora-sync-galera-')));
    try {
      await c.boot(size);
    } catch (err) {
      // Nothing left running or on disk by a start that failed halfway.
      await c.destroy();
      throw err;
    }
    return c;
  }

  private async boot(size: number): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the steps read as before
    const c = this;
    for (let i = 0; i < size; i++) {
      c.ports.push({
        sql: await freePort(),
        group: await freePort(),
        ist: await freePort(),
        sst: await freePort(),
      });
    }
    for (let i = 0; i < size; i++) {
      const node = new PrivateMariaDb({ dir: join(c.dir, `node${i + 1}`), port: c.ports[i].sql });
      node.port = c.ports[i].sql;
      c.nodes.push(node);
    }
    // The first node bootstraps the cluster; the others receive its state by rsync, whose
    // daemon (started as root) writes as `nobody`: their datadirs are open to it.
    chmodSync(c.dir, 0o755);
    const first = c.nodes[0];
    first.args = c.wsrepArgs(0, true);
    await first.start();
    for (let i = 1; i < size; i++) {
      const n = c.nodes[i];
      // An empty `mysql` folder: PrivateMariaDb initialises no datadir, the state comes by SST.
      mkdirSync(join(n.dir, 'data', 'mysql'), { recursive: true });
      chmodSync(n.dir, 0o755);
      chownSync(join(n.dir, 'data'), NOBODY, NOBODY);
      chownSync(join(n.dir, 'data', 'mysql'), NOBODY, NOBODY);
      n.args = c.wsrepArgs(i, false);
      await n.start();
    }
    // From now on the first node joins like the others when restarted.
    first.args = c.wsrepArgs(0, false);
    await c.waitSynced(size);
  }

  private wsrepArgs(i: number, bootstrap: boolean): string[] {
    const p = this.ports[i];
    const peers = this.ports.map((q) => `127.0.0.1:${q.group}`).join(',');
    const options = [
      `gmcast.listen_addr=tcp://127.0.0.1:${p.group}`,
      `ist.recv_addr=127.0.0.1:${p.ist}`,
      // Loopback: a dead node is noticed within seconds, not the default tens of seconds.
      'evs.suspect_timeout=PT3S',
      'evs.inactive_timeout=PT6S',
      'evs.keepalive_period=PT0.5S',
      'gcache.size=64M',
      'pc.recovery=false',
    ].join(';');
    return [
      '--wsrep-on=ON',
      `--wsrep-provider=${GALERA_PROVIDER}`,
      `--wsrep-cluster-address=gcomm://${bootstrap ? '' : peers}`,
      '--wsrep-cluster-name=pandora-sync-test',
      `--wsrep-node-name=node${i + 1}`,
      '--wsrep-node-address=127.0.0.1',
      `--wsrep-provider-options=${options}`,
      '--wsrep-sst-method=rsync',
      `--wsrep-sst-receive-address=127.0.0.1:${p.sst}`,
      '--binlog-format=ROW',
      '--default-storage-engine=InnoDB',
      '--innodb-autoinc-lock-mode=2',
      '--innodb-buffer-pool-size=64M',
    ];
  }

  /** Every running node reports the cluster size and is synced. */
  async waitSynced(size: number, ms = 60_000): Promise<void> {
    const ok = await until(
      async () => {
        for (const n of this.nodes) {
          if (!n.pid) continue;
          const c = await mysql.createConnection({ ...n.facts, connectTimeout: 1000 });
          try {
            const [rows] = await c.query<mysql.RowDataPacket[]>(
              "SHOW STATUS WHERE Variable_name IN ('wsrep_cluster_size', 'wsrep_local_state_comment', 'wsrep_ready')",
            );
            const v = new Map(rows.map((r) => [String(r.Variable_name), String(r.Value)]));
            if (
              Number(v.get('wsrep_cluster_size')) !== size ||
              v.get('wsrep_local_state_comment') !== 'Synced' ||
              v.get('wsrep_ready') !== 'ON'
            ) {
              return false;
            }
          } finally {
            await c.end();
          }
        }
        return true;
      },
      ms,
      200,
    );
    if (!ok)
      throw new Error(`the Galera cluster did not reach ${size} synced nodes; see ${this.dir}`);
  }

  /** `host:port` of every node, in order (a dbHost list). */
  get hosts(): string {
    return this.nodes.map((n) => `${n.host}:${n.port}`).join(',');
  }

  async destroy(): Promise<void> {
    for (const n of this.nodes) await n.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
