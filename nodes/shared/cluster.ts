/**
 * A node's part in a cluster (pandora-config `cluster` on): registered with its config, which
 * gives it the gate its engine works through and sets its status (the node's own status with
 * "units here · members" added: a node shows its status with `(cluster ?? node).status(s)`). Null when
 * the config has `cluster` off, so that nodes stay exactly as on a single host.
 */
import type { Node, NodeMessage } from 'node-red';
import { units } from '../../lib/cluster';
import type { NodeCluster } from '../pandora-config/cluster';
import type { PandoraConfigNode } from '../pandora-config/types';

export type { NodeCluster } from '../pandora-config/cluster';

/** Registers `node` with its config's cluster; `report` sends a takeover on its output. */
export function joinCluster(
  node: Node,
  cfg: PandoraConfigNode | null,
  report: (msg: NodeMessage) => void,
): NodeCluster | null {
  return cfg?.cluster?.register(node, report) ?? null;
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
