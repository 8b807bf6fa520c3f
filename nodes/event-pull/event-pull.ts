/**
 * event-pull: copies every Instance event (tevento) into the Command Center's tmetaconsole_event
 * exactly once (thin adapter over lib/events).
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { EventBatch, EventPuller, PullProblem } from '../../lib/events';
import type { PandoraConfigNode } from '../pandora-config/types';
import { joinCluster, type NodeCluster } from '../shared/cluster';
import { WORDS, failed, status } from '../shared/status';
import { pullerOptions, Worded, type EventPullProps } from './properties';
import { pullerStatus, type Translate } from './status';
import { eventState, watchEvents } from '../shared/metrics';

interface EventPullDef extends NodeDef, EventPullProps {
  config: string;
}

export = function (RED: NodeAPI) {
  const t: Translate = (key, values) => RED._(key, values);

  function EventPullNode(this: Node, def: EventPullDef) {
    RED.nodes.createNode(this, def);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the handlers below are closures that need the node
    const node = this;
    const cfg = RED.nodes.getNode(def.config) as unknown as PandoraConfigNode | null;
    let puller: EventPuller<NodeMessage> | null = null;
    let cluster: NodeCluster | null = null;

    const showStatus = (): void => {
      if (puller) (cluster ?? node).status(pullerStatus(puller.status(), t));
    };

    /** The message a batch or problem goes out in: the input message's properties carried on. */
    const outMessage = (requests: NodeMessage[], fields: Record<string, unknown>): NodeMessage => {
      const base = requests.length > 0 ? RED.util.cloneMessage(requests[0]) : {};
      return Object.assign(base, fields) as NodeMessage;
    };

    try {
      if (!cfg) throw new Worded(t('event-pull.errors.noConfig'));
      if (cfg.configError) throw new Worded(cfg.configError.message);
      const options = pullerOptions(def, t);
      cluster = joinCluster(node, cfg, (m) => node.send(m));
      puller = new EventPuller<NodeMessage>({ cc: cfg.getPool(), ...options, gate: cluster?.gate });
      puller.on('batch', (b: EventBatch<NodeMessage>) => {
        node.send(
          outMessage(b.requests, { topic: b.kind, payload: b.events, instance: b.instance }),
        );
      });
      puller.on('problem', (p: PullProblem<NodeMessage>) => {
        const msg = outMessage(p.requests, {
          topic: 'error',
          payload: p.message,
          instance: p.instance,
        });
        // Once per outage: the puller only emits `problem` when an instance (or the CC) goes down.
        node.error(Object.assign(new Error(p.message), { cause: p.error }), msg);
      });
      puller.on('recovered', (r) => {
        node.log(
          r.key === 'cc'
            ? t('event-pull.log.commandCenterBack')
            : t('event-pull.log.instanceBack', { id: r.key }),
        );
      });
      puller.on('status', showStatus);
      // -- metrics (nodes/shared/metrics.ts) --
      watchEvents(RED, node);
      puller.on('status', () => puller && eventState(RED, node, puller.status()));
      // -- end metrics --
      (cluster ?? node).status(status('grey', WORDS.starting));
      puller.start();
    } catch (err) {
      puller = null;
      const e = err as Error;
      // Messages not from this node's catalogue come from the engine or the property parser.
      const shown =
        e instanceof Worded ? e : new Error(t('event-pull.errors.setup', { message: e.message }));
      (cluster ?? node).status(failed(shown));
      node.error(shown);
    }

    node.on('input', (msg: NodeMessage, _send, done) => {
      if (!puller) {
        done(new Error(t('event-pull.errors.notConfigured')));
        return;
      }
      puller.round(msg).then(
        () => {
          showStatus();
          done();
        },
        (err: unknown) => done(err as Error),
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      cluster?.close();
      const p = puller;
      puller = null;
      if (!p) return done();
      p.close().then(done, () => done());
    });
  }
  RED.nodes.registerType('event-pull', EventPullNode);
};
