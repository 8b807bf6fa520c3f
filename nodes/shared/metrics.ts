/**
 * The package's Prometheus metrics: one registry (not prom-client's global one, so another
 * palette package's metrics never mix in), typed recorders the nodes call, and the admin API
 * endpoint `GET /pandora-sync/metrics` that serves it in the text exposition format. The endpoint
 * needs the `pandora-sync.read` permission, so a scraper authenticates like any admin API client
 * (a bearer token; see the README's scrape configuration).
 *
 * Labels: `node` is the Node-RED node id (stable across renames), `name` its name or, when empty,
 * the node id; `buffer` is a buffer's `host:port`; `instance` an Instance's registry id.
 */
import type { Node, NodeAPI } from 'node-red';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TentacleServer } from '../../lib/tentacle/server';
import type { BufferSummary } from '../../lib/sync/puller';
import type { PullerStatus } from '../../lib/events/types';
import type { ReplicaRoundReport } from '../../lib/replicate';
import type { LeaseManager } from '../../lib/cluster';
import type { CacheStatus } from '../../lib/agentcache';

export const METRICS_PATH = '/pandora-sync/metrics';
export const METRICS_PERMISSION = 'pandora-sync.read';

export const registry = new Registry();

const bufferLabels = ['node', 'name'] as const;
const pullLabels = ['node', 'name', 'buffer'] as const;
const instanceLabels = ['node', 'name', 'instance'] as const;

const m = {
  bufferFiles: new Gauge({
    name: 'pandora_sync_buffer_files',
    help: 'Files a tentacle-buffer holds now.',
    labelNames: bufferLabels,
    registers: [registry],
  }),
  bufferBytes: new Gauge({
    name: 'pandora_sync_buffer_bytes',
    help: 'Bytes a tentacle-buffer holds now.',
    labelNames: bufferLabels,
    registers: [registry],
  }),
  bufferReceived: new Counter({
    name: 'pandora_sync_buffer_received_files_total',
    help: 'Files a tentacle-buffer stored (SEND, ZSEND or a flow message).',
    labelNames: bufferLabels,
    registers: [registry],
  }),
  bufferRefused: new Counter({
    name: 'pandora_sync_buffer_refused_files_total',
    help: 'Uploads a tentacle-buffer refused (name, size, quota, filters, existing file).',
    labelNames: bufferLabels,
    registers: [registry],
  }),
  bufferPulled: new Counter({
    name: 'pandora_sync_buffer_pulled_files_total',
    help: 'Files taken from a tentacle-buffer by a puller (MV).',
    labelNames: bufferLabels,
    registers: [registry],
  }),
  pullFiles: new Counter({
    name: 'pandora_sync_pull_files_total',
    help: 'Files tentacle-pull delivered from a buffer.',
    labelNames: pullLabels,
    registers: [registry],
  }),
  pullBytes: new Counter({
    name: 'pandora_sync_pull_bytes_total',
    help: 'Bytes tentacle-pull delivered from a buffer.',
    labelNames: pullLabels,
    registers: [registry],
  }),
  pullErrors: new Counter({
    name: 'pandora_sync_pull_errors_total',
    help: 'Rounds in which tentacle-pull could not drain a buffer.',
    labelNames: pullLabels,
    registers: [registry],
  }),
  pullLastSuccess: new Gauge({
    name: 'pandora_sync_pull_last_success_timestamp_seconds',
    help: 'When tentacle-pull last finished a round on a buffer without error (Unix time).',
    labelNames: pullLabels,
    registers: [registry],
  }),
  pullRound: new Histogram({
    name: 'pandora_sync_pull_round_duration_seconds',
    help: 'How long a tentacle-pull round took on a buffer.',
    labelNames: pullLabels,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [registry],
  }),
  eventLagSeconds: new Gauge({
    name: 'pandora_sync_event_lag_seconds',
    help: 'How far event-pull is behind an Instance, in seconds of event time.',
    labelNames: instanceLabels,
    registers: [registry],
  }),
  eventInstanceDown: new Gauge({
    name: 'pandora_sync_event_instance_down',
    help: '1 while event-pull cannot read an Instance, else 0.',
    labelNames: instanceLabels,
    registers: [registry],
  }),
  queueDepth: new Gauge({
    name: 'pandora_sync_replication_queue_depth',
    help: 'Items of tsync_queue still to apply on an Instance after the last round.',
    labelNames: instanceLabels,
    registers: [registry],
  }),
  leaseHeld: new Gauge({
    name: 'pandora_sync_cluster_lease_held',
    help: '1 for each unit of work (a buffer, an Instance) this cluster member holds the lease of.',
    labelNames: ['node', 'name', 'member', 'unit'],
    registers: [registry],
  }),
  clusterMembers: new Gauge({
    name: 'pandora_sync_cluster_members',
    help: 'Live members of the cluster as this member sees them.',
    labelNames: ['node', 'name', 'member'],
    registers: [registry],
  }),
  agentCacheLag: new Gauge({
    name: 'pandora_sync_agent_cache_lag_seconds',
    help:
      "How old agent-cache's copy of an Instance's agents may be: seconds since the start of " +
      'its last good round.',
    labelNames: instanceLabels,
    registers: [registry],
  }),
  queueHeadAge: new Gauge({
    name: 'pandora_sync_replication_queue_head_age_seconds',
    help:
      'Seconds the queue of an Instance has not moved: since the last round that applied an ' +
      'item or found it empty; 0 when empty.',
    labelNames: instanceLabels,
    registers: [registry],
  }),
};

type Labels = Record<string, string>;
type Metric = (typeof m)[keyof typeof m];
const metricNames = new Map<Metric, string>(Object.entries(m).map(([k, v]) => [v, k]));

/** The series each node has touched, so that closing the node drops exactly those. */
const seriesOf = new Map<string, Map<string, { metric: Metric; labels: Labels }>>();

function track<T extends Metric>(metric: T, labels: Labels): T {
  let own = seriesOf.get(labels.node);
  if (!own) seriesOf.set(labels.node, (own = new Map()));
  own.set(`${metricNames.get(metric)}${JSON.stringify(labels)}`, { metric, labels });
  return metric;
}

function nodeLabels(node: Node): Labels {
  return { node: node.id, name: node.name || node.id };
}

/** Drops every series of a node when it is closed (redeployed or removed). */
function forgetOnClose(node: Node): void {
  node.on('close', () => {
    for (const { metric, labels } of seriesOf.get(node.id)?.values() ?? []) {
      (metric as unknown as { remove(labels: Labels): void }).remove(labels);
    }
    seriesOf.delete(node.id);
  });
}

/** tentacle-buffer: what its server holds, stores, refuses and hands out. */
export function watchBuffer(RED: NodeAPI, node: Node, server: TentacleServer): void {
  registerMetricsEndpoint(RED);
  const labels = nodeLabels(node);
  const held = (s: { files: number; bytes: number }) => {
    track(m.bufferFiles, labels).set(labels, s.files);
    track(m.bufferBytes, labels).set(labels, s.bytes);
  };
  held(server.stats());
  for (const c of [m.bufferReceived, m.bufferRefused, m.bufferPulled])
    track(c, labels).inc(labels, 0);
  server.on('stats', held);
  server.on('received', () => track(m.bufferReceived, labels).inc(labels));
  server.on('rejected', () => track(m.bufferRefused, labels).inc(labels));
  server.on('pulled', () => track(m.bufferPulled, labels).inc(labels));
  forgetOnClose(node);
}

/** tentacle-pull: one buffer's round summary. */
export function pullRound(RED: NodeAPI, node: Node, s: BufferSummary): void {
  registerMetricsEndpoint(RED);
  if (s.skipped) return;
  const labels = { ...nodeLabels(node), buffer: s.address };
  track(m.pullFiles, labels).inc(labels, s.files);
  track(m.pullBytes, labels).inc(labels, s.bytes);
  track(m.pullRound, labels).observe(labels, s.ms / 1000);
  if (s.error) track(m.pullErrors, labels).inc(labels);
  else {
    track(m.pullErrors, labels).inc(labels, 0);
    track(m.pullLastSuccess, labels).set(labels, Date.now() / 1000);
  }
}

/** tentacle-pull: the series of a node are dropped when it closes. */
export function watchPull(RED: NodeAPI, node: Node): void {
  registerMetricsEndpoint(RED);
  forgetOnClose(node);
}

/** event-pull: the lag of each Instance, from the puller's state after a round. */
export function eventState(RED: NodeAPI, node: Node, state: PullerStatus): void {
  registerMetricsEndpoint(RED);
  for (const i of state.instances) {
    const labels = { ...nodeLabels(node), instance: String(i.id) };
    // With cluster on, another member works this Instance and reports it: a series left here
    // would show the lag it had when its lease moved, for ever.
    if (i.elsewhere) {
      m.eventInstanceDown.remove(labels);
      m.eventLagSeconds.remove(labels);
      continue;
    }
    track(m.eventInstanceDown, labels).set(labels, i.down ? 1 : 0);
    if (i.lag !== null) track(m.eventLagSeconds, labels).set(labels, i.lag);
  }
}

/** event-pull: the series of a node are dropped when it closes. */
export function watchEvents(RED: NodeAPI, node: Node): void {
  registerMetricsEndpoint(RED);
  forgetOnClose(node);
}

/** agent-cache: the lag of each Instance worked here (none for one never cached yet). */
export function agentCacheState(RED: NodeAPI, node: Node, state: CacheStatus): void {
  registerMetricsEndpoint(RED);
  for (const i of state.instances) {
    const labels = { ...nodeLabels(node), instance: String(i.id) };
    // Another member reports an Instance it works (cluster): no stale series here.
    if (i.elsewhere || i.lag === null) m.agentCacheLag.remove(labels);
    else track(m.agentCacheLag, labels).set(labels, i.lag);
  }
}

/** agent-cache: the series of a node are dropped when it closes. */
export function watchAgentCache(RED: NodeAPI, node: Node): void {
  registerMetricsEndpoint(RED);
  forgetOnClose(node);
}

const queueMoved = new Map<string, number>();

/** metaconsole-replicate: the queue of one Instance after a round. */
export function replicateReport(RED: NodeAPI, node: Node, r: ReplicaRoundReport): void {
  registerMetricsEndpoint(RED);
  if (r.topic !== 'sync') return;
  const labels = { ...nodeLabels(node), instance: String(r.instance.id) };
  const key = `${node.id}/${r.instance.id}`;
  const now = Date.now();
  if (r.queue.pending === 0 || r.queue.dequeued > 0 || !queueMoved.has(key)) {
    queueMoved.set(key, now);
  }
  track(m.queueDepth, labels).set(labels, r.queue.pending);
  track(m.queueHeadAge, labels).set(
    labels,
    r.queue.pending === 0 ? 0 : (now - (queueMoved.get(key) ?? now)) / 1000,
  );
}

/** metaconsole-replicate: the series of a node are dropped when it closes. */
export function watchReplicate(RED: NodeAPI, node: Node): void {
  registerMetricsEndpoint(RED);
  node.on('close', () => {
    for (const key of [...queueMoved.keys()])
      if (key.startsWith(`${node.id}/`)) queueMoved.delete(key);
  });
  forgetOnClose(node);
}

/** pandora-config with `cluster` on: the leases this member holds, and the members it sees. */
export function watchCluster(RED: NodeAPI, node: Node, manager: LeaseManager): void {
  registerMetricsEndpoint(RED);
  let shown = new Set<string>();
  const update = () => {
    const s = manager.state();
    const base = { ...nodeLabels(node), member: s.member };
    track(m.clusterMembers, base).set(base, s.members.length);
    const now = new Set(s.held);
    for (const unit of shown) if (!now.has(unit)) m.leaseHeld.remove({ ...base, unit });
    for (const unit of now) track(m.leaseHeld, { ...base, unit }).set({ ...base, unit }, 1);
    shown = now;
  };
  update();
  manager.on('change', update);
  forgetOnClose(node);
}

// One route per Node-RED admin app (a new app per test helper start).
const served = new WeakSet<object>();

export function registerMetricsEndpoint(RED: NodeAPI): void {
  const app = RED.httpAdmin as unknown as object;
  if (served.has(app)) return;
  served.add(app);
  RED.httpAdmin.get(METRICS_PATH, RED.auth.needsPermission(METRICS_PERMISSION), (_req, res) => {
    registry.metrics().then(
      (text) => res.set('Content-Type', registry.contentType).send(text),
      (err: Error) => res.status(500).json({ error: err.message }),
    );
  });
}
