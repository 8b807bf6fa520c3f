/**
 * metaconsole-replicate: keeps the objects shared by the Command Center and its Instances
 * identical on every Instance (thin adapter over lib/replicate).
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { InstanceReport, MergeReport, Replicator } from '../../lib/replicate/replicator';
import { parseObjects } from '../../lib/replicate/tables';
import { toInteger, toList, toNumber, toText } from '../../lib/util/values';
import type { PandoraConfigNode } from '../pandora-config/types';
import { WORDS, failed, joinParts, status } from '../shared/status';

interface ReplicateDef extends NodeDef {
  config: string;
  instances: string | number;
  objects: string;
  interval: string | number;
}

interface ReplicateMsg extends NodeMessage {
  priority?: unknown;
  removeInstanceOnly?: unknown;
}

export = function (RED: NodeAPI) {
  function MetaconsoleReplicateNode(this: Node, def: ReplicateDef) {
    RED.nodes.createNode(this, def);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- handlers below are arrows and closures that need the node
    const node = this;
    const cfg = RED.nodes.getNode(def.config) as unknown as PandoraConfigNode | null;
    let replicator: Replicator | null = null;
    let timer: NodeJS.Timeout | null = null;
    let closing = false;

    const fail = (text: string): void => node.status(failed(text));
    const showStatus = (): void => {
      if (!replicator) return;
      const s = replicator.status();
      node.status(
        status(
          s.failing > 0 ? 'red' : s.behind > 0 ? 'yellow' : 'green',
          joinParts(`${s['in sync']} in sync`, `${s.behind} behind`, `${s.failing} failing`),
        ),
      );
    };

    try {
      if (!cfg) throw new Error('no pandora-config selected');
      if (cfg.configError) throw cfg.configError;
      const interval = toNumber(def.interval, 10, 'interval');
      replicator = new Replicator({
        cc: cfg.getPool(),
        instances: toList(def.instances).map((v) => toInteger(v, 0, 'instances')),
        objects: parseObjects(toList(def.objects)),
      });
      if (interval > 0) {
        const tick = (): void => {
          if (closing) return;
          void round('sync', null).finally(() => {
            if (!closing) timer = setTimeout(tick, interval * 1000);
          });
        };
        timer = setTimeout(tick, 500);
        node.status(status('grey', WORDS.starting));
      } else {
        node.status(status('grey', WORDS.waiting));
      }
    } catch (err) {
      replicator = null;
      fail((err as Error).message);
      node.error(err);
    }

    const emit = (r: InstanceReport, msg: NodeMessage | null): void => {
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
      if (r.errors.length > 0 && r.topic === 'sync') {
        node.error(`instance ${r.instance.id} (${r.instance.name}): ${r.errors.join('; ')}`, out);
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
        done(new Error('metaconsole-replicate is not configured (see its status)'));
        return;
      }
      const topic = toText(m.topic, 'sync');
      if (topic === 'merge') {
        const priority = toList(m.priority).map((v) => toInteger(v, 0, 'priority'));
        node.status(status('blue', WORDS.merging));
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
                  commandCenter: report.commandCenter,
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
        done(new Error(`unknown msg.topic "${topic}": use sync, plan or merge`));
        return;
      }
      if (topic === 'sync') node.status(status('blue', WORDS.syncing));
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
