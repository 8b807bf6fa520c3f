/**
 * metaconsole-replicate: keeps the objects shared by the Command Center and its Instances
 * identical on every Instance (thin adapter over lib/replicate). Its own texts come from its
 * en-US / es-ES catalogues through RED._; the reports' technical details (table names, SQL
 * errors) stay as the engine and the database give them.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import {
  InstanceReport,
  MergeReport,
  Replicator,
  SkipReport,
} from '../../lib/replicate/replicator';
import { parseObjects } from '../../lib/replicate/tables';
import { parseDbAddress } from '../../lib/replicate/replication-tokens';
import { toInteger, toList, toNumber, toText } from '../../lib/util/values';
import type { PandoraConfigNode } from '../pandora-config/types';
import { joinCluster, type NodeCluster } from '../shared/cluster';
import { translated } from '../shared/i18n';
import { WORDS, failed, status } from '../shared/status';
import { replicateReport, watchReplicate } from '../shared/metrics';

interface ReplicateDef extends NodeDef {
  config: string;
  instances: string | number;
  objects: string;
  interval: string | number;
  ccDbAddress?: string;
}

interface ReplicateMsg extends NodeMessage {
  priority?: unknown;
  removeInstanceOnly?: unknown;
}

export = function (RED: NodeAPI) {
  /** A text of this node's catalogue, the English one where no catalogue answers. */
  const t = (key: string, english: string, vars?: Record<string, string | number>): string =>
    translated(RED, `metaconsole-replicate.${key}`, english, vars);

  function MetaconsoleReplicateNode(this: Node, def: ReplicateDef) {
    RED.nodes.createNode(this, def);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- handlers below are arrows and closures that need the node
    const node = this;
    const cfg = RED.nodes.getNode(def.config) as unknown as PandoraConfigNode | null;
    let replicator: Replicator | null = null;
    let cluster: NodeCluster | null = null;
    let timer: NodeJS.Timeout | null = null;
    let closing = false;
    /** Each Instance's last reported errors: a Catch node hears each failure once, not each round. */
    const lastErrors = new Map<number, string>();

    const fail = (text: string): void => (cluster ?? node).status(failed(text));
    const showStatus = (): void => {
      if (!replicator) return;
      const s = replicator.status();
      (cluster ?? node).status(
        status(
          s.failing > 0 ? 'red' : s.degraded + s.behind > 0 ? 'yellow' : 'green',
          t(
            'status.counts',
            `${s['in sync']} in sync · ${s.behind} behind · ${s.degraded} degraded · ${s.failing} failing`,
            {
              inSync: s['in sync'],
              behind: s.behind,
              degraded: s.degraded,
              failing: s.failing,
            },
          ),
        ),
      );
    };

    try {
      if (!cfg) throw new Error(t('errors.noConfig', 'no pandora-config selected'));
      if (cfg.configError) throw cfg.configError;
      const interval = toNumber(def.interval, 10, 'interval');
      if (interval < 0)
        throw new RangeError(
          t('errors.interval', `interval must be 0 or more seconds, got ${String(def.interval)}`, {
            value: String(def.interval),
          }),
        );
      cluster = joinCluster(node, cfg, (m) => node.send(m));
      watchReplicate(RED, node); // metrics (nodes/shared/metrics.ts)
      replicator = new Replicator({
        gate: cluster?.gate,
        cc: cfg.getPool(),
        instances: toList(def.instances).map((v) => toInteger(v, 0, 'instances', 1)),
        objects: parseObjects(toList(def.objects)),
        ccFacts: cfg.dbFacts,
        ccDbAddress: parseDbAddress(toText(def.ccDbAddress ?? '')),
      });
      if (interval > 0) {
        const tick = (): void => {
          if (closing) return;
          void round('sync', null).finally(() => {
            if (!closing) timer = setTimeout(tick, interval * 1000);
          });
        };
        timer = setTimeout(tick, 500);
        (cluster ?? node).status(status('grey', WORDS.starting));
      } else {
        (cluster ?? node).status(status('grey', WORDS.waiting));
      }
    } catch (err) {
      replicator = null;
      fail((err as Error).message);
      node.error(err);
    }

    const emit = (r: InstanceReport, msg: NodeMessage | null): void => {
      replicateReport(RED, node, r); // metrics (nodes/shared/metrics.ts)
      const out: NodeMessage & Record<string, unknown> = {
        ...(msg ?? {}),
        topic: r.topic,
        payload: {
          instance: r.instance,
          applied: r.applied,
          cascaded: r.cascaded,
          kept: r.kept,
          queue: r.queue,
          conflicts: r.conflicts,
          errors: r.errors,
          state: r.state,
        },
      };
      node.send(out);
      if (r.topic !== 'sync') return;
      const text = r.errors.join('; ');
      if (text === '') lastErrors.delete(r.instance.id);
      else if (lastErrors.get(r.instance.id) !== text) {
        lastErrors.set(r.instance.id, text);
        node.error(
          t('errors.instance', `instance ${r.instance.id} (${r.instance.name}): ${text}`, {
            id: r.instance.id,
            name: r.instance.name,
            errors: text,
          }),
          out,
        );
      }
      for (const op of r.queue.operations) {
        node.warn(
          t(
            'warnings.namedOperation',
            `tsync_queue item ${op.id} for instance ${r.instance.id} is the named operation "${op.operation}" (table ${op.table}, carrying "${op.carries}"), which is not SQL: left in the queue with its error set; do it by hand, then discard it with msg.topic skip`,
            {
              id: op.id,
              operation: op.operation,
              table: op.table,
              carries: op.carries,
              instance: r.instance.id,
            },
          ),
        );
      }
    };

    async function round(topic: 'sync' | 'plan', msg: NodeMessage | null): Promise<void> {
      if (!replicator) return;
      try {
        await replicator.round(topic, (r) => {
          emit(r, msg);
          showStatus();
        });
        showStatus();
      } catch (err) {
        fail((err as Error).message);
        node.error(err, msg ?? {});
      }
    }

    node.on('input', (msg, _send, done) => {
      const m = msg as ReplicateMsg;
      if (!replicator) {
        done(
          new Error(
            t('errors.notConfigured', 'metaconsole-replicate is not configured (see its status)'),
          ),
        );
        return;
      }
      const topic = toText(m.topic, 'sync');
      if (topic === 'skip') {
        const payload = m.payload as { id?: unknown } | undefined;
        const id = toText(payload && typeof payload === 'object' ? payload.id : undefined);
        if (id === '') {
          done(
            new Error(
              t(
                'errors.skipNeedsId',
                'msg.topic skip needs msg.payload.id, the tsync_queue id of the item to discard',
              ),
            ),
          );
          return;
        }
        replicator
          .skip(id)
          .then((r: SkipReport) => {
            lastErrors.delete(r.instance.id);
            node.send({ ...m, topic: 'skip', payload: r } as NodeMessage);
            done();
          })
          .catch((err: Error) => done(err));
        return;
      }
      if (topic === 'merge') {
        let priority: number[];
        try {
          priority = toList(m.priority).map((v) => toInteger(v, 0, 'priority', 0));
        } catch (err) {
          done(err as Error);
          return;
        }
        (cluster ?? node).status(status('blue', WORDS.merging));
        replicator
          .merge({
            priority,
            removeInstanceOnly: m.removeInstanceOnly === true || m.removeInstanceOnly === 'true',
          })
          .then((report: MergeReport) => {
            for (const r of report.instances) {
              node.send({
                ...m,
                topic: 'merge',
                payload: {
                  instance: r.instance,
                  applied: r.applied,
                  cascaded: r.cascaded,
                  conflicts: [...report.conflicts, ...r.conflicts],
                  commandCenter: { ...report.commandCenter, settings: report.settings },
                  settings: r.settings,
                  errors: r.errors,
                  unified: r.unified,
                },
              } as NodeMessage);
            }
            showStatus();
            done();
          })
          .catch((err: Error) => {
            fail(err.message);
            done(err);
          });
        return;
      }
      if (topic !== 'sync' && topic !== 'plan') {
        done(
          new Error(
            t(
              'errors.unknownTopic',
              `unknown msg.topic "${topic}": use sync, plan, merge or skip`,
              { topic },
            ),
          ),
        );
        return;
      }
      if (topic === 'sync') (cluster ?? node).status(status('blue', WORDS.syncing));
      replicator
        .round(topic, (r) => {
          emit(r, m);
          showStatus();
        })
        .then(() => {
          showStatus();
          done();
        })
        .catch((err: Error) => {
          fail(err.message);
          done(err);
        });
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      cluster?.close();
      if (timer) clearTimeout(timer);
      const r = replicator;
      replicator = null;
      if (!r) {
        done();
        return;
      }
      r.close().then(done, done);
    });
  }
  RED.nodes.registerType('metaconsole-replicate', MetaconsoleReplicateNode);
};
