// The whole system on one machine: a private MariaDB in .demo/ with a Command Center and two
// Instance databases, and Node-RED (5 by default) on 127.0.0.1:1880 with this package and a demo flow: a
// simulated agent feeding a tentacle-buffer, a tentacle-pull draining it into .demo/data_in,
// metaconsole-replicate, event-pull and agent-cache working on the databases, and instance-query's
// tactical view feeding the Command Center page at /dashboard (scripts/demo-dashboard.mjs) while
// the Instances change (scripts/demo-instances.mjs). Started by scripts/demo.sh.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { dashboardFlow, installDashboard } from './demo-dashboard.mjs';
import { seedInstance, simulateInstances } from './demo-instances.mjs';

const require = createRequire(import.meta.url);
const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
// DEMO_DIR: where the demo keeps its databases and Node-RED userDir (the browser test uses a temp one).
const demo = process.env.DEMO_DIR ?? join(root, '.demo');
const { PrivateMariaDb } = require(join(root, 'dist/test/helpers/mariadb.js'));
const { applySchema } = require(join(root, 'dist/test/helpers/schema.js'));
const { INSTANCE_TABLES } = require(join(root, 'dist/test/query/fixtures/schema.js'));
const { offlineSettings, settingsModule } = require(
  join(root, 'dist/test/helpers/offline-settings.js'),
);

const UI_PORT = Number(process.env.DEMO_PORT ?? 1880);
// Node-RED 5 (the node-red-5 dev dependency, an npm alias) unless DEMO_NODE_RED=4.
const NODE_RED = process.env.DEMO_NODE_RED === '4' ? 'node-red' : 'node-red-5';
const BUFFER_PORT = Number(process.env.DEMO_BUFFER_PORT ?? 41121);
const log = (...a) => console.log('demo:', ...a);

const started = [];
let nodeRed = null;
let eventTimer = null;
let stopping = false;

async function stopAll(code = 0) {
  if (stopping) return;
  stopping = true;
  clearInterval(eventTimer);
  if (nodeRed && nodeRed.exitCode === null) {
    log(`stopping Node-RED (pid ${nodeRed.pid})`);
    const exited = new Promise((r) => nodeRed.once('exit', r));
    nodeRed.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15000))]);
  }
  for (const s of started.reverse()) await s().catch(() => {});
  log('stopped');
  process.exit(code);
}
process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

// Pandora's console stores text as io_safe_input() leaves it: HTML entities, with spaces and
// parentheses encoded too (pandoradb_data.sql has 'Operator&#x20;&#40;Read&#41;').
const safe = (s) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#039;')
    .replace(/ /g, '&#x20;')
    .replace(/\(/g, '&#40;')
    .replace(/\)/g, '&#41;');
// tusuario.password is VARCHAR(60), a bcrypt hash's exact length; these only look like one.
const fakeHash = (tag) => `$2y$10$${tag.padEnd(53, '.')}`.slice(0, 60);

async function prepareDatabases() {
  mkdirSync(demo, { recursive: true });
  const db = new PrivateMariaDb({ dir: join(demo, 'mariadb') });
  log(`starting a private MariaDB (datadir ${db.dir})`);
  await db.start();
  started.push(() => db.stop());
  log(`MariaDB listening on 127.0.0.1:${db.port}`);
  for (const name of ['pandora_cc', 'pandora_node1', 'pandora_node2']) await db.freshDatabase(name);
  const cc = await db.connect('pandora_cc');
  await applySchema(cc, 'registry', 'objects', 'sync-queue', 'agent-cache');
  await cc.query(
    'INSERT INTO tmetaconsole_setup (id, server_name, server_url, dbhost, dbport, dbname, dbuser, dbpass, disabled, unified) VALUES (1, ?, ?, ?, ?, ?, ?, ?, 0, 1), (2, ?, ?, ?, ?, ?, ?, ?, 0, 1)',
    [
      'madrid',
      'http://127.0.0.1/pandora_console',
      '127.0.0.1',
      String(db.port),
      'pandora_node1',
      'root',
      '',
      'valencia',
      'http://127.0.0.1/pandora_console',
      '127.0.0.1',
      String(db.port),
      'pandora_node2',
      'root',
      '',
    ],
  );
  // A few shared objects in the Command Center, stored HTML-entity encoded as the console does.
  // Every NOT NULL column without a default is given (MariaDB runs in strict mode).
  await cc.query(
    'INSERT INTO tgrupo (id_grupo, nombre, icon, parent) VALUES (?, ?, ?, 0), (?, ?, ?, 0), (?, ?, ?, 10)',
    [10, 'Servers', 'server_database', 11, safe('Network & Links'), 'transmit', 12, 'Web', 'world'],
  );
  await cc.query('INSERT INTO ttag (id_tag, name, description) VALUES (?, ?, ?), (?, ?, ?)', [
    1,
    'critical',
    safe('Business critical'),
    2,
    'network',
    safe('Network devices'),
  ]);
  await cc.query('INSERT INTO tcategory (id, name) VALUES (?, ?), (?, ?)', [
    1,
    'Databases',
    2,
    'Web',
  ]);
  await cc.query(
    'INSERT INTO tperfil (id_perfil, name, agent_view, event_view) VALUES (?, ?, 1, 1), (?, ?, 1, 1)',
    [1, safe('Operator (Read)'), 5, safe('Pandora Administrator')],
  );
  await cc.query(
    'INSERT INTO tusuario (id_user, fullname, firstname, lastname, middlename, password, email, is_admin) ' +
      'VALUES (?, ?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?, ?)',
    [
      'admin',
      'Pandora',
      'Pandora',
      'Admin',
      '',
      fakeHash('demo.admin.not.a.real.hash'),
      'admin@example.com',
      1,
      'operator',
      safe('Night operator'),
      'Night',
      'Operator',
      '',
      fakeHash('demo.operator.not.a.real.hash'),
      'ops@example.com',
      0,
    ],
  );
  await cc.query(
    'INSERT INTO tusuario_perfil (id_up, id_usuario, id_perfil, id_grupo, assigned_by) VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)',
    [1, 'admin', 5, 0, 'admin', 2, 'operator', 1, 10, 'admin'],
  );
  await cc.query('INSERT INTO talert_commands (id, name, command, internal) VALUES (?, ?, ?, 1)', [
    1,
    'eMail',
    safe('Internal type'),
  ]);
  await cc.query(
    'INSERT INTO talert_actions (id, name, id_alert_command, field1) VALUES (?, ?, ?, ?)',
    [1, safe('Mail to Admin'), 1, 'admin@example.com'],
  );
  await cc.query(
    'INSERT INTO talert_templates (id, name, type, id_alert_action, priority) VALUES (?, ?, ?, ?, 4)',
    [1, safe('Critical condition'), 'critical', 1],
  );
  await cc.end();

  const nodes = [];
  for (const name of ['pandora_node1', 'pandora_node2']) {
    const c = await db.connect(name);
    // objects.sql first (the replicated tables as pandoradb.sql has them), the agent tables, then
    // the module and state tables of instance-query's fixtures, then the event tables.
    await applySchema(c, 'objects', 'agents');
    for (const ddl of INSTANCE_TABLES) await c.query(ddl);
    await applySchema(c, 'events');
    nodes.push({ connection: c, modules: await seedInstance(c, name) });
  }
  return { db, nodes };
}

function demoFlow(dbPort) {
  const dataIn = join(demo, 'data_in');
  const storage = join(demo, 'buffer');
  // Each run starts empty, like its databases, so what you see was moved by this run.
  for (const dir of [dataIn, storage]) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dataIn, { recursive: true });
  const tab = 'd3m0f10w0000001';
  const cfg = 'd3m0c0nf1g00001';
  const dashboard = dashboardFlow({ z: tab, cfg, uiPort: UI_PORT });
  const agentXml = `
const now = new Date();
const stamp = now.toISOString().replace('T', ' ').slice(0, 19);
const agent = ['web-01', 'db-01', 'fw-edge'][Math.floor(Math.random() * 3)];
const cpu = (Math.random() * 100).toFixed(1);
msg.filename = agent + '.' + now.getTime() + '.data';
msg.payload = "<?xml version='1.0' encoding='UTF-8'?>\\n" +
  '<agent_data description="" group="Servers" os_name="Linux" os_version="Debian 12" interval="300" ' +
  'version="7.0NG.777" timestamp="' + stamp + '" agent_name="' + agent + '" timezone_offset="0">\\n' +
  '  <module>\\n    <name><![CDATA[cpu_load]]></name>\\n    <type><![CDATA[generic_data]]></type>\\n' +
  '    <data><![CDATA[' + cpu + ']]></data>\\n  </module>\\n</agent_data>\\n';
return msg;`;
  const countJs = `
const counts = context.get('counts') || {};
const names = ['maintenance','informational','normal','warning','critical','minor','major'];
for (const e of msg.payload) { const k = names[Number(e.criticity)] || String(e.criticity); counts[k] = (counts[k] || 0) + 1; }
context.set('counts', counts);
node.status({ fill: 'green', shape: 'dot', text: Object.entries(counts).map(([k, v]) => k + ' ' + v).join(' · ') });
return { payload: counts, instance: msg.instance };`;
  return [
    { id: tab, type: 'tab', label: 'Pandora Sync demo' },
    {
      id: 'd3m0c0mment0001',
      type: 'comment',
      z: tab,
      x: 370,
      y: 40,
      wires: [],
      name: 'Isolated network: agent files go to the buffer; the Sync server pulls them to .demo/data_in',
    },
    {
      id: 'd3m0inject00001',
      type: 'inject',
      z: tab,
      x: 110,
      y: 100,
      name: 'every 5 s',
      repeat: '5',
      once: true,
      onceDelay: '1',
      topic: '',
      payload: '',
      payloadType: 'date',
      props: [{ p: 'payload' }],
      wires: [['d3m0agent000001']],
    },
    {
      id: 'd3m0agent000001',
      type: 'function',
      z: tab,
      x: 290,
      y: 100,
      name: 'simulated agent',
      func: agentXml,
      outputs: 1,
      wires: [['d3m0buffer00001']],
    },
    {
      id: 'd3m0buffer00001',
      type: 'tentacle-buffer',
      z: tab,
      x: 520,
      y: 100,
      name: 'isolated network buffer',
      address: '127.0.0.1',
      port: String(BUFFER_PORT),
      storage,
      filters: '.*\\.conf:conf;.*\\.md5:md5;.*\\.zip:collections',
      insecure: true,
      overwrite: true,
      maxSize: '2000000',
      maxConnections: '10',
      timeout: '1',
      retries: '3',
      tlsCert: '',
      tlsKey: '',
      tlsCa: '',
      quotaBytes: '0',
      quotaFiles: '0',
      wires: [['d3m0debugbuf001']],
    },
    {
      id: 'd3m0debugbuf001',
      type: 'debug',
      z: tab,
      x: 740,
      y: 100,
      name: 'buffer events',
      active: false,
      complete: 'true',
      wires: [],
    },
    {
      id: 'd3m0injpull0001',
      type: 'inject',
      z: tab,
      x: 290,
      y: 190,
      name: 'pull now',
      props: [],
      repeat: '',
      once: false,
      wires: [['d3m0pull0000001']],
    },
    {
      id: 'd3m0pull0000001',
      type: 'tentacle-pull',
      z: tab,
      x: 520,
      y: 190,
      name: 'central sync pull',
      config: cfg,
      interval: '5',
      deliver: 'dir',
      pattern: '\\.data$',
      concurrency: '4',
      connections: '4',
      safe: true,
      wires: [['d3m0debugfile01'], ['d3m0debugsumm01']],
    },
    {
      id: 'd3m0debugfile01',
      type: 'debug',
      z: tab,
      x: 740,
      y: 170,
      name: 'pulled files',
      active: true,
      complete: 'true',
      wires: [],
    },
    {
      id: 'd3m0debugsumm01',
      type: 'debug',
      z: tab,
      x: 760,
      y: 210,
      name: 'per-buffer summary',
      active: false,
      complete: 'payload',
      wires: [],
    },
    {
      id: 'd3m0c0mment0002',
      type: 'comment',
      z: tab,
      x: 380,
      y: 280,
      wires: [],
      name: 'Command Center: shared objects replicated to two Instances, their events gathered back',
    },
    {
      id: 'd3m0injsync0001',
      type: 'inject',
      z: tab,
      x: 110,
      y: 320,
      name: 'sync now',
      topic: 'sync',
      payload: '',
      payloadType: 'str',
      props: [{ p: 'topic', vt: 'str' }],
      repeat: '',
      once: false,
      wires: [['d3m0repl000001']],
    },
    {
      id: 'd3m0repl000001',
      type: 'metaconsole-replicate',
      z: tab,
      x: 330,
      y: 340,
      name: 'replicate shared objects',
      config: cfg,
      instances: '',
      objects: '',
      interval: '10',
      wires: [['d3m0debugrepl01']],
    },
    {
      id: 'd3m0injplan0001',
      type: 'inject',
      z: tab,
      x: 110,
      y: 360,
      name: 'plan',
      topic: 'plan',
      payload: '',
      payloadType: 'str',
      props: [{ p: 'topic', vt: 'str' }],
      repeat: '',
      once: false,
      wires: [['d3m0repl000001']],
    },
    {
      id: 'd3m0debugrepl01',
      type: 'debug',
      z: tab,
      x: 560,
      y: 340,
      name: 'replication',
      active: true,
      complete: 'payload',
      wires: [],
    },
    {
      id: 'd3m0injevts0001',
      type: 'inject',
      z: tab,
      x: 110,
      y: 440,
      name: 'round now',
      props: [],
      repeat: '',
      once: false,
      wires: [['d3m0events00001']],
    },
    {
      id: 'd3m0events00001',
      type: 'event-pull',
      z: tab,
      x: 300,
      y: 440,
      name: 'gather events',
      config: cfg,
      instances: '',
      interval: '5',
      batchSize: '1000',
      mode: 'all',
      wires: [['d3m0count000001', dashboard.eventSink]],
    },
    {
      id: 'd3m0count000001',
      type: 'function',
      z: tab,
      x: 500,
      y: 440,
      name: 'count per criticity',
      func: countJs,
      outputs: 1,
      wires: [['d3m0debugevt001']],
    },
    {
      id: 'd3m0debugevt001',
      type: 'debug',
      z: tab,
      x: 700,
      y: 440,
      name: 'events',
      active: true,
      complete: 'payload',
      wires: [],
    },
    {
      id: cfg,
      type: 'pandora-config',
      name: 'Command Center (demo)',
      confFile: '',
      dbHost: '127.0.0.1',
      dbPort: String(dbPort),
      dbName: 'pandora_cc',
      dbUser: 'root',
      incomingDir: dataIn,
      syncAddress: `127.0.0.1:${BUFFER_PORT}`,
      syncPort: '41121',
      syncRetries: '3',
      syncTimeout: '10',
      syncCa: '',
      syncCert: '',
      syncKey: '',
    },
    ...dashboard.nodes,
  ];
}

function prepareNodeRed(dbPort) {
  const userDir = join(demo, 'node-red');
  mkdirSync(join(userDir, 'node_modules'), { recursive: true });
  const link = join(userDir, 'node_modules', 'node-red-contrib-pandora-sync');
  rmSync(link, { force: true, recursive: true });
  symlinkSync(root, link, 'dir');
  if (!existsSync(join(userDir, 'package.json'))) {
    writeFileSync(
      join(userDir, 'package.json'),
      JSON.stringify(
        {
          name: 'pandora-sync-demo',
          private: true,
          dependencies: { 'node-red-contrib-pandora-sync': `file:${root}` },
        },
        null,
        2,
      ),
    );
  }
  const dashboardVersion = installDashboard(userDir);
  log(`Dashboard 2 (@flowfuse/node-red-dashboard ${dashboardVersion}) at /dashboard`);
  writeFileSync(join(userDir, 'settings.js'), settingsModule(offlineSettings(UI_PORT)));
  const flow = demoFlow(dbPort);
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flow, null, 2));
  return userDir;
}

// Said before anything starts, rather than as a Node-RED or tentacle-buffer error later.
function portFree(port) {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function main() {
  for (const [port, what, env] of [
    [UI_PORT, 'Node-RED', 'DEMO_PORT'],
    [BUFFER_PORT, 'the tentacle-buffer', 'DEMO_BUFFER_PORT'],
  ]) {
    if (!(await portFree(port))) {
      console.error(
        `demo: port ${port} (${what}) is in use on 127.0.0.1: stop what uses it, or set ${env}`,
      );
      process.exit(1);
    }
  }
  const { db, nodes } = await prepareDatabases();
  started.push(async () => {
    for (const { connection } of nodes) await connection.end().catch(() => {});
  });
  eventTimer = simulateInstances(nodes, 3000, log);
  const userDir = prepareNodeRed(db.port);
  const redDir = join(root, 'node_modules', NODE_RED);
  const { version } = require(join(redDir, 'package.json'));
  log(`starting Node-RED ${version} on Node.js ${process.version} (userDir ${userDir})`);
  nodeRed = spawn(
    process.execPath,
    [join(redDir, 'red.js'), '--userDir', userDir, '--settings', join(userDir, 'settings.js')],
    {
      stdio: 'inherit',
      cwd: userDir,
    },
  );
  nodeRed.on('exit', (code) => {
    if (!stopping) {
      log(`Node-RED exited (code ${code})`);
      stopAll(code ?? 1);
    }
  });
  log(
    `open http://127.0.0.1:${UI_PORT}/ and the Command Center page http://127.0.0.1:${UI_PORT}/dashboard (Ctrl-C stops Node-RED and MariaDB)`,
  );
}

main().catch((err) => {
  console.error('demo: failed:', err);
  stopAll(1);
});
