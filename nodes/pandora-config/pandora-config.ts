/**
 * pandora-config: one Pandora FMS server as pandora_server.conf describes it. Owns the shared
 * mysql2 pool of its database and the sync TLS material.
 */
import type { NodeAPI, NodeDef } from 'node-red';
import {
  CONF_TOKENS,
  parseSyncAddress,
  readPandoraConfSync,
  resolvePandoraSettings,
  type ConfValues,
  type PandoraConfigProps,
  type PandoraSettings,
} from '../../lib/conf/pandora-conf';
import { createPool, describeDb, type Pool } from '../../lib/db/pool';
import { readTlsMaterial } from '../../lib/tls/material';
import { toText } from '../../lib/util/values';
import { registerCertificateEndpoint } from '../shared/certificates';
import type { PandoraConfigCredentials, PandoraConfigNode } from './types';

interface PandoraConfigDef extends NodeDef, PandoraConfigProps {
  confFile?: string;
}

export = function (RED: NodeAPI) {
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
      node.error(`pandora-config: ${node.configError.message}`);
    } else if (settings.syncCa || settings.syncCert || settings.syncKey) {
      try {
        node.tls = readTlsMaterial({
          ca: settings.syncCa,
          cert: settings.syncCert,
          key: settings.syncKey,
        });
        if (node.tls.daysLeft !== undefined && node.tls.daysLeft < 30) {
          node.warn(
            `sync_cert ${settings.syncCert} expires in ${node.tls.daysLeft} days ` +
              `(${node.tls.notAfter?.toISOString()})`,
          );
        }
      } catch (err) {
        node.tlsError = err as Error;
        node.error(`pandora-config: ${(err as Error).message}`);
      }
    }

    let pool: Pool | null = null;
    node.getPool = () => {
      if (node.configError) throw node.configError;
      pool ??= createPool(node.dbFacts);
      return pool;
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      const p = pool;
      pool = null;
      if (!p) return done();
      p.end().then(
        () => done(),
        (err: Error) => {
          node.warn(`closing the pool of ${describeDb(node.dbFacts)}: ${err.message}`);
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
    },
  );

  registerCertificateEndpoint(RED);

  // The editor's "show" button: what a pandora_server.conf says, for the fields left empty.
  // Only the tokens this node uses are returned with their values, and never `dbpass` itself.
  RED.httpAdmin.get(
    '/pandora-sync/conf',
    RED.auth.needsPermission('pandora-config.read'),
    (req, res) => {
      const path = typeof req.query.path === 'string' ? req.query.path.trim() : '';
      if (!path) {
        res.status(400).json({ error: 'no path given' });
        return;
      }
      try {
        const parsed = readPandoraConfSync(path);
        const known = new Set<string>(Object.keys(CONF_TOKENS));
        const tokens: Record<string, string> = {};
        for (const token of Object.keys(CONF_TOKENS)) {
          if (!(token in parsed.tokens)) continue;
          tokens[token] = token === 'dbpass' ? '(set)' : parsed.tokens[token];
        }
        const others = Object.keys(parsed.tokens).filter((t) => !known.has(t));
        res.json({ path, tokens, others });
      } catch (err) {
        res.status(404).json({ error: (err as Error).message });
      }
    },
  );
};
