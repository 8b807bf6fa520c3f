/**
 * What a pandora-config node offers to the nodes that use it, e.g.
 * `const cfg = RED.nodes.getNode(def.config) as PandoraConfigNode | null`.
 */
import type { Node } from 'node-red';
import type { BufferEndpoint, PandoraSettings } from '../../lib/conf/pandora-conf';
import type { DbFacts, Pool } from '../../lib/db/pool';
import type { TlsMaterial } from '../../lib/tls/material';
import type { ClusterHandle } from './cluster';

export interface PandoraConfigCredentials {
  /** `dbpass` */
  dbPass?: string;
  /** The buffers' Tentacle password (`tentacle_server -x`). */
  syncPassword?: string;
}

/** The resolved Sync server settings (node property, else pandora_server.conf, else default). */
export interface PandoraSyncSettings {
  /** `sync_address` parsed into buffers, each with its port (`sync_port` when not given). */
  buffers: BufferEndpoint[];
  /** The raw `sync_address` list. */
  address: string;
  port: number;
  /** Seconds per socket wait (`sync_timeout`) and misses allowed (`sync_retries`). */
  timeout: number;
  retries: number;
  /** PEM paths (`sync_ca`, `sync_cert`, `sync_key`). */
  caPath: string;
  certPath: string;
  keyPath: string;
  password?: string;
}

export interface PandoraConfigNode extends Node<PandoraConfigCredentials> {
  /**
   * Set when the configuration cannot be used: `confFile` missing or unreadable, a bad number,
   * a bad `syncAddress`. Nodes using this config should report it and do nothing else.
   */
  configError: Error | null;
  /** Every effective setting and where it came from. Defaults-only when `configError` is set. */
  settings: PandoraSettings;
  /**
   * The MySQL database of this Pandora server (`dbhost` `dbport` `dbname` `dbuser` `dbpass`), with
   * `ssl` when `dbTls` is on (the Instances reached from its pool inherit it).
   */
  dbFacts: DbFacts;
  /** `incomingdir`: where pulled agent files are delivered. */
  incomingDir: string;
  sync: PandoraSyncSettings;
  /** The sync TLS material, read once and checked; null when TLS is off or the material is bad. */
  tls: TlsMaterial | null;
  /** Why the TLS material is unusable (names the file); pullers must not connect without it. */
  tlsError: Error | null;
  /**
   * The shared mysql2 pool of this database, created on first call and closed when the config
   * node closes (redeploy). Throws `configError` when the configuration is unusable. Never end it
   * yourself: other nodes share it.
   */
  getPool(): Pool;
  /** Several Node-RED hosts sharing the work (`cluster` on); null when off. */
  cluster: ClusterHandle | null;
}
