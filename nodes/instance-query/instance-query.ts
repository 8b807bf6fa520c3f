/**
 * instance-query: the Command Center's active access to its Instances' agents, modules, alerts
 * and policies (thin adapter over lib/query: builds the engine from the properties, words its
 * answers and errors from the catalogue, and closes it).
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import {
  INSTANCE_QUERY_PROPERTIES,
  InstanceQuery,
  isRead,
  optionsFromProperties,
  parseOperation,
  type InstanceQueryProps,
  type Operation,
} from '../../lib/query';
import { CodedError } from '../../lib/util/errors';
import type { PandoraConfigNode } from '../pandora-config/types';
import { failed, status } from '../shared/status';
import { answerStatus, errorText, instancesOut, rowsOut, type Translate } from './status';

interface InstanceQueryDef extends NodeDef, InstanceQueryProps {
  config: string;
}

type QueryMessage = NodeMessage & { instances?: ReturnType<typeof instancesOut> };

export = function (RED: NodeAPI) {
  const t: Translate = (key, values) => RED._(key, values);

  /** A failure in the runtime's language: coded errors through the catalogue. */
  const words = (err: unknown): Error =>
    err instanceof CodedError
      ? Object.assign(new Error(errorText(err, t)), { code: err.code, cause: err })
      : (err as Error);

  function InstanceQueryNode(this: Node, def: InstanceQueryDef) {
    RED.nodes.createNode(this, def);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the handlers below are closures that need the node
    const node = this;
    const cfg = RED.nodes.getNode(def.config) as unknown as PandoraConfigNode | null;
    let engine: InstanceQuery | null = null;
    let fallback: Operation = INSTANCE_QUERY_PROPERTIES.query.default;
    let allowChanges = false;

    /** The operation a message asks for, when it is a change this node may not make. */
    const forbiddenChange = (topic: unknown): Operation | null => {
      if (allowChanges) return null;
      let op: Operation;
      try {
        op = parseOperation(topic, fallback);
      } catch {
        return null; // the engine refuses an unknown operation with its own error
      }
      return isRead(op) ? null : op;
    };

    try {
      if (!cfg) throw new Error(t('instance-query.errors.noConfig'));
      if (cfg.configError) throw cfg.configError;
      const choices = optionsFromProperties(def);
      fallback = choices.fallback;
      allowChanges = choices.allowChanges;
      engine = new InstanceQuery({ cc: cfg.getPool(), ...choices.options });
      node.status({});
    } catch (err) {
      engine = null;
      const shown = words(err);
      node.status(failed(shown));
      node.error(shown);
    }

    node.on('input', (msg: QueryMessage, send, done) => {
      if (!engine) {
        done(new Error(t('instance-query.errors.notConfigured')));
        return;
      }
      // Before anything is asked of an Instance: a topic set upstream (MQTT, HTTP) must not turn
      // this node into one that writes.
      const change = forbiddenChange(msg.topic);
      if (change) {
        const err = new Error(t('instance-query.errors.changesOff', { operation: change }));
        node.status(failed(err));
        done(err);
        return;
      }
      node.status(status('blue', t('instance-query.status.asking')));
      engine.run(msg.topic, msg.payload, fallback).then(
        (answer) => {
          msg.payload = rowsOut(answer.rows, t);
          msg.instances = instancesOut(answer.instances, t);
          node.status(answerStatus(answer, t));
          send(msg);
          done();
        },
        (err: unknown) => {
          const shown = words(err);
          node.status(failed(shown));
          done(shown);
        },
      );
    });

    node.on('close', (removed: boolean, done: () => void) => {
      const e = engine;
      engine = null;
      if (!e) return done();
      e.close(removed ? 'removed' : 'redeployed').then(done, () => done());
    });
  }

  RED.nodes.registerType('instance-query', InstanceQueryNode, {
    // The editor reads the defaults and limits from here (instance-query.html): one place for both.
    settings: {
      instanceQueryProperties: { value: INSTANCE_QUERY_PROPERTIES, exportable: true },
    },
  });
};
