/**
 * tentacle-buffer: a Tentacle server for an isolated network. Agents SEND to it; the central
 * Sync server pulls with LS + MV. A thin adapter over TentacleServer: properties mirror
 * tentacle_server's options, events become messages, holdings become the status.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { TentacleServer, type TentacleEvent, type TentacleServerOptions } from '../../lib/tentacle';
import { toBool, toText } from '../../lib/util/values';
import { integerProperty } from '../shared/properties';
import { registerCertificateEndpoint } from '../shared/certificates';
import {
  WORDS,
  certFill,
  certText,
  daysUntil,
  failed,
  joinParts,
  sizeText,
  status,
  worst,
} from '../shared/status';
import { watchBuffer } from '../shared/metrics';

interface TentacleBufferDef extends NodeDef {
  address?: unknown;
  port?: unknown;
  storage?: unknown;
  filters?: unknown;
  insecure?: unknown;
  overwrite?: unknown;
  maxSize?: unknown;
  maxConnections?: unknown;
  timeout?: unknown;
  retries?: unknown;
  tlsCert?: unknown;
  tlsKey?: unknown;
  tlsCa?: unknown;
  pullers?: unknown;
  quotaBytes?: unknown;
  quotaFiles?: unknown;
}

interface BufferCredentials {
  password?: string;
}

interface PutMessage extends NodeMessage {
  filename?: unknown;
}

/** The peer of files put by a message (`put` with a tag of the node and the message). */
const FLOW_PEER = 'flow';
/** Node-RED waits about 15 s for close handlers; stay well inside that. */
const CLOSE_GRACE_MS = 5000;
const STATUS_EVERY_MS = 300;
/** An idle buffer still shows the certificate's days going down. */
const CERT_STATUS_EVERY_MS = 3_600_000;

export = function (RED: NodeAPI) {
  /** This node's catalogue (locales/<lang>/tentacle-buffer.json), in the runtime's language. */
  const t = (key: string, vars?: Record<string, string | number>): string =>
    RED._(`tentacle-buffer.${key}`, vars);

  /** A whole-number property, refused with a translated reason naming it and its range. */
  const intProp = integerProperty(t);

  /** Server options from the node's properties; throws a clear error for a bad value. */
  function bufferOptions(
    def: TentacleBufferDef,
    password: string | undefined,
  ): Omit<TentacleServerOptions, 'tls'> & { tlsFiles: { cert: string; key: string; ca: string } } {
    const storage = toText(def.storage);
    if (!storage) throw new Error(t('errors.storage'));
    return {
      address: toText(def.address, '0.0.0.0'),
      port: intProp(def.port, 41121, 'port', 1, 65535),
      storage,
      filters: toText(def.filters) || undefined,
      insecure: toBool(def.insecure, true, 'insecure'),
      overwrite: toBool(def.overwrite, false, 'overwrite'),
      maxSize: intProp(def.maxSize, 2_000_000, 'maxSize', 1, Number.MAX_SAFE_INTEGER),
      maxConnections: intProp(def.maxConnections, 10, 'maxConnections', 1, 10_000),
      timeout: intProp(def.timeout, 1, 'timeout', 1, 3600),
      retries: intProp(def.retries, 3, 'retries', 1, 1000),
      quotaBytes: intProp(def.quotaBytes, 0, 'quotaBytes', 0, Number.MAX_SAFE_INTEGER),
      quotaFiles: intProp(def.quotaFiles, 0, 'quotaFiles', 0, Number.MAX_SAFE_INTEGER),
      password: password || undefined,
      tlsFiles: { cert: toText(def.tlsCert), key: toText(def.tlsKey), ca: toText(def.tlsCa) },
      // Commas only: a CN may hold spaces.
      pullers: toText(def.pullers)
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== ''),
    };
  }

  async function readPem(path: string, what: string): Promise<Buffer> {
    try {
      return await readFile(path);
    } catch (err) {
      throw new Error(t('errors.read', { what, path, message: (err as Error).message }));
    }
  }

  /** The end of validity of the buffer's certificate (the first one of a chain file). */
  function certNotAfter(pem: Buffer, path: string): Date {
    try {
      return new Date(new X509Certificate(pem).validTo);
    } catch (err) {
      throw new Error(t('errors.notPem', { path, message: (err as Error).message }));
    }
  }

  function TentacleBuffer(this: Node, def: TentacleBufferDef) {
    RED.nodes.createNode(this, def);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the usual Node-RED shape
    const node = this;
    let server: TentacleServer | null = null;
    let listening = '';
    let statusTimer: NodeJS.Timeout | null = null;
    let certTimer: NodeJS.Timeout | null = null;
    let notAfter: Date | null = null;
    let lastStatus = 0;
    let closed = false;

    const fail = (err: Error) => {
      node.error(t('errors.failed', { message: err.message }));
      node.status(failed(err));
    };

    const showStatus = () => {
      statusTimer = null;
      if (!server || closed) return;
      lastStatus = Date.now();
      const { files, bytes } = server.stats();
      const days = notAfter ? daysUntil(notAfter) : undefined;
      node.status(
        status(
          worst('green', certFill(days)),
          joinParts(
            listening,
            t('status.held', { count: files, size: sizeText(bytes) }),
            days !== undefined && certText(days),
          ),
        ),
      );
    };
    // Many files a second must not mean many status messages a second.
    const scheduleStatus = () => {
      if (statusTimer || closed) return;
      const wait = Math.max(0, STATUS_EVERY_MS - (Date.now() - lastStatus));
      statusTimer = setTimeout(showStatus, wait);
    };

    const toMessage = (ev: TentacleEvent, from: NodeMessage | null) => {
      const msg: NodeMessage & Record<string, unknown> = {
        ...(from ? (RED.util.cloneMessage(from) as NodeMessage) : {}),
        topic: ev.topic,
        filename: ev.filename,
        size: ev.size,
        peer: ev.peer,
        payload: ev,
      };
      if (ev.reason !== undefined) msg.reason = ev.reason;
      return msg;
    };
    // Files put by an input message are reported by that message's handler, which carries the
    // message's properties through (as core nodes do); the server's event for them is skipped.
    let puts = 0;
    const putPeer = (n: number) => `${FLOW_PEER}#${node.id}#${n}`;
    const refusedPuts = new Map<string, TentacleEvent>();
    const forward = (ev: TentacleEvent) => {
      if (!ev.peer.startsWith(`${FLOW_PEER}#${node.id}#`)) node.send(toMessage(ev, null));
      else if (ev.topic === 'rejected') refusedPuts.set(ev.peer, ev);
    };

    const start = async () => {
      const opts = bufferOptions(
        def,
        (node.credentials as BufferCredentials | undefined)?.password,
      );
      const { tlsFiles, ...base } = opts;
      let tls: TentacleServerOptions['tls'];
      if (tlsFiles.cert || tlsFiles.key || tlsFiles.ca) {
        if (!tlsFiles.cert || !tlsFiles.key) {
          throw new Error(t('errors.tlsPair'));
        }
        tls = {
          cert: await readPem(tlsFiles.cert, 'tlsCert'),
          key: await readPem(tlsFiles.key, 'tlsKey'),
          ca: tlsFiles.ca ? await readPem(tlsFiles.ca, 'tlsCa') : undefined,
        };
        notAfter = certNotAfter(tls.cert as Buffer, tlsFiles.cert);
        const days = daysUntil(notAfter);
        if (days < 0) {
          node.warn(t('warn.certExpired', { path: tlsFiles.cert, date: notAfter.toISOString() }));
        } else if (certFill(days)) {
          node.warn(
            t('warn.certExpires', { path: tlsFiles.cert, days, date: notAfter.toISOString() }),
          );
        }
      }
      if (base.pullers?.length && !tls?.ca) throw new Error(t('errors.pullersNeedCa'));
      const s = new TentacleServer({ ...base, tls });
      // -- metrics (nodes/shared/metrics.ts) --
      watchBuffer(RED, node, s);
      // -- end metrics --
      s.on('received', forward);
      s.on('pulled', forward);
      s.on('rejected', forward);
      s.on('stats', scheduleStatus);
      s.on('error', (err: Error) => node.error(t('errors.failed', { message: err.message })));
      // One warning per client identity that is turned away, not one per connection.
      const warned = new Set<string>();
      s.on('refused', (r) => {
        if (warned.has(r.client) || warned.size >= 100) return;
        warned.add(r.client);
        node.warn(t('warn.refused', { command: r.command, peer: r.peer, client: r.client }));
      });
      const at = await s.listen();
      if (closed) {
        await s.close(0);
        return;
      }
      if (!tls?.ca) {
        // As stock tentacle_server: no CA, no way to tell clients apart. Said once, at start.
        node.log(
          t('warn.anyClient', {
            address: `${at.address}:${at.port}`,
            take: base.insecure ? t('warn.anyClientTake') : '',
          }),
        );
      }
      server = s;
      listening = `${at.address}:${at.port}`;
      showStatus();
      if (notAfter) {
        certTimer = setInterval(scheduleStatus, CERT_STATUS_EVERY_MS);
        certTimer.unref();
      }
    };

    node.status(status('grey', WORDS.starting));
    const ready = start().catch((err: Error) => {
      fail(
        (err as NodeJS.ErrnoException).code === 'EADDRINUSE'
          ? new Error(
              t('errors.portInUse', {
                address: toText(def.address, '0.0.0.0'),
                port: toText(def.port, '41121'),
              }),
            )
          : err,
      );
    });

    node.on('input', (msg: PutMessage, send, done) => {
      const peer = putPeer(++puts);
      void (async () => {
        await ready;
        if (!server) throw new Error(t('errors.notRunning'));
        const filename = toText(msg.filename);
        if (!filename) throw new Error(t('errors.filename'));
        const p = msg.payload;
        const payload = Buffer.isBuffer(p)
          ? p
          : typeof p === 'string'
            ? Buffer.from(p, 'utf8')
            : null;
        if (!payload) throw new Error(t('errors.payload'));
        return server.put(filename, payload, peer);
      })().then(
        (ev) => {
          send(toMessage({ ...ev, peer: FLOW_PEER }, msg));
          done();
        },
        (err: Error) => {
          const refused = refusedPuts.get(peer);
          refusedPuts.delete(peer);
          if (refused) send(toMessage({ ...refused, peer: FLOW_PEER }, msg));
          done(err);
        },
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      if (statusTimer) clearTimeout(statusTimer);
      statusTimer = null;
      if (certTimer) clearInterval(certTimer);
      certTimer = null;
      void ready
        .then(() => server?.close(CLOSE_GRACE_MS))
        .catch((err: Error) => node.error(t('errors.close', { message: err.message })))
        .finally(() => {
          server = null;
          node.status({});
          done();
        });
    });
  }

  RED.nodes.registerType('tentacle-buffer', TentacleBuffer, {
    credentials: { password: { type: 'password' } },
  });
  registerCertificateEndpoint(RED);
};
