/**
 * agent-cache: keeps every Instance's agents in the Command Center's tmetaconsole_agent and
 * tmetaconsole_agent_secondary_group (thin adapter over lib/agentcache: builds the engine from the
 * properties, maps its events to messages, status and metrics, and closes it).
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import {
  AGENT_CACHE_PROPERTIES,
  AgentCache,
  AgentCacheError,
  optionsFromProperties,
  type AgentCacheProps,
  type InstanceOutcome,
} from '../../lib/agentcache';
import type { PandoraConfigNode } from '../pandora-config/types';
import { joinCluster, type NodeCluster } from '../shared/cluster';
import { agentCacheState, watchAgentCache } from '../shared/metrics';
import { WORDS, failed, status } from '../shared/status';
import { cacheStatus, errorText, type Translate } from './status';

interface AgentCacheDef extends NodeDef, AgentCacheProps {
  config: string;
}

export = function (RED: NodeAPI) {
  const t: Translate = (key, values) => RED._(key, values);

  /** A failure in the runtime's language: the engine's codes through the catalogue. */
  const words = (err: unknown): Error =>
    err instanceof AgentCacheError
      ? Object.assign(new Error(errorText(err, t)), { code: err.code, cause: err })
      : (err as Error);

  /** What an input message gets back for one Instance. */
  const outcomeOut = (o: InstanceOutcome): Record<string, unknown> =>
    o.outcome === 'failed'
      ? { id: o.id, name: o.name, outcome: o.outcome, error: errorText(o.error, t) }
      : { ...o };

  function AgentCacheNode(this: Node, def: AgentCacheDef) {
    RED.nodes.createNode(this, def);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the handlers below are closures that need the node
    const node = this;
    const cfg = RED.nodes.getNode(def.config) as unknown as PandoraConfigNode | null;
    let engine: AgentCache | null = null;
    let cluster: NodeCluster | null = null;
    let intervalS: number = AGENT_CACHE_PROPERTIES.interval.default;

    try {
      if (!cfg) throw new Error(t('agent-cache.errors.noConfig'));
      if (cfg.configError) throw cfg.configError;
      const options = optionsFromProperties(def);
      intervalS = (options.intervalMs ?? 0) / 1000;
      cluster = joinCluster(node, cfg, (m) => node.send(m));
      const cache = new AgentCache({ cc: cfg.getPool(), ...options, gate: cluster?.gate });
      engine = cache;
      cache.on('problem', (p) => {
        // Once per outage: the engine reports a problem only when it starts.
        node.error(words(p.error), {
          topic: 'error',
          payload: errorText(p.error, t),
          instance: p.instance,
        });
      });
      cache.on('recovered', (r) => {
        node.log(
          r.instance
            ? t('agent-cache.log.instanceBack', { id: r.instance.id, name: r.instance.name })
            : t('agent-cache.log.commandCenterBack'),
        );
      });
      cache.on('purged', (p) => node.log(t('agent-cache.log.purged', { id: p.id, rows: p.rows })));
      watchAgentCache(RED, node);
      cache.on('status', (s) => {
        (cluster ?? node).status(cacheStatus(s, intervalS, t));
        agentCacheState(RED, node, s);
      });
      (cluster ?? node).status(status('grey', WORDS.starting));
      cache.start();
    } catch (err) {
      engine = null;
      const shown = words(err);
      (cluster ?? node).status(failed(shown));
      node.error(shown);
    }

    node.on('input', (msg: NodeMessage, send, done) => {
      if (!engine) {
        done(new Error(t('agent-cache.errors.notConfigured')));
        return;
      }
      engine.requestRound('message').then(
        (summary) => {
          send(
            Object.assign(msg, {
              payload: summary.instances.map(outcomeOut),
              problems: summary.problems.map((e) => errorText(e, t)),
            }),
          );
          done();
        },
        (err: unknown) => done(words(err)),
      );
    });

    node.on('close', (removed: boolean, done: () => void) => {
      cluster?.close();
      const e = engine;
      engine = null;
      if (!e) return done();
      e.close(removed ? 'removed' : 'redeployed').then(done, () => done());
    });
  }

  RED.nodes.registerType('agent-cache', AgentCacheNode, {
    // The editor reads the defaults and limits from here (agent-cache.html): one place for both.
    settings: { agentCacheProperties: { value: AGENT_CACHE_PROPERTIES, exportable: true } },
  });
};
