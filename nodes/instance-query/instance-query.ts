/**
 * instance-query: the Command Center's active access to its Instances' agents, modules, alerts
 * and policies (thin adapter over lib/query).
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import {
  InstanceQuery,
  QueryAnswer,
  isRead,
  parseOperation,
  type Operation,
} from '../../lib/query';
import { toBool, toInteger, toList, toNumber, toText } from '../../lib/util/values';
import type { PandoraConfigNode } from '../pandora-config/types';
import { failed, secondsText, status } from '../shared/status';

interface InstanceQueryDef extends NodeDef {
  config: string;
  instances: string | number;
  query: string;
  timeout: string | number;
  limit: string | number;
  /** Off by default: a message naming a change operation is refused (a topic is not a permission). */
  allowChanges?: unknown;
}

type QueryMessage = NodeMessage & { instances?: QueryAnswer['instances'] };

export = function (RED: NodeAPI) {
  function InstanceQueryNode(this: Node, def: InstanceQueryDef) {
    RED.nodes.createNode(this, def);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the handlers below are closures that need the node
    const node = this;
    const cfg = RED.nodes.getNode(def.config) as unknown as PandoraConfigNode | null;
    let engine: InstanceQuery | null = null;
    let fallback = 'agents';
    let allowChanges = false;

    /** The operation a message asks for, when it is a change this node may not make. */
    const forbiddenChange = (topic: unknown): Operation | null => {
      if (allowChanges) return null;
      let op: Operation;
      try {
        op = parseOperation(topic, fallback);
      } catch {
        return null; // the engine refuses an unknown operation with its own message
      }
      return isRead(op) ? null : op;
    };

    const showAnswer = (a: QueryAnswer): void => {
      const asked = a.instances.length;
      if (asked === 0) {
        node.status(status('grey', RED._('instance-query.status.noInstances')));
        return;
      }
      const answered = a.instances.filter((i) => i.ok).length;
      const slowest = Math.max(0, ...a.instances.filter((i) => i.ok).map((i) => i.ms));
      node.status(
        status(
          answered === asked ? 'green' : answered === 0 ? 'red' : 'yellow',
          RED._('instance-query.status.answered', {
            answered,
            asked,
            slowest: secondsText(slowest),
          }),
        ),
      );
    };

    try {
      if (!cfg) throw new Error('no pandora-config selected');
      if (cfg.configError) throw cfg.configError;
      fallback = parseOperation(toText(def.query, 'agents'), 'agents');
      allowChanges = toBool(def.allowChanges, false, 'allowChanges');
      engine = new InstanceQuery({
        cc: cfg.getPool(),
        instances: toList(def.instances).map((v) => toInteger(v, 0, 'instances', 1)),
        timeoutMs: Math.round(toNumber(def.timeout, 10, 'timeout') * 1000),
        limit: toInteger(def.limit, 1000, 'limit', 1, 1_000_000),
      });
      node.status({});
    } catch (err) {
      engine = null;
      node.status(failed(err as Error));
      node.error(err);
    }

    node.on('input', (msg: QueryMessage, send, done) => {
      if (!engine) {
        done(new Error('instance-query is not configured (see its status)'));
        return;
      }
      // Before anything is asked of an Instance: a topic set upstream (MQTT, HTTP) must not turn
      // this node into one that writes.
      const change = forbiddenChange(msg.topic);
      if (change) {
        const err = new Error(RED._('instance-query.errors.changesOff', { operation: change }));
        node.status(failed(err));
        done(err);
        return;
      }
      node.status(status('blue', RED._('instance-query.status.asking')));
      engine.run(msg.topic, msg.payload, fallback).then(
        (answer) => {
          msg.payload = answer.rows;
          msg.instances = answer.instances;
          showAnswer(answer);
          send(msg);
          done();
        },
        (err: unknown) => {
          node.status(failed(err as Error));
          done(err as Error);
        },
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      const e = engine;
      engine = null;
      if (!e) return done();
      e.close().then(done, () => done());
    });
  }
  RED.nodes.registerType('instance-query', InstanceQueryNode);
};
