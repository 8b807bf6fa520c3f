/**
 * A node's part in a cluster (pandora-config `cluster` on): the gate its engine works through,
 * the status part "units here · members", and the takeover report on the output. Null when the
 * config has `cluster` off, so that nodes stay exactly as on a single host.
 */
import type { Node, NodeAPI, NodeMessage, NodeStatus } from 'node-red';
import { units, type ManagedGate, type SharedDeliveries, type Takeover } from '../../lib/cluster';
import type { PandoraConfigNode } from '../pandora-config/types';
import { translated } from './i18n';
import { joinParts, shortText } from './status';

export interface NodeCluster {
  gate: ManagedGate;
  shared: SharedDeliveries;
  close(): void;
}

const KEY = 'node-red-contrib-pandora-sync/pandora-config:pandora-config.cluster.';

export function joinCluster(
  RED: NodeAPI,
  node: Node,
  cfg: PandoraConfigNode | null,
  report: (msg: NodeMessage) => void,
): NodeCluster | null {
  const handle = cfg?.cluster;
  if (!handle) return null;
  const manager = handle.manager();
  const setStatus = node.status.bind(node);
  let last: NodeStatus = {};
  const part = (): string => {
    const s = manager.state();
    const held = gate.held().length;
    const units = gate.units().length;
    const members = s.members.length;
    if (s.problem !== null) {
      // Without the database no lease is renewed: this host works nothing until it is back.
      const message = shortText(s.problem, 30);
      return translated(RED, `${KEY}problem`, `cluster: ${message}`, { message });
    }
    return translated(RED, `${KEY}status`, `${held}/${units} here · ${members} members`, {
      held,
      units,
      members,
    });
  };
  const show = (): void => {
    // A status word is a catalogue key the editor translates; with a part added it is not a
    // key any more, so it is translated here.
    const text = typeof last.text === 'string' ? last.text : '';
    const word = text.includes(':pandora-config.status.')
      ? translated(RED, text, text.slice(text.lastIndexOf('.') + 1))
      : text;
    setStatus({ ...last, text: joinParts(word, part()) });
  };
  const gate = manager.gate({
    onChange: show,
    onTakeover: (t: Takeover) => {
      const text = translated(
        RED,
        `${KEY}takeover`,
        `took ${t.unit} over from ${t.from} (${t.sinceRenewalMs} ms after its last renewal)`,
        { unit: t.unit, from: t.from, ms: t.sinceRenewalMs },
      );
      node.warn(text);
      report({
        topic: 'takeover',
        payload: { ...t, member: manager.member, leaseSeconds: manager.leaseMs / 1000 },
      });
    },
  });
  // Every status the node sets carries the cluster part; the node's own status code is unchanged.
  (node as { status: (s: NodeStatus | string) => void }).status = (s) => {
    last = typeof s === 'string' ? { text: s } : s;
    show();
  };
  show();
  return {
    gate,
    shared: handle.deliveries(),
    close: () => gate.close(),
  };
}

/**
 * tentacle-pull: failures of buffers that another member works now are no longer this node's
 * (a buffer handed over is not pulled here, so no later round would clear its failure).
 */
export function forgetHandedOver(cluster: NodeCluster | null, failing: Map<string, string>): void {
  if (!cluster) return;
  for (const address of [...failing.keys()]) {
    if (!cluster.gate.holds(units.pull(address))) failing.delete(address);
  }
}
