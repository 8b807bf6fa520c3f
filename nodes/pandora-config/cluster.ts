/**
 * pandora-config's `cluster` fields: one lease manager per config node (per Command Center
 * database), created when the first node registers and closed (handing its units back) with the
 * config. The config keeps a register of the nodes that use it, as Node-RED's MQTT broker node
 * does, and sets their status itself: each node hands its own status to its membership
 * (`NodeCluster.status`), and the config shows it with the cluster part "units here · members"
 * added, again whenever the cluster changes.
 */
import { hostname } from 'node:os';
import type { Node, NodeAPI, NodeMessage, NodeStatus } from 'node-red';
import {
  CLUSTER_PROPERTIES,
  ClusterError,
  DbDeliveries,
  LeaseManager,
  type ManagedGate,
  type SharedDeliveries,
  type Takeover,
} from '../../lib/cluster';
import type { Pool } from '../../lib/db/pool';
import { toBool, toInteger, toText } from '../../lib/util/values';
import type { Translate } from '../shared/i18n';
import { joinParts, shortText, wordText } from '../shared/status';

export interface ClusterProps {
  cluster?: unknown;
  clusterMember?: unknown;
  leaseSeconds?: unknown;
}

export interface ClusterSettings {
  member: string;
  leaseSeconds: number;
}

/** A node's part in the cluster, as the config's register gives it. */
export interface NodeCluster {
  /** The gate its engine works through. */
  gate: ManagedGate;
  /** The shared delivery records (tentacle-pull). */
  shared: SharedDeliveries;
  /** Shows the node's own status with the cluster part added (in place of `node.status`). */
  status(own: NodeStatus): void;
  /** Leaves the register (with the node). */
  close(): void;
}

/** The cluster handle a config node offers to the nodes that use it. */
export interface ClusterHandle {
  readonly settings: ClusterSettings;
  /**
   * Registers a node: its gate, and its status set from here from now on. `report` sends a
   * takeover of one of its units on its output.
   */
  register(node: Node, report: (msg: NodeMessage) => void): NodeCluster;
  close(): Promise<void>;
}

/** The cluster settings, or null when `cluster` is off. Throws on a bad value. */
export function clusterSettings(RED: NodeAPI, props: ClusterProps): ClusterSettings | null {
  if (!toBool(props.cluster, false, 'cluster')) return null;
  const port = (RED.settings as { uiPort?: unknown }).uiPort ?? 1880;
  const member = toText(props.clusterMember) || `${hostname()}:${String(port)}`;
  const { maxLength } = CLUSTER_PROPERTIES.clusterMember;
  if (member.length > maxLength) {
    throw new ClusterError('ERR_CLUSTER_OPTION', {
      name: 'clusterMember',
      value: member,
      min: 1,
      max: maxLength,
    });
  }
  const { default: seconds, min, max } = CLUSTER_PROPERTIES.leaseSeconds;
  try {
    return {
      member,
      leaseSeconds: toInteger(props.leaseSeconds, seconds, 'leaseSeconds', min, max),
    };
  } catch {
    throw new ClusterError('ERR_CLUSTER_OPTION', {
      name: 'leaseSeconds',
      value: String(props.leaseSeconds),
      min,
      max,
    });
  }
}

interface User {
  node: Node;
  gate: ManagedGate;
  /** The node's own status, as it last set it (shown with the cluster part). */
  own: NodeStatus | null;
}

export function clusterHandle(
  settings: ClusterSettings,
  pool: () => Pool,
  t: Translate,
  started?: (manager: LeaseManager) => void,
): ClusterHandle {
  let manager: LeaseManager | null = null;
  let deliveries: DbDeliveries | null = null;
  const users = new Set<User>();

  const start = (): LeaseManager => {
    if (!manager) {
      manager = new LeaseManager({
        db: pool(),
        member: settings.member,
        leaseMs: settings.leaseSeconds * 1000,
      });
      manager.start();
      started?.(manager);
    }
    return manager;
  };

  /** "2/5 here · 3 members", or the database's problem (no lease is renewed without it). */
  const part = (user: User): string => {
    if (!manager) return '';
    const s = manager.state();
    if (s.problem) {
      const message = shortText(String(s.problem.facts.message ?? s.problem.code), 30);
      return t('pandora-config.cluster.problem', { message });
    }
    return t('pandora-config.cluster.status', {
      held: user.gate.held().length,
      units: user.gate.units().length,
      members: s.members.length,
    });
  };

  const show = (user: User): void => {
    const own = user.own ?? {};
    const word = typeof own.text === 'string' ? wordText(own.text, t) : '';
    user.node.status({ ...own, text: joinParts(word, part(user)) });
  };

  return {
    settings,
    register: (node, report) => {
      const m = start();
      const user: User = { node, own: null, gate: null as unknown as ManagedGate };
      user.gate = m.gate({
        onChange: () => show(user),
        onTakeover: (tk: Takeover) => {
          node.warn(
            t('pandora-config.cluster.takeover', {
              unit: tk.unit,
              from: tk.from,
              ms: tk.sinceRenewalMs,
            }),
          );
          report({
            topic: 'takeover',
            payload: { ...tk, member: m.member, leaseSeconds: m.leaseMs / 1000 },
          });
        },
      });
      users.add(user);
      show(user);
      return {
        gate: user.gate,
        shared: (deliveries ??= new DbDeliveries(pool(), m)),
        status: (own) => {
          user.own = own;
          if (users.has(user)) show(user);
          else node.status(own);
        },
        close: () => {
          users.delete(user);
          user.gate.close();
        },
      };
    },
    close: async () => {
      const m = manager;
      manager = null;
      users.clear();
      await m?.close('config closed');
    },
  };
}
