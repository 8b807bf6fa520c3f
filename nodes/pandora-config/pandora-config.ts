/**
 * pandora-config: one Pandora FMS server as pandora_server.conf describes it. Owns the shared
 * mysql2 pool of its database and the sync TLS material.
 */
import type { NodeAPI, NodeDef } from 'node-red';
import { ConfPreviewError, previewPandoraConf } from '../../lib/conf/conf-preview';
import {
  ConfFileError,
  parseSyncAddress,
  readPandoraConfSync,
  resolvePandoraSettings,
  type ConfValues,
  type PandoraConfigProps,
  type PandoraSettings,
} from '../../lib/conf/pandora-conf';
import { createPool, describeDb, type Pool } from '../../lib/db/pool';
import { dbSsl } from '../../lib/db/tls';
import { readTlsMaterial } from '../../lib/tls/material';
import { CLUSTER_PROPERTIES, ClusterError } from '../../lib/cluster';
import { toText } from '../../lib/util/values';
import { registerCertificateEndpoint } from '../shared/certificates';
import { refuseUnlessJson } from '../shared/json-only';
import { translator, useSharedCatalogue } from '../shared/i18n';
import { registerMetricsEndpoint, watchCluster } from '../shared/metrics';
import { clusterHandle, clusterSettings, type ClusterProps } from './cluster';
import type { PandoraConfigCredentials, PandoraConfigNode } from './types';

interface PandoraConfigDef extends NodeDef, PandoraConfigProps, ClusterProps {
  confFile?: string;
  /** MySQL over TLS for the Command Center database and every Instance. */
  dbTls?: boolean | string;
  /** PEM paths for dbTls: the CA of the database servers, a client certificate and its key. */
  dbCa?: string;
  dbCert?: string;
  dbKey?: string;
}

export = function (RED: NodeAPI) {
  const t = translator(RED);
  useSharedCatalogue(t);

  /** A configuration error as the node reports it, in the runtime's language where it has words. */
  function configText(err: Error): string {
    const message =
      err instanceof ConfFileError
        ? t(`pandora-config.errors.conf.${err.code}`, { path: err.path })
        : err instanceof ClusterError
          ? t(`pandora-config.errors.${err.code}`, err.facts)
          : err.message;
    return t('pandora-config.errors.config', { message });
  }

  function PandoraConfig(this: PandoraConfigNode, def: PandoraConfigDef) {
    RED.nodes.createNode(this, def);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the usual Node-RED shape
    const node = this;
    const creds: PandoraConfigCredentials = node.credentials ?? {};
    node.configError = null;
    node.tls = null;
    node.tlsError = null;

    let conf: ConfValues = {};
    const confFile = toText(def.confFile);
    const props: PandoraConfigProps = { ...def, dbPass: creds.dbPass };
    let settings: PandoraSettings;
    try {
      if (confFile) conf = readPandoraConfSync(confFile).values;
      settings = resolvePandoraSettings(props, conf);
    } catch (err) {
      node.configError = err as Error;
      settings = resolvePandoraSettings({});
    }
    node.settings = settings;
    node.dbFacts = {
      host: settings.dbHost,
      port: settings.dbPort,
      database: settings.dbName,
      user: settings.dbUser,
      password: settings.dbPass,
    };
    // dbTls: the PEM files are read and checked once here; a missing or unreadable file is a
    // configuration error naming the property, and no pool is opened without the TLS asked for.
    if (!node.configError && (def.dbTls === true || def.dbTls === 'true')) {
      try {
        const pem = readTlsMaterial(
          { ca: toText(def.dbCa), cert: toText(def.dbCert), key: toText(def.dbKey) },
          new Date(),
          { ca: 'dbCa', cert: 'dbCert', key: 'dbKey' },
        );
        node.dbFacts.ssl = dbSsl(pem, node.dbFacts.host);
      } catch (err) {
        node.configError = err as Error;
      }
    }
    node.incomingDir = settings.incomingDir;
    let buffers: ReturnType<typeof parseSyncAddress> = [];
    try {
      buffers = parseSyncAddress(settings.syncAddress, settings.syncPort);
    } catch (err) {
      node.configError ??= err as Error;
    }
    node.sync = {
      buffers,
      address: settings.syncAddress,
      port: settings.syncPort,
      timeout: settings.syncTimeout,
      retries: settings.syncRetries,
      caPath: settings.syncCa,
      certPath: settings.syncCert,
      keyPath: settings.syncKey,
    };
    if (creds.syncPassword) node.sync.password = creds.syncPassword;

    if (node.configError) {
      node.error(configText(node.configError));
    } else if (settings.syncCa || settings.syncCert || settings.syncKey) {
      try {
        node.tls = readTlsMaterial({
          ca: settings.syncCa,
          cert: settings.syncCert,
          key: settings.syncKey,
        });
        if (node.tls.daysLeft !== undefined && node.tls.daysLeft < 30) {
          const vars = {
            path: settings.syncCert,
            days: node.tls.daysLeft,
            date: node.tls.notAfter?.toISOString() ?? '?',
          };
          node.warn(t('pandora-config.errors.certExpiring', vars));
        }
      } catch (err) {
        node.tlsError = err as Error;
        node.error(configText(err as Error));
      }
    }

    let pool: Pool | null = null;
    node.getPool = () => {
      if (node.configError) throw node.configError;
      pool ??= createPool(node.dbFacts);
      return pool;
    };

    node.cluster = null;
    try {
      const cluster = clusterSettings(RED, def);
      if (cluster) {
        node.cluster = clusterHandle(
          cluster,
          () => node.getPool(),
          t,
          (manager) => watchCluster(RED, node, manager),
        );
      }
    } catch (err) {
      node.configError ??= err as Error;
      node.error(configText(err as Error));
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      // The cluster first: it hands its units back through the pool.
      const cluster = node.cluster;
      node.cluster = null;
      const p = pool;
      pool = null;
      const ended = (cluster?.close() ?? Promise.resolve()).catch(() => undefined);
      if (!p) {
        void ended.then(() => done());
        return;
      }
      ended
        .then(() => p.end())
        .then(
          () => done(),
          (err: Error) => {
            const vars = { db: describeDb(node.dbFacts), message: err.message };
            node.warn(t('pandora-config.errors.poolClose', vars));
            done();
          },
        );
    });
  }

  RED.nodes.registerType<PandoraConfigNode, PandoraConfigDef, unknown, PandoraConfigCredentials>(
    'pandora-config',
    PandoraConfig,
    {
      credentials: {
        dbPass: { type: 'password' },
        syncPassword: { type: 'password' },
      },
      // The editor reads the cluster defaults and limits from here: one place for both.
      settings: {
        pandoraConfigClusterProperties: { value: CLUSTER_PROPERTIES, exportable: true },
      },
    },
  );

  registerCertificateEndpoint(RED);
  // The package's metrics, served whether or not a node records any yet.
  registerMetricsEndpoint(RED);

  // The dialog's "Show" button: the values of the used tokens of a pandora_server.conf. It makes
  // the Node-RED process open a path the caller names, so it needs a write permission (as
  // deploying a flow does) and takes the path in a POST body, out of URLs and access logs; what
  // the file holds beyond those values never leaves (see lib/conf/conf-preview.ts).
  RED.httpAdmin.post(
    '/pandora-sync/conf',
    RED.auth.needsPermission('pandora-config.write'),
    (req, res) => {
      if (refuseUnlessJson(req, res, '{"path": "/etc/pandora/pandora_server.conf"}')) return;
      const body: unknown = req.body;
      const given =
        body && typeof body === 'object' ? (body as { path?: unknown }).path : undefined;
      // Only a string is ever echoed: a crafted object's toString must not run here.
      const echo = typeof given === 'string' ? given.trim() : '';
      previewPandoraConf(given)
        .then((preview) => res.json(preview))
        .catch((err: unknown) => {
          const e = err instanceof Error ? err : new Error('preview failed');
          const { status, key } = previewRefusal(e);
          const error = key ? t(key, { path: echo }) : e.message;
          res.status(status).json({ error });
        })
        .catch((err: unknown) => RED.log.warn(`pandora-sync: conf preview: ${String(err)}`));
    },
  );
};

/** The HTTP status and catalogue key of a refused preview. */
function previewRefusal(err: Error): { status: number; key?: string } {
  if (err instanceof ConfPreviewError) {
    return {
      status: err.code === 'not-conf' ? 422 : 400,
      key: `pandora-config.errors.conf.${err.code}`,
    };
  }
  if (err instanceof ConfFileError) {
    return {
      status: err.code === 'not-found' ? 404 : 422,
      key: `pandora-config.errors.conf.${err.code}`,
    };
  }
  return { status: 500 };
}
