/**
 * tentacle-pull: the Sync server. Pulls agent files from the remote Tentacle buffers of a
 * pandora-config (`sync_address`) into its `incomingdir`, and pushes files to them (thin adapter
 * over lib/sync: builds the engine from the properties, maps its events to messages, status and
 * metrics, and closes it).
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import {
  SyncError,
  SyncPuller,
  TENTACLE_PULL_PROPERTIES,
  optionsFromProperties,
  type BufferSummary,
  type OversizedFile,
  type PulledFile,
  type RoundInfo,
  type TentaclePullProps,
} from '../../lib/sync';
import { toText } from '../../lib/util/values';
import type { PandoraConfigNode } from '../pandora-config/types';
import { forgetHandedOver, joinCluster, type NodeCluster } from '../shared/cluster';
import { pullRound, watchPull } from '../shared/metrics';
import {
  WORDS,
  certFill,
  certText,
  daysUntil,
  failed,
  joinParts,
  shortText,
  status,
  worst,
  type Fill,
} from '../shared/status';

interface TentaclePullDef extends NodeDef, TentaclePullProps {
  config: string;
}

interface PullMessage extends NodeMessage {
  address?: unknown;
  filename?: unknown;
}

export = function (RED: NodeAPI) {
  /** This node's catalogue (locales/<lang>/tentacle-pull.json), in the runtime's language. */
  const t = (key: string, vars?: Record<string, string | number>): string =>
    RED._(`tentacle-pull.${key}`, vars);

  /** A failure in the runtime's language: the engine's codes through the catalogue. */
  const words = (err: unknown): Error =>
    err instanceof SyncError
      ? Object.assign(new Error(t(`errors.${err.code}`, err.facts)), { code: err.code, cause: err })
      : (err as Error);

  function TentaclePull(this: Node, def: TentaclePullDef) {
    RED.nodes.createNode(this, def);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the usual Node-RED shape
    const node = this;
    let puller: SyncPuller | null = null;
    let cluster: NodeCluster | null = null;
    let setupError: Error | null = null;
    const failing = new Map<string, string>();
    // The client certificate (sync_cert) the buffers see: its days left go in the status.
    let certNotAfter: Date | undefined;
    const certPart = (): { days?: number; text?: string } => {
      if (!certNotAfter) return {};
      const days = daysUntil(certNotAfter);
      return { days, text: certText(days) };
    };

    try {
      const cfg = RED.nodes.getNode(def.config) as PandoraConfigNode | null;
      if (!cfg) throw new Error(t('errors.noConfig'));
      if (cfg.configError) {
        throw new Error(t('errors.config', { message: cfg.configError.message }));
      }
      if (cfg.tlsError) throw new Error(t('errors.config', { message: cfg.tlsError.message }));
      const options = optionsFromProperties(def);
      certNotAfter = cfg.tls?.notAfter;
      // Nothing to pull from is a configuration to fix, not a degraded state.
      if (cfg.sync.buffers.length === 0) (cluster ?? node).status(status('red', WORDS.noBuffers));
      cluster = joinCluster(node, cfg, (m) => node.send([null, m]));
      puller = new SyncPuller({
        ...options,
        gate: cluster?.gate,
        shared: cluster?.shared,
        buffers: cfg.sync.buffers,
        incomingDir: cfg.incomingDir,
        tls: cfg.tls ?? undefined,
        password: cfg.sync.password,
        timeout: cfg.sync.timeout,
        retries: cfg.sync.retries,
      });
    } catch (err) {
      setupError = words(err);
      node.error(setupError.message);
      (cluster ?? node).status(failed(setupError));
    }

    /** A message caused by an input message starts as a copy of it, as core nodes do. */
    const base = (round: RoundInfo): NodeMessage & Record<string, unknown> => {
      const origin = round.origins[0];
      return origin
        ? (RED.util.cloneMessage(origin as NodeMessage) as NodeMessage & Record<string, unknown>)
        : {};
    };
    const onFile = (f: PulledFile, round: RoundInfo) => {
      const msg: NodeMessage & Record<string, unknown> = {
        ...base(round),
        topic: f.filename,
        filename: f.filename,
        size: f.size,
        address: f.address,
        sha1: f.sha1,
      };
      if (f.path) msg.path = f.path;
      if (f.payload) msg.payload = f.payload;
      node.send([msg, null]);
    };
    const onSummary = (s: BufferSummary, round: RoundInfo) => {
      node.send([null, { ...base(round), topic: s.address, payload: s }]);
      // A buffer that keeps failing is reported when it starts failing or its error changes,
      // not on every round. Rounds asked for by a message report through done(err) instead.
      if (s.error && !s.skipped && round.reason === 'timer' && failing.get(s.address) !== s.error) {
        node.error(s.error, { topic: s.address, payload: s });
      }
      if (s.error) failing.set(s.address, s.error);
      else failing.delete(s.address);
    };
    // The puller reports each oversized file once; it stays on its buffer until maxSize is raised.
    const onOversized = (o: OversizedFile) => {
      const text = t('errors.oversized', {
        filename: o.filename,
        address: o.address,
        size: o.size,
        maxSize: o.maxSize,
      });
      node.warn(text);
      node.send([null, { topic: 'oversized', payload: { ...o, error: text } }]);
    };
    const showRound = (summaries: BufferSummary[]) => {
      forgetHandedOver(cluster, failing);
      const files = summaries.reduce((n, s) => n + s.files, 0);
      const ms = summaries.reduce((n, s) => Math.max(n, s.ms), 0);
      const total = puller?.buffers.length ?? 0;
      const cert = certPart();
      const fill: Fill = failing.size === 0 ? 'green' : failing.size < total ? 'yellow' : 'red';
      const round = t('status.files', { count: files, seconds: (ms / 1000).toFixed(1) });
      (cluster ?? node).status(
        status(
          worst(fill, certFill(cert.days)),
          failing.size
            ? joinParts(t('status.failing', { failing: failing.size, total }), round, cert.text)
            : joinParts(t('status.buffers', { count: total }), round, cert.text),
        ),
      );
    };

    if (puller) {
      // -- metrics (nodes/shared/metrics.ts) --
      watchPull(RED, node);
      puller.on('summary', (s: BufferSummary) => pullRound(RED, node, s));
      // -- end metrics --
      puller.on('file', onFile);
      puller.on('summary', onSummary);
      puller.on('round', showRound);
      puller.on('oversized', onOversized);
      puller.on('zrecv', (address) => node.log(t('log.zrecv', { address })));
      if (puller.buffers.length) {
        const cert = certPart();
        const warn = certFill(cert.days);
        // A certificate about to expire shows before the first round, not only after it.
        (cluster ?? node).status(
          warn
            ? status(
                warn,
                joinParts(t('status.buffers', { count: puller.buffers.length }), cert.text),
              )
            : status('grey', WORDS.waiting),
        );
      }
      puller.start();
    }

    node.on('input', (msg: PullMessage, send, done) => {
      if (setupError || !puller) {
        done(setupError ?? new Error(t('errors.notConfigured')));
        return;
      }
      const active = puller;
      let only: string[] | undefined;
      try {
        only = active.addresses(toText(msg.address));
      } catch (err) {
        done(words(err));
        return;
      }
      const filename = toText(msg.filename);
      if (filename && msg.payload !== undefined && msg.payload !== null) {
        const payload = Buffer.isBuffer(msg.payload)
          ? msg.payload
          : Buffer.from(
              typeof msg.payload === 'string' ? msg.payload : JSON.stringify(msg.payload),
            );
        const name = filename.split('/').pop() as string;
        (cluster ?? node).status(status('blue', shortText(t('status.pushing', { name }), 40)));
        active.push(name, payload, only).then(
          (results) => {
            for (const r of results) {
              send([null, { ...msg, topic: 'push', address: r.address, payload: r }]);
            }
            const failed = results.filter((r) => !r.ok);
            (cluster ?? node).status(
              status(
                failed.length ? 'red' : 'green',
                joinParts(
                  shortText(t('status.pushed', { name }), 30),
                  t('status.pushedTo', {
                    ok: results.length - failed.length,
                    total: results.length,
                  }),
                ),
              ),
            );
            done(failed.length ? new Error(failed.map((r) => r.error).join('; ')) : undefined);
          },
          (err: unknown) => done(words(err)),
        );
        return;
      }
      (cluster ?? node).status(status('blue', WORDS.pulling));
      active.requestRound('message', { only, origin: msg }).then(
        (summaries) => {
          const errors = summaries.filter((s) => s.error).map((s) => s.error);
          done(errors.length ? new Error(errors.join('; ')) : undefined);
        },
        (err: unknown) => done(words(err)),
      );
    });

    node.on('close', (removed: boolean, done: () => void) => {
      cluster?.close();
      const p = puller;
      puller = null;
      if (!p) return done();
      p.close(removed ? 'removed' : 'redeployed').then(
        () => done(),
        () => done(),
      );
    });
  }

  RED.nodes.registerType('tentacle-pull', TentaclePull, {
    // The editor reads the defaults and limits from here (tentacle-pull.html): one place for both.
    settings: {
      tentaclePullProperties: { value: TENTACLE_PULL_PROPERTIES, exportable: true },
    },
  });
};
