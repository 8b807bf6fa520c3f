/**
 * tentacle-pull: the Sync server. Pulls agent files from the remote Tentacle buffers of a
 * pandora-config (`sync_address`) into its `incomingdir`, and pushes files to them.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { parseSyncAddress } from '../../lib/conf/pandora-conf';
import { compilePattern } from '../../lib/sync/names';
import {
  SyncPuller,
  type BufferSummary,
  type DeliverMode,
  type OversizedFile,
  type PulledFile,
  type RoundCauses,
} from '../../lib/sync/puller';
import { toBool, toText } from '../../lib/util/values';
import { integerProperty } from '../shared/properties';
import type { PandoraConfigNode } from '../pandora-config/types';
import { forgetHandedOver, joinCluster, type NodeCluster } from '../shared/cluster';
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
import { pullRound, watchPull } from '../shared/metrics';

interface TentaclePullDef extends NodeDef {
  config: string;
  interval?: unknown;
  deliver?: unknown;
  pattern?: unknown;
  concurrency?: unknown;
  connections?: unknown;
  maxSize?: unknown;
  safe?: unknown;
}

interface PullMessage extends NodeMessage {
  address?: unknown;
  filename?: unknown;
}

const DELIVER_MODES: DeliverMode[] = ['dir', 'msg', 'both'];

export = function (RED: NodeAPI) {
  /** This node's catalogue (locales/<lang>/tentacle-pull.json), in the runtime's language. */
  const t = (key: string, vars?: Record<string, string | number>): string =>
    RED._(`tentacle-pull.${key}`, vars);

  /** A whole-number property, refused with a translated reason naming it and its range. */
  const intProp = integerProperty(t);

  function TentaclePull(this: Node, def: TentaclePullDef) {
    RED.nodes.createNode(this, def);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the usual Node-RED shape
    const node = this;
    let puller: SyncPuller | null = null;
    let cluster: NodeCluster | null = null;
    let setupError: Error | null = null;
    let timer: NodeJS.Timeout | null = null;
    let closing = false;
    const failing = new Map<string, string>();
    let intervalMs = 0;
    // Rounds asked for by a message report their errors through done(err) instead.
    let manual = 0;
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
      intervalMs = intProp(def.interval, 5, 'interval', 0, 86_400) * 1000;
      const deliver = toText(def.deliver, 'dir') as DeliverMode;
      if (!DELIVER_MODES.includes(deliver)) {
        throw new Error(t('errors.deliver', { modes: DELIVER_MODES.join(', '), value: deliver }));
      }
      certNotAfter = cfg.tls?.notAfter;
      // Nothing to pull from is a configuration to fix, not a degraded state.
      if (cfg.sync.buffers.length === 0) (cluster ?? node).status(status('red', WORDS.noBuffers));
      cluster = joinCluster(node, cfg, (m) => node.send([null, m]));
      puller = new SyncPuller({
        gate: cluster?.gate,
        shared: cluster?.shared,
        buffers: cfg.sync.buffers,
        incomingDir: cfg.incomingDir,
        deliver,
        pattern: compilePattern(toText(def.pattern)),
        concurrency: intProp(def.concurrency, 4, 'concurrency', 1, 64),
        connections: intProp(def.connections, 8, 'connections', 1, 64),
        maxSize: intProp(def.maxSize, 2_000_000, 'maxSize', 1, Number.MAX_SAFE_INTEGER),
        safe: toBool(def.safe, true, 'safe'),
        tls: cfg.tls ?? undefined,
        password: cfg.sync.password,
        timeout: cfg.sync.timeout,
        retries: cfg.sync.retries,
      });
    } catch (err) {
      setupError = err as Error;
      node.error(setupError.message);
      (cluster ?? node).status(failed(setupError));
    }

    /** A message caused by an input message starts as a copy of it, as core nodes do. */
    const base = (causes: RoundCauses): NodeMessage & Record<string, unknown> => {
      const cause = causes[0];
      return cause
        ? (RED.util.cloneMessage(cause as NodeMessage) as NodeMessage & Record<string, unknown>)
        : {};
    };
    const onFile = (f: PulledFile, causes: RoundCauses) => {
      const msg: NodeMessage & Record<string, unknown> = {
        ...base(causes),
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
    const onSummary = (s: BufferSummary, causes: RoundCauses) => {
      node.send([null, { ...base(causes), topic: s.address, payload: s }]);
      // A buffer that keeps failing is reported when it starts failing or its error changes,
      // not on every round.
      if (s.error && !s.skipped && manual === 0 && failing.get(s.address) !== s.error) {
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

    const schedule = () => {
      if (closing || !puller || intervalMs <= 0) return;
      timer = setTimeout(() => {
        timer = null;
        if (!puller) return;
        puller
          .requestRound(undefined, false)
          .then(showRound, (err: Error) => node.error(err.message))
          .finally(schedule);
      }, intervalMs);
    };

    if (puller) {
      // -- metrics (nodes/shared/metrics.ts) --
      watchPull(RED, node);
      puller.on('summary', (s: BufferSummary) => pullRound(RED, node, s));
      // -- end metrics --
      puller.on('file', onFile);
      puller.on('summary', onSummary);
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
      schedule();
    }

    const resolveAddress = (value: unknown): string[] | undefined => {
      const text = toText(value);
      if (!text || !puller) return undefined;
      const port = puller.buffers[0]?.port ?? 41121;
      const wanted = parseSyncAddress(text, port).map((e) => e.address);
      const known = new Set(puller.buffers.map((b) => b.address));
      // A bare host names every buffer on that host.
      const out = wanted.flatMap((w) => {
        if (known.has(w)) return [w];
        return puller ? puller.buffers.filter((b) => b.host === text).map((b) => b.address) : [];
      });
      if (out.length === 0) throw new Error(t('errors.address', { address: text }));
      return out;
    };

    node.on('input', (msg: PullMessage, send, done) => {
      if (setupError || !puller) {
        done(setupError ?? new Error(t('errors.notConfigured')));
        return;
      }
      let only: string[] | undefined;
      try {
        only = resolveAddress(msg.address);
      } catch (err) {
        done(err as Error);
        return;
      }
      const active = puller;
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
          (err: Error) => done(err),
        );
        return;
      }
      (cluster ?? node).status(status('blue', WORDS.pulling));
      manual++;
      active.requestRound(only, true, msg).then(
        (summaries) => {
          manual--;
          showRound(summaries);
          const errors = summaries.filter((s) => s.error).map((s) => s.error);
          done(errors.length ? new Error(errors.join('; ')) : undefined);
        },
        (err: Error) => {
          manual--;
          done(err);
        },
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      cluster?.close();
      if (timer) clearTimeout(timer);
      timer = null;
      const p = puller;
      puller = null;
      if (!p) return done();
      p.close().then(
        () => done(),
        () => done(),
      );
    });
  }

  RED.nodes.registerType('tentacle-pull', TentaclePull);
};
