/**
 * tentacle-buffer: a Tentacle server for an isolated network. Agents SEND to it; the central
 * Sync server pulls with LS + MV. A thin adapter over TentacleServer: properties mirror
 * tentacle_server's options, events become messages, holdings become the status.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { TentacleServer, type TentacleEvent, type TentacleServerOptions } from '../../lib/tentacle';
import { toBool, toInteger, toText } from '../../lib/util/values';
import { registerCertificateEndpoint } from '../shared/certificates';
import {
  WORDS,
  certFill,
  certText,
  daysUntil,
  failed,
  joinParts,
  plural,
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
  quotaBytes?: unknown;
  quotaFiles?: unknown;
}

interface BufferCredentials {
  password?: string;
}

interface PutMessage extends NodeMessage {
  filename?: unknown;
}

/** Node-RED waits about 15 s for close handlers; stay well inside that. */
const CLOSE_GRACE_MS = 5000;
const STATUS_EVERY_MS = 300;
/** An idle buffer still shows the certificate's days going down. */
const CERT_STATUS_EVERY_MS = 3_600_000;

/** Server options from the node's properties; throws a clear error for a bad value. */
function bufferOptions(
  def: TentacleBufferDef,
  password: string | undefined,
): Omit<TentacleServerOptions, 'tls'> & { tlsFiles: { cert: string; key: string; ca: string } } {
  const storage = toText(def.storage);
  if (!storage) throw new Error('storage directory is required');
  return {
    address: toText(def.address, '0.0.0.0'),
    port: toInteger(def.port, 41121, 'port', 1, 65535),
    storage,
    filters: toText(def.filters) || undefined,
    insecure: toBool(def.insecure, true, 'insecure'),
    overwrite: toBool(def.overwrite, false, 'overwrite'),
    maxSize: toInteger(def.maxSize, 2_000_000, 'maxSize', 1),
    maxConnections: toInteger(def.maxConnections, 10, 'maxConnections', 1, 10_000),
    timeout: toInteger(def.timeout, 1, 'timeout', 1, 3600),
    retries: toInteger(def.retries, 3, 'retries', 1, 1000),
    quotaBytes: toInteger(def.quotaBytes, 0, 'quotaBytes', 0),
    quotaFiles: toInteger(def.quotaFiles, 0, 'quotaFiles', 0),
    password: password || undefined,
    tlsFiles: { cert: toText(def.tlsCert), key: toText(def.tlsKey), ca: toText(def.tlsCa) },
  };
}

async function readPem(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new Error(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

/** The end of validity of the buffer's certificate (the first one of a chain file). */
function certNotAfter(pem: Buffer, path: string): Date {
  try {
    return new Date(new X509Certificate(pem).validTo);
  } catch (err) {
    throw new Error(`tlsCert ${path} is not a PEM certificate: ${(err as Error).message}`);
  }
}

export = function (RED: NodeAPI) {
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
      node.error(`tentacle-buffer: ${err.message}`);
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
            `${plural(files, 'file')}, ${sizeText(bytes)}`,
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

    const forward = (ev: TentacleEvent) => {
      const msg: NodeMessage & Record<string, unknown> = {
        topic: ev.topic,
        filename: ev.filename,
        size: ev.size,
        peer: ev.peer,
        payload: ev,
      };
      if (ev.reason !== undefined) msg.reason = ev.reason;
      node.send(msg);
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
          throw new Error('TLS needs both tlsCert and tlsKey');
        }
        tls = {
          cert: await readPem(tlsFiles.cert, 'tlsCert'),
          key: await readPem(tlsFiles.key, 'tlsKey'),
          ca: tlsFiles.ca ? await readPem(tlsFiles.ca, 'tlsCa') : undefined,
        };
        notAfter = certNotAfter(tls.cert as Buffer, tlsFiles.cert);
        const days = daysUntil(notAfter);
        if (days < 0) {
          node.warn(`tlsCert ${tlsFiles.cert} expired on ${notAfter.toISOString()}`);
        } else if (certFill(days)) {
          node.warn(`tlsCert ${tlsFiles.cert} expires in ${days} days (${notAfter.toISOString()})`);
        }
      }
      const s = new TentacleServer({ ...base, tls });
      // -- metrics (nodes/shared/metrics.ts) --
      watchBuffer(RED, node, s);
      // -- end metrics --
      s.on('received', forward);
      s.on('pulled', forward);
      s.on('rejected', forward);
      s.on('stats', scheduleStatus);
      s.on('error', (err: Error) => node.error(`tentacle-buffer: ${err.message}`));
      const at = await s.listen();
      if (closed) {
        await s.close(0);
        return;
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
          ? new Error(`port in use: ${toText(def.address, '0.0.0.0')}:${toText(def.port, '41121')}`)
          : err,
      );
    });

    node.on('input', (msg: PutMessage, send, done) => {
      void (async () => {
        await ready;
        if (!server) throw new Error('the buffer is not running (see the node status)');
        const filename = toText(msg.filename);
        if (!filename) throw new Error('msg.filename is required');
        const p = msg.payload;
        const payload = Buffer.isBuffer(p)
          ? p
          : typeof p === 'string'
            ? Buffer.from(p, 'utf8')
            : null;
        if (!payload) throw new Error('msg.payload must be a Buffer or a string');
        await server.put(filename, payload, 'flow');
      })().then(
        () => done(),
        (err: Error) => done(err),
      );
      void send;
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      if (statusTimer) clearTimeout(statusTimer);
      statusTimer = null;
      if (certTimer) clearInterval(certTimer);
      certTimer = null;
      void ready
        .then(() => server?.close(CLOSE_GRACE_MS))
        .catch((err: Error) => node.error(`tentacle-buffer: close: ${err.message}`))
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
