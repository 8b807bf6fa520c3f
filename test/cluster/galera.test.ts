/**
 * The cluster on a three-node MariaDB Galera cluster (test/helpers/galera.ts): two members, each
 * connected to a different node with a `dbHost` list (its own node first), through the kills of
 * deliveries-run.ts; mid-run one member's Galera node is killed with SIGKILL and that member goes
 * on with the next node of its list. Galera certifies writes at COMMIT: a lease take, renewal or
 * fenced write that loses (1213) must be "not written", never a crash, a double holder or a
 * second delivery.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPool, type Pool } from '../../lib/db/pool';
import { removeDir, tempDir } from '../helpers/files';
import { GaleraCluster } from '../helpers/galera';
import { describeFigures, runKills } from './deliveries-run';

describe('cluster deliveries on a three-node Galera cluster', () => {
  const root = tempDir('cluster-galera-');
  let galera: GaleraCluster;
  let cc: Pool;
  before(async () => {
    galera = await GaleraCluster.start(3);
    await galera.nodes[0].freshDatabase('cc');
    cc = createPool({ ...galera.nodes[0].facts, database: 'cc' });
  });
  after(async () => {
    await cc?.end();
    await galera?.destroy();
    removeDir(root);
  });

  it('every file in exactly one incomingDir, members on different nodes, one node killed mid-run', async () => {
    const n = galera.nodes;
    /** Member m's node first, then the others: the order it fails over in. */
    const list = (m: number): string =>
      [m + 1, m + 2, m].map((i) => `${n[i % n.length].host}:${n[i % n.length].port}`).join(',');
    let nodeKilledAt = 0;
    const f = await runKills({
      root,
      cc,
      label: 'Galera, 3 nodes, members on node 2 and node 3, node 3 killed mid-run',
      randomKills: 10,
      dbOf: (m) => ({ dbHost: list(m), dbPort: n[0].port, database: 'cc' }),
      midRun: async () => {
        // m2's node (the third) dies: m2 goes on with the first node of its list that answers.
        nodeKilledAt = Date.now();
        await n[2].stop('SIGKILL');
      },
    });
    console.log(describeFigures(f));
    assert.ok(nodeKilledAt > 0, 'a Galera node was killed');
    assert.equal(f.once, f.total);
    assert.equal(f.duplicates, 0);
  });
});
