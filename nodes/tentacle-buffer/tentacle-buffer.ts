/**
 * tentacle-buffer: a Tentacle server for an isolated network. Agents SEND to it; the central
 * Sync server pulls with LS + MV. A thin adapter over TentacleServer: properties mirror
 * tentacle_server's options (lib/tentacle/options), events become messages, holdings the status.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import {
  optionsFromProperties,
  TENTACLE_BUFFER_PROPERTIES,
  TENTACLE_BUFFER_TEXT_DEFAULTS,
  TentacleServer,
  type TentacleBufferProps,
  type TentacleEvent,
} from '../../lib/tentacle';
import { readServerPems } from '../../lib/tls/pem';
import { isCoded } from '../../lib/util/errors';
import { toText } from '../../lib/util/values';
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

interface TentacleBufferDef extends NodeDef, TentacleBufferProps {}

interface BufferCredentials {
  password?: string;
}

interface PutMessage extends NodeMessage {
  filename?: unknown;
}

/** The peer of files put by a message (`put` with a tag of the node and the message). */
const FLOW_PEER = 'flow';
/** Node-RED waits about 15 s for close handlers; the server's grace (5 s) stays well inside. */
const STATUS_EVERY_MS = 300;
/** An idle buffer still shows the certificate's days going down. */
const CERT_STATUS_EVERY_MS = 3_600_000;

export = function (RED: NodeAPI) {
  /** This node's catalogue (locales/<lang>/tentacle-buffer.json), in the runtime's language. */
  const t = (key: string, vars?: Record<string, string | number>): string =>
    RED._(`tentacle-buffer.${key}`, vars);

  /** A failure in the runtime's language: the engine's codes through the catalogue. */
  const words = (err: unknown): Error =>
    isCoded(err)
      ? Object.assign(new Error(t(`errors.${err.code}`, err.facts)), { code: err.code, cause: err })
      : err instanceof Error
        ? err
        : new Error(String(err));

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
      const { options, tlsPaths } = optionsFromProperties(
        def,
        (node.credentials as BufferCredentials | undefined)?.password,
      );
      const pems = await readServerPems(tlsPaths);
      const tls = pems ? { cert: pems.cert, key: pems.key, ca: pems.ca } : undefined;
      if (pems) {
        notAfter = pems.notAfter;
        const days = daysUntil(notAfter);
        if (days < 0) {
          node.warn(t('warn.certExpired', { path: tlsPaths.cert, date: notAfter.toISOString() }));
        } else if (certFill(days)) {
          node.warn(
            t('warn.certExpires', { path: tlsPaths.cert, days, date: notAfter.toISOString() }),
          );
        }
      }
      const base = options;
      const s = new TentacleServer({ ...base, tls });
      // -- metrics (nodes/shared/metrics.ts) --
      watchBuffer(RED, node, s);
      // -- end metrics --
      s.on('received', forward);
      s.on('pulled', forward);
      s.on('rejected', forward);
      s.on('stats', scheduleStatus);
      s.on('error', (err: Error) =>
        node.error(t('errors.failed', { message: words(err).message })),
      );
      // One warning per client identity that is turned away, not one per connection.
      const warned = new Set<string>();
      s.on('refused', (r) => {
        if (warned.has(r.client) || warned.size >= 100) return;
        warned.add(r.client);
        node.warn(t('warn.refused', { command: r.command, peer: r.peer, client: r.client }));
      });
      if (closed) return;
      server = s;
      const at = await s.start();
      if (!tls?.ca) {
        // As stock tentacle_server: no CA, no way to tell clients apart. Said once, at start.
        node.log(
          t('warn.anyClient', {
            address: `${at.address}:${at.port}`,
            take: base.insecure ? t('warn.anyClientTake') : '',
          }),
        );
      }
      listening = `${at.address}:${at.port}`;
      showStatus();
      if (notAfter) {
        certTimer = setInterval(scheduleStatus, CERT_STATUS_EVERY_MS);
        certTimer.unref();
      }
    };

    node.status(status('grey', WORDS.starting));
    const ready = start().catch((err: unknown) => {
      server = null;
      if (!closed) fail(words(err));
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
        return server.put(filename, payload, peer).catch((err: unknown) => {
          throw words(err);
        });
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
      // A server still starting is closed too: its start() then fails and frees the port.
      const s = server;
      void (s ? s.close(_removed ? 'removed' : 'redeployed') : Promise.resolve())
        .then(() => ready)
        .catch((err: unknown) => node.error(t('errors.close', { message: words(err).message })))
        .finally(() => {
          server = null;
          node.status({});
          done();
        });
    });
  }

  RED.nodes.registerType('tentacle-buffer', TentacleBuffer, {
    credentials: { password: { type: 'password' } },
    // The editor reads the defaults and limits from here (tentacle-buffer.html): one place.
    settings: {
      tentacleBufferProperties: {
        value: { ...TENTACLE_BUFFER_PROPERTIES, ...TENTACLE_BUFFER_TEXT_DEFAULTS },
        exportable: true,
      },
    },
  });
  registerCertificateEndpoint(RED);
};
