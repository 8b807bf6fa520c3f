/**
 * pandora-config's `cluster` fields: one lease manager per config node (per Command Center
 * database), created on first use by a node and closed (handing its units back) with the config.
 */
import { hostname } from 'node:os';
import type { NodeAPI } from 'node-red';
import { DbDeliveries, LeaseManager, type SharedDeliveries } from '../../lib/cluster';
import type { Pool } from '../../lib/db/pool';
import { toBool, toInteger, toText } from '../../lib/util/values';

export interface ClusterProps {
  cluster?: unknown;
  clusterMember?: unknown;
  leaseSeconds?: unknown;
}

export interface ClusterSettings {
  member: string;
  leaseSeconds: number;
}

/** The cluster handle a config node offers to the nodes that use it. */
export interface ClusterHandle {
  readonly settings: ClusterSettings;
  /** The manager, started on first call. */
  manager(): LeaseManager;
  deliveries(): SharedDeliveries;
  close(): Promise<void>;
}

/** The cluster settings, or null when `cluster` is off. Throws on a bad value. */
export function clusterSettings(RED: NodeAPI, props: ClusterProps): ClusterSettings | null {
  if (!toBool(props.cluster, false, 'cluster')) return null;
  const port = (RED.settings as { uiPort?: unknown }).uiPort ?? 1880;
  const member = toText(props.clusterMember) || `${hostname()}:${String(port)}`;
  if (member.length > 150) throw new RangeError('clusterMember must be at most 150 characters');
  return { member, leaseSeconds: toInteger(props.leaseSeconds, 30, 'leaseSeconds', 2, 3600) };
}

export function clusterHandle(
  settings: ClusterSettings,
  pool: () => Pool,
  started?: (manager: LeaseManager) => void,
): ClusterHandle {
  let manager: LeaseManager | null = null;
  let deliveries: DbDeliveries | null = null;
  const start = (): LeaseManager => {
    if (!manager) {
      manager = new LeaseManager({ db: pool(), ...settings });
      manager.start();
      started?.(manager);
    }
    return manager;
  };
  return {
    settings,
    manager: start,
    deliveries: () => (deliveries ??= new DbDeliveries(pool(), start())),
    close: async () => {
      const m = manager;
      manager = null;
      await m?.close();
    },
  };
}
