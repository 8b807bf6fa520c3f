/**
 * event-pull: copies every Instance event (tevento) into the Command Center's tmetaconsole_event
 * exactly once (thin adapter over lib/events).
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { EventBatch, EventPuller, PullMode, PullProblem } from '../../lib/events';
import { toBool, toInteger, toList, toNumber, toText } from '../../lib/util/values';
import type { PandoraConfigNode } from '../pandora-config/types';
import { WORDS, failed, joinParts, shortText, status } from '../shared/status';

/** Beyond this many instances the status gives the worst lag instead of each one. */
const LAGS_SHOWN = 4;
/** Seconds of lag that make the status yellow. */
const BEHIND_S = 60;

interface EventPullDef extends NodeDef {
  config: string;
  instances: string | number;
  interval: string | number;
  batchSize: string | number;
  mode: string;
  writeBack: string | boolean;
}

export = function (RED: NodeAPI) {
  function EventPullNode(this: Node, def: EventPullDef) {
    RED.nodes.createNode(this, def);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the handlers below are closures that need the node
    const node = this;
    const cfg = RED.nodes.getNode(def.config) as unknown as PandoraConfigNode | null;
    let puller: EventPuller | null = null;

    const showStatus = (): void => {
      if (!puller) return;
      const list = puller.status();
      const summary = puller.statusText();
      if (/^Command Center/.test(summary)) {
        node.status(failed(summary));
        return;
      }
      if (list.length === 0) {
        node.status(status('grey', WORDS.noInstances));
        return;
      }
      const lag = (s: (typeof list)[number]) =>
        s.down || s.lag === null ? '?' : String(Math.round(s.lag));
      const known = list.filter((s) => !s.down && s.lag !== null).map((s) => s.lag as number);
      const lags =
        list.length <= LAGS_SHOWN
          ? `lag ${list.map(lag).join('/')} s`
          : `max lag ${known.length ? Math.round(Math.max(...known)) : '?'} s`;
      const down = list.filter((s) => s.down).map((s) => s.id);
      const behind = known.some((l) => l > BEHIND_S);
      node.status(
        status(
          down.length ? 'red' : behind ? 'yellow' : 'green',
          joinParts(
            `${list.length} inst`,
            lags,
            down.length > 0 && shortText(`down: ${down.join(', ')}`, 20),
          ),
        ),
      );
    };

    try {
      if (!cfg) throw new Error('no pandora-config selected');
      if (cfg.configError) throw cfg.configError;
      const mode = toText(def.mode, 'all');
      if (mode !== 'all' && mode !== 'only_validated') {
        throw new RangeError(`mode must be "all" or "only_validated", got ${JSON.stringify(mode)}`);
      }
      puller = new EventPuller({
        cc: cfg.getPool(),
        instances: toList(def.instances).map((v) => toInteger(v, 0, 'instances', 1)),
        intervalMs: toNumber(def.interval, 10, 'interval') * 1000,
        batchSize: toInteger(def.batchSize, 1000, 'batchSize', 1, 100000),
        mode: mode as PullMode,
        writeBack: toBool(def.writeBack, false, 'writeBack'),
      });
      puller.on('batch', (b: EventBatch) => {
        node.send({ topic: b.kind, payload: b.events, instance: b.instance } as NodeMessage);
      });
      puller.on('problem', (p: PullProblem) => {
        const msg = { topic: 'error', payload: p.message, instance: p.instance } as NodeMessage;
        // Once per outage: the puller only emits `problem` when an instance (or the CC) goes down.
        node.error(Object.assign(new Error(p.message), { cause: p.error }), msg);
      });
      puller.on('recovered', (r: { key: string }) => {
        node.log(`${r.key === 'cc' ? 'Command Center' : `instance ${r.key}`} is reachable again`);
      });
      puller.on('status', showStatus);
      node.status(status('grey', WORDS.starting));
      puller.start();
    } catch (err) {
      puller = null;
      node.status(failed(err as Error));
      node.error(err);
    }

    node.on('input', (msg: NodeMessage, _send, done) => {
      if (!puller) {
        done(new Error('event-pull is not configured (see its status)'));
        return;
      }
      puller.round().then(
        () => {
          showStatus();
          done();
        },
        (err: unknown) => done(err as Error),
      );
      void msg;
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      const p = puller;
      puller = null;
      if (!p) return done();
      p.close().then(done, () => done());
    });
  }
  RED.nodes.registerType('event-pull', EventPullNode);
};
