/**
 * metaconsole-replicate: keeps the objects shared by the Command Center and its Instances
 * identical on every Instance (thin adapter over lib/replicate: builds the engine from the
 * properties, maps its events to messages, status and metrics, and closes it).
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import {
  optionsFromProperties,
  REPLICATE_PROPERTIES,
  ReplicateError,
  Replicator,
  type ReplicaRoundReport,
  type ReplicateProps,
} from '../../lib/replicate';
import { toInteger, toList, toText } from '../../lib/util/values';
import type { PandoraConfigNode } from '../pandora-config/types';
import { joinCluster, type NodeCluster } from '../shared/cluster';
import { replicateReport, watchReplicate } from '../shared/metrics';
import { WORDS, failed, status } from '../shared/status';
import { countsStatus, errorText, mergePayload, reportPayload, type Translate } from './status';

interface ReplicateDef extends NodeDef, ReplicateProps {
  config: string;
}

interface ReplicateMsg extends NodeMessage {
  priority?: unknown;
  removeInstanceOnly?: unknown;
}

export = function (RED: NodeAPI) {
  const t: Translate = (key, values) => RED._(key, values);

  /** A failure in the runtime's language: the engine's codes through the catalogue. */
  const words = (err: unknown): Error =>
    err instanceof ReplicateError
      ? Object.assign(new Error(errorText(err, t)), { code: err.code, cause: err })
      : (err as Error);

  function MetaconsoleReplicateNode(this: Node, def: ReplicateDef) {
    RED.nodes.createNode(this, def);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the handlers below are closures that need the node
    const node = this;
    const cfg = RED.nodes.getNode(def.config) as unknown as PandoraConfigNode | null;
    let engine: Replicator | null = null;
    let cluster: NodeCluster | null = null;
    /** The input message of each round a message asked for, by the round's reason. */
    const asked = new Map<string, NodeMessage>();
    let asks = 0;

    const message = (r: ReplicaRoundReport): NodeMessage & Record<string, unknown> => ({
      ...(asked.get(r.reason) ?? {}),
      topic: r.topic,
      payload: reportPayload(r, t),
    });

    try {
      if (!cfg) throw new Error(t('metaconsole-replicate.errors.noConfig'));
      if (cfg.configError) throw cfg.configError;
      const options = optionsFromProperties(def);
      cluster = joinCluster(node, cfg, (m) => node.send(m));
      watchReplicate(RED, node); // metrics (nodes/shared/metrics.ts)
      const rep = new Replicator({
        cc: cfg.getPool(),
        ...options,
        ccFacts: cfg.dbFacts,
        gate: cluster?.gate,
        // The words Pandora's console shows in a held item's `error` column.
        wordNote: (err) => errorText(err, t),
      });
      engine = rep;
      rep.on('report', (r) => {
        replicateReport(RED, node, r); // metrics (nodes/shared/metrics.ts)
        node.send(message(r));
        if (r.topic !== 'sync') return;
        for (const op of r.queue.operations) {
          node.warn(
            t('metaconsole-replicate.warnings.namedOperation', {
              id: op.id,
              operation: op.operation,
              table: op.table,
              carries: op.carries,
              instance: r.instance.id,
            }),
          );
        }
      });
      // Once per change of an Instance's failures: a Catch node hears each one once.
      rep.on('problem', (p) => {
        node.error(
          t('metaconsole-replicate.errors.instance', {
            id: p.instance.id,
            name: p.instance.name,
            errors: p.report.errors.map((e) => errorText(e, t)).join('; '),
          }),
          message(p.report),
        );
      });
      rep.on('failure', (err) => {
        const shown = words(err);
        (cluster ?? node).status(failed(shown.message));
        node.error(shown);
      });
      rep.on('status', (s) => (cluster ?? node).status(countsStatus(s, t)));
      (cluster ?? node).status(
        status('grey', (options.intervalMs ?? 0) > 0 ? WORDS.starting : WORDS.waiting),
      );
      rep.start();
    } catch (err) {
      engine = null;
      const shown = words(err);
      (cluster ?? node).status(failed(shown.message));
      node.error(shown);
    }

    node.on('input', (msg, send, done) => {
      const m = msg as ReplicateMsg;
      const rep = engine;
      if (!rep) {
        done(new Error(t('metaconsole-replicate.errors.notConfigured')));
        return;
      }
      const failedWith = (err: unknown): void => {
        const shown = words(err);
        (cluster ?? node).status(failed(shown.message));
        done(shown);
      };
      const topic = toText(m.topic, 'sync');
      if (topic === 'skip') {
        const payload = m.payload as { id?: unknown } | undefined;
        const id = toText(payload && typeof payload === 'object' ? payload.id : undefined);
        if (id === '') {
          done(new Error(t('metaconsole-replicate.errors.skipNeedsId')));
          return;
        }
        rep.skip(id).then(
          (r) => {
            send({ ...m, topic: 'skip', payload: r } as NodeMessage);
            done();
          },
          (err: unknown) => done(words(err)),
        );
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
        rep
          .merge({
            priority,
            removeInstanceOnly: m.removeInstanceOnly === true || m.removeInstanceOnly === 'true',
          })
          .then((report) => {
            for (const r of report.instances) {
              send({ ...m, topic: 'merge', payload: mergePayload(report, r, t) } as NodeMessage);
            }
            (cluster ?? node).status(countsStatus(rep.status(), t));
            done();
          }, failedWith);
        return;
      }
      if (topic !== 'sync' && topic !== 'plan') {
        done(new Error(t('metaconsole-replicate.errors.unknownTopic', { topic })));
        return;
      }
      if (topic === 'sync') (cluster ?? node).status(status('blue', WORDS.syncing));
      const reason = `message ${++asks}`;
      asked.set(reason, m);
      (topic === 'sync' ? rep.requestRound(reason) : rep.requestPlan(reason))
        .then(() => {
          (cluster ?? node).status(countsStatus(rep.status(), t));
          done();
        }, failedWith)
        .finally(() => asked.delete(reason));
    });

    node.on('close', (removed: boolean, done: () => void) => {
      cluster?.close();
      const e = engine;
      engine = null;
      if (!e) return done();
      e.close(removed ? 'removed' : 'redeployed').then(done, () => done());
    });
  }

  RED.nodes.registerType('metaconsole-replicate', MetaconsoleReplicateNode, {
    // The editor reads the defaults and limits from here (metaconsole-replicate.html).
    settings: {
      metaconsoleReplicateProperties: { value: REPLICATE_PROPERTIES, exportable: true },
    },
  });
};
