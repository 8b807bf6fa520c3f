/**
 * The instance-query example flows deployed as an administrator imports them, pointed at two
 * seeded Instances: the tactical view, the critical agents and a maintenance window that disables
 * a group's alerts and enables the same ones again.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Node, NodeMessage } from 'node-red';
import instanceQuery from '../../nodes/instance-query/instance-query';
import pandoraConfig from '../../nodes/pandora-config/pandora-config';
import { createCommandCenter } from '../events/fixtures/pandora';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { repoRoot } from '../helpers/node-red';
import { waitFor } from '../helpers/wait';
import helper from '../helpers/red-helper';
import { createInstance, rowsOf } from './fixtures/pandora';
import { coreNodesDir } from '../helpers/node-red-version';

type FlowNode = Record<string, unknown> & { id: string; type: string };
type AnyMsg = NodeMessage & Record<string, unknown>;

const core = (path: string): unknown =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(join(coreNodesDir(), path));
const NODE_MODULES = [
  pandoraConfig,
  instanceQuery,
  core('common/20-inject.js'),
  core('common/21-debug.js'),
  core('common/90-comment.js'),
  core('function/10-function.js'),
];

describe('instance-query example flows', () => {
  let db: PrivateMariaDb;

  before(async () => {
    db = await startMariaDb();
    await Promise.all([createInstance(db, 'ea', 1), createInstance(db, 'eb', 2)]);
    await createCommandCenter(db, 'ecc', [
      { id: 1, name: 'madrid', port: db.port, dbname: 'ea' },
      { id: 2, name: 'lisboa', port: db.port, dbname: 'eb' },
    ]);
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    await db?.destroy();
  });

  async function deploy(file: string, edit: (n: FlowNode) => void = () => {}): Promise<FlowNode[]> {
    const flow = JSON.parse(readFileSync(join(repoRoot, 'examples', file), 'utf8')) as FlowNode[];
    for (const n of flow) {
      if (n.type === 'pandora-config') {
        Object.assign(n, {
          dbHost: '127.0.0.1',
          dbPort: String(db.port),
          dbName: 'ecc',
          dbUser: 'root',
        });
      }
      edit(n);
    }
    await helper.load(NODE_MODULES, flow, {});
    return flow;
  }

  const find = (flow: FlowNode[], type: string, name: RegExp) => {
    const n = flow.find((x) => x.type === type && name.test(String(x.name ?? '')));
    assert.ok(n, `a ${type} named ${name}`);
    return n;
  };

  function collect(id: string): AnyMsg[] {
    const node = helper.getNode(id) as Node;
    const got: AnyMsg[] = [];
    node.on('input', (msg: AnyMsg) => got.push(msg));
    return got;
  }

  it('instance-query-tactical.json: one line per Instance and the total, once at deploy', async () => {
    const flow = await deploy('instance-query-tactical.json');
    const lines = collect(find(flow, 'debug', /^tactical$/).id);
    await waitFor(() => lines.length > 0, 15_000, 'the tactical summary');
    assert.deepEqual(JSON.parse(JSON.stringify(lines[0].payload)), [
      'madrid (#1): 3 agents (1 critical, 0 warning, 0 unknown), 4 modules (1 critical), 1 alerts fired',
      'lisboa (#2): 3 agents (1 critical, 0 warning, 0 unknown), 4 modules (1 critical), 1 alerts fired',
      'All Instances: 6 agents (2 critical, 0 warning, 0 unknown), 8 modules (2 critical), 2 alerts fired',
    ]);
  });

  it('instance-query-critical-agents.json: the critical agents of every Instance', async () => {
    const flow = await deploy('instance-query-critical-agents.json');
    const got = collect(find(flow, 'debug', /critical agents/).id);
    await waitFor(() => got.length > 0, 15_000, 'the critical agents');
    // Objects made in the function node's sandbox have that sandbox's prototypes.
    assert.deepEqual(JSON.parse(JSON.stringify(got[0].payload)), [
      {
        instance: 'madrid',
        agent: 'Web server (main)',
        group: 'Servers & DB',
        address: '10.0.0.1',
        critical: 1,
        lastContact: '2026-12-01 08:00:00',
      },
      {
        instance: 'lisboa',
        agent: 'Web server (main)',
        group: 'Servers & DB',
        address: '10.0.0.1',
        critical: 1,
        lastContact: '2026-12-01 08:00:00',
      },
    ]);
    assert.equal((got[0].unanswered as unknown[]).length, 0);
  });

  it('instance-query-maintenance-window.json: disables the group alerts, then enables the same ones', async () => {
    // The group of the seeded Instances; alert 7 (group Lab) is outside the window.
    await rowsOf(db, 'eb', 'UPDATE talert_template_modules SET disabled = 1 WHERE id = 6');
    const flow = await deploy('instance-query-maintenance-window.json', (n) => {
      if (n.type === 'inject') n.payload = '{"group":"Servers & DB"}';
    });
    const perAlert = collect(find(flow, 'debug', /per alert/).id);
    const disabled = async (database: string) =>
      (
        await rowsOf(
          db,
          database,
          'SELECT id FROM talert_template_modules WHERE disabled = 1 ORDER BY id',
        )
      ).map((r) => r.id);
    (helper.getNode(find(flow, 'inject', /starts/).id) as Node).receive({});
    await waitFor(() => perAlert.length > 0, 15_000, 'the alerts disabled');
    assert.deepEqual(
      (perAlert[0].payload as AnyMsg[]).map((r) => [
        (r.instance as { id: number }).id,
        r.id,
        r.action,
        r.ok,
      ]),
      [
        [1, 5, 'alert.disable', true],
        [1, 6, 'alert.disable', true],
        [2, 5, 'alert.disable', true],
      ],
    );
    assert.deepEqual(await disabled('ea'), [5, 6]);
    assert.deepEqual(await disabled('eb'), [5, 6]);
    (helper.getNode(find(flow, 'inject', /ends/).id) as Node).receive({});
    await waitFor(() => perAlert.length > 1, 15_000, 'the alerts enabled');
    assert.equal(perAlert[1].topic, 'alert.enable');
    assert.deepEqual(await disabled('ea'), []);
    // Alert 6 of lisboa was disabled before the window: it stays so.
    assert.deepEqual(await disabled('eb'), [6]);
  });
});
