/**
 * event-pull: copies every Instance event (tevento) into the Command Center's tmetaconsole_event
 * exactly once (thin adapter over lib/events: builds the puller from the properties, maps its
 * events to messages, status and metrics, and closes it).
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { createPool, type Pool } from '../../lib/db/pool';
import {
  EVENT_PULL_CC_CONNECTIONS,
  EVENT_PULL_PROPERTIES,
  EventPullError,
  EventPuller,
  optionsFromProperties,
  type EventPullProps,
} from '../../lib/events';
import type { PandoraConfigNode } from '../pandora-config/types';
import { joinCluster, type NodeCluster } from '../shared/cluster';
import { eventState, watchEvents } from '../shared/metrics';
import { WORDS, failed, status } from '../shared/status';
import { errorText, pullerStatus, type Translate } from './status';

interface EventPullDef extends NodeDef, EventPullProps {
  config: string;
}

/** A failure already worded for the user (from a catalogue), shown as it is. */
class Worded extends Error {}

export = function (RED: NodeAPI) {
  const t: Translate = (key, values) => RED._(key, values);

  /** A failure in the runtime's language: the engine's codes through the catalogue. */
  const words = (err: unknown): Error =>
    err instanceof EventPullError
      ? Object.assign(new Error(errorText(err, t)), { code: err.code, cause: err })
      : (err as Error);

  function EventPullNode(this: Node, def: EventPullDef) {
    RED.nodes.createNode(this, def);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the handlers below are closures that need the node
    const node = this;
    const cfg = RED.nodes.getNode(def.config) as unknown as PandoraConfigNode | null;
    let puller: EventPuller<NodeMessage> | null = null;
    let cluster: NodeCluster | null = null;
    /** The puller's own Command Center pool (see EVENT_PULL_CC_CONNECTIONS), ended on close. */
    let ccPool: Pool | null = null;

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
      const options = optionsFromProperties(def);
      cluster = joinCluster(node, cfg, (m) => node.send(m));
      ccPool = createPool(cfg.dbFacts, { connectionLimit: EVENT_PULL_CC_CONNECTIONS });
      puller = new EventPuller<NodeMessage>({ cc: ccPool, ...options, gate: cluster?.gate });
      puller.on('batch', (b) => {
        node.send(
          outMessage(b.requests, { topic: b.kind, payload: b.events, instance: b.instance }),
        );
      });
      puller.on('problem', (p) => {
        const msg = outMessage(p.requests, {
          topic: 'error',
          payload: errorText(p.error, t),
          instance: p.instance,
        });
        // Once per outage: the puller only emits `problem` when an instance (or the CC) goes down.
        node.error(words(p.error), msg);
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
      void ccPool?.end().catch(() => {});
      ccPool = null;
      // Failures not worded here (the engine's) are worded from its codes, or said as they are.
      const shown =
        err instanceof Worded || err instanceof EventPullError
          ? words(err)
          : new Error(t('event-pull.errors.setup', { message: (err as Error).message }));
      (cluster ?? node).status(failed(shown));
      node.error(shown);
    }

    node.on('input', (msg: NodeMessage, _send, done) => {
      if (!puller) {
        done(new Error(t('event-pull.errors.notConfigured')));
        return;
      }
      puller.requestRound(msg).then(
        () => {
          showStatus();
          done();
        },
        (err: unknown) => done(words(err)),
      );
    });

    node.on('close', (removed: boolean, done: () => void) => {
      cluster?.close();
      const p = puller;
      const pool = ccPool;
      puller = null;
      ccPool = null;
      const end = () => (pool ? pool.end().catch(() => {}) : Promise.resolve());
      if (!p) return void end().then(done);
      p.close(removed ? 'removed' : 'redeployed')
        .then(end, end)
        .then(done, done);
    });
  }
  RED.nodes.registerType('event-pull', EventPullNode, {
    // The editor reads the defaults and limits from here (event-pull.html): one place for both.
    settings: { eventPullProperties: { value: EVENT_PULL_PROPERTIES, exportable: true } },
  });
};
