/**
 * The Prometheus endpoint scraped after real work: a tentacle-buffer that stores and refuses
 * agent files and a tentacle-pull that drains it (and fails on a second, closed buffer), in one
 * Node-RED. The text format is read with a Prometheus text parser, not with regular expressions.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import type { EventEmitter } from 'node:events';
import type { Node, NodeMessage } from 'node-red';
import { TentacleClient } from '../../lib/tentacle';
import pandoraConfig from '../../nodes/pandora-config/pandora-config';
import tentacleBuffer from '../../nodes/tentacle-buffer/tentacle-buffer';
import tentaclePull from '../../nodes/tentacle-pull/tentacle-pull';
import eventPullModule from '../../nodes/event-pull/event-pull';
import { withCatalogue } from './catalogue';
import metaconsoleReplicate from '../../nodes/metaconsole-replicate/metaconsole-replicate';
import { createCommandCenter, createInstance, insertEvents } from '../events/fixtures/pandora';
import { makeSite, seedCc } from '../replicate/fixture';
import { freePort, startMariaDb } from '../helpers/mariadb';
import { histogramCount, scrape, type Scraped } from '../helpers/metrics';
import helper from '../helpers/red-helper';
import { waitFor } from '../helpers/wait';
import { refusedPort } from '../sync/fixtures';

describe('metrics endpoint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pandora-sync-metrics-'));
  afterEach(async () => {
    await helper.unload();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const get = async (): Promise<Scraped> => {
    const request = helper.request() as unknown as {
      get(p: string): Promise<{ status: number; text: string; headers: Record<string, string> }>;
    };
    const res = await request.get('/pandora-sync/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^text\/plain;.*version=0\.0\.4/);
    return scrape(res.text);
  };

  it('counts what a buffer holds, stores, refuses and hands out, and what a pull delivers', async () => {
    const port = await freePort();
    const down = await refusedPort();
    const bufferAddress = `127.0.0.1:${port}`;
    const downAddress = `127.0.0.1:${down}`;
    const flow = [
      {
        id: 'buf',
        type: 'tentacle-buffer',
        name: 'edge',
        address: '127.0.0.1',
        port,
        storage: join(dir, 'buffer'),
        maxSize: 1000,
      },
      {
        id: 'cfg',
        type: 'pandora-config',
        syncAddress: `${bufferAddress},${downAddress}`,
        incomingDir: join(dir, 'data_in'),
        syncTimeout: '2',
        syncRetries: '1',
      },
      {
        id: 'pull',
        type: 'tentacle-pull',
        config: 'cfg',
        interval: '0',
        deliver: 'dir',
        wires: [[], ['sums']],
      },
      { id: 'sums', type: 'helper' },
    ];
    await helper.load([pandoraConfig, tentacleBuffer, tentaclePull], flow);
    const sums: NodeMessage[] = [];
    (helper.getNode('sums') as Node).on('input', (m: NodeMessage) => sums.push(m));
    const buf = { node: 'buf', name: 'edge' };

    const sizes = [10, 200, 333, 512, 999];
    let agent: TentacleClient | undefined;
    await waitFor(
      async () => !!(agent = await TentacleClient.connect({ host: '127.0.0.1', port })),
      10_000,
      'the buffer to listen',
    );
    if (!agent) throw new Error('no agent');
    for (const [i, n] of sizes.entries()) {
      await agent.send(`agent${i}.data`, Buffer.alloc(n, 65 + i));
    }
    await assert.rejects(agent.send('big.data', Buffer.alloc(2000, 1)));
    await agent.quit().catch(() => undefined);
    const total = sizes.reduce((a, b) => a + b, 0);

    let m = await get();
    assert.equal(m.value('pandora_sync_buffer_files', buf), 5);
    assert.equal(m.value('pandora_sync_buffer_bytes', buf), total);
    assert.equal(m.value('pandora_sync_buffer_received_files_total', buf), 5);
    assert.equal(m.value('pandora_sync_buffer_refused_files_total', buf), 1);
    assert.equal(m.value('pandora_sync_buffer_pulled_files_total', buf), 0);

    const before = Date.now() / 1000;
    (helper.getNode('pull') as Node).receive({ payload: 'go' });
    await waitFor(() => sums.length >= 2, 20_000, 'both buffer summaries');
    await waitFor(
      async () => (await get()).value('pandora_sync_buffer_files', buf) === 0,
      5000,
      'the buffer to report itself empty',
    );
    m = await get();
    const pulled = { node: 'pull', name: 'pull', buffer: bufferAddress };
    const failed = { node: 'pull', name: 'pull', buffer: downAddress };
    assert.equal(m.value('pandora_sync_buffer_bytes', buf), 0);
    assert.equal(m.value('pandora_sync_buffer_pulled_files_total', buf), 5);
    assert.equal(m.value('pandora_sync_pull_files_total', pulled), 5);
    assert.equal(m.value('pandora_sync_pull_bytes_total', pulled), total);
    assert.equal(m.value('pandora_sync_pull_errors_total', pulled), 0);
    assert.equal(m.value('pandora_sync_pull_errors_total', failed), 1);
    assert.equal(m.value('pandora_sync_pull_files_total', failed), 0);
    const last = m.value('pandora_sync_pull_last_success_timestamp_seconds', pulled);
    assert.ok(last >= before - 1 && last <= Date.now() / 1000 + 1, `last success ${last}`);
    assert.equal(m.find('pandora_sync_pull_last_success_timestamp_seconds', failed), undefined);
    assert.equal(await histogramCount('pandora_sync_pull_round_duration_seconds', pulled), 1);

    // A node's series leave with the node.
    await helper.unload();
    await helper.load([pandoraConfig, tentacleBuffer, tentaclePull], []);
    m = await get();
    assert.equal(m.find('pandora_sync_buffer_files', buf), undefined);
    assert.equal(m.find('pandora_sync_pull_files_total', pulled), undefined);
  });

  it('gives each Instance its event lag and its replication queue, as the nodes report them', async () => {
    const db = await startMariaDb();
    try {
      // event-pull: two Instances with events, and a third that refuses connections.
      await createInstance(db, 'ma');
      await createInstance(db, 'mb');
      await createCommandCenter(db, 'mcc', [
        { id: 1, name: 'alpha', port: db.port, dbname: 'ma' },
        { id: 2, name: 'beta', port: db.port, dbname: 'mb' },
        { id: 3, name: 'gone', port: await refusedPort(), dbname: 'mc' },
      ]);
      const a = await db.connect('ma');
      await insertEvents(a, 30);
      await a.end();
      const cfg = (name: string) => ({
        id: `cfg-${name}`,
        type: 'pandora-config',
        dbHost: db.host,
        dbPort: String(db.port),
        dbName: name,
        dbUser: db.user,
      });
      // metaconsole-replicate: two Instances, one queued statement Instance 1 cannot apply.
      const site = await makeSite(db, [
        { db, name: 'r1' },
        { db, name: 'r2' },
      ]);
      await seedCc(site.cc);
      await site.cc.query(
        "INSERT INTO tsync_queue (`sql`, target, utimestamp, operation, `table`, error, result) VALUES (?, 1, UNIX_TIMESTAMP(), '', 'tgrupo', '', '')",
        ['UPDATE tgrupo SET no_such_column = 1 WHERE id_grupo = 10'],
      );
      const flow = [
        cfg('mcc'),
        cfg('cc'),
        {
          id: 'ev1',
          type: 'event-pull',
          name: 'events',
          config: 'cfg-mcc',
          interval: 0,
          wires: [['batches']],
        },
        { id: 'batches', type: 'helper' },
        {
          id: 'rep1',
          type: 'metaconsole-replicate',
          name: 'rep',
          config: 'cfg-cc',
          objects: 'groups',
          interval: 0,
          wires: [['reports']],
        },
        { id: 'reports', type: 'helper' },
      ];
      const creds = { 'cfg-mcc': { dbPass: db.password }, 'cfg-cc': { dbPass: db.password } };
      const eventPull = withCatalogue(eventPullModule, 'event-pull');
      await helper.load([pandoraConfig, eventPull, metaconsoleReplicate], flow, creds);
      const statuses: { text?: string }[] = [];
      (helper.getNode('ev1') as unknown as EventEmitter).on(
        'call:status',
        (call: { args: { text?: string }[] }) => statuses.push(call.args[0]),
      );
      const reports: { payload: { instance: { id: number }; queue: { pending: number } } }[] = [];
      (helper.getNode('reports') as Node).on('input', (m: NodeMessage) =>
        reports.push(m as unknown as (typeof reports)[number]),
      );

      (helper.getNode('ev1') as Node).receive({});
      const ev = { node: 'ev1', name: 'events' };
      const shownLags = () =>
        /lag (\S+) s/.exec(statuses.at(-1)?.text ?? '')?.[1]?.split('/') ?? [];
      await waitFor(
        async () => {
          const scraped = await get();
          const lags = shownLags();
          return (
            lags.length === 3 &&
            lags[0] !== '?' &&
            lags[1] !== '?' &&
            ['1', '2'].every(
              (instance) =>
                scraped.find('pandora_sync_event_lag_seconds', { ...ev, instance }) !== undefined,
            )
          );
        },
        20_000,
        'the lags of Instances 1 and 2',
      );
      let m = await get();
      assert.equal(m.value('pandora_sync_event_instance_down', { ...ev, instance: '1' }), 0);
      assert.equal(m.value('pandora_sync_event_instance_down', { ...ev, instance: '3' }), 1);
      assert.equal(m.find('pandora_sync_event_lag_seconds', { ...ev, instance: '3' }), undefined);
      // The status line shows the same lags, rounded: "3 inst · lag 0/0/? s".
      const lags = shownLags();
      for (const [i, shown] of lags.slice(0, 2).entries()) {
        const lag = m.value('pandora_sync_event_lag_seconds', { ...ev, instance: String(i + 1) });
        assert.equal(String(Math.round(lag)), shown, `Instance ${i + 1}: ${statuses.at(-1)?.text}`);
      }

      const rep = helper.getNode('rep1') as Node;
      rep.receive({ topic: 'sync' } as NodeMessage);
      await waitFor(() => reports.length >= 2, 30_000, 'the first round');
      rep.receive({ topic: 'sync' } as NodeMessage);
      await waitFor(() => reports.length >= 4, 30_000, 'the second round');
      m = await get();
      const rp = { node: 'rep1', name: 'rep' };
      for (const r of reports.slice(2)) {
        const id = String(r.payload.instance.id);
        assert.equal(
          m.value('pandora_sync_replication_queue_depth', { ...rp, instance: id }),
          r.payload.queue.pending,
        );
      }
      assert.equal(m.value('pandora_sync_replication_queue_depth', { ...rp, instance: '1' }), 1);
      assert.equal(
        m.value('pandora_sync_replication_queue_head_age_seconds', { ...rp, instance: '2' }),
        0,
      );
      assert.ok(
        m.value('pandora_sync_replication_queue_head_age_seconds', { ...rp, instance: '1' }) >= 0,
      );
      await site.cc.end();
      for (const n of site.nodes) await n.end();
    } finally {
      await helper.unload();
      await db.destroy();
    }
  });

  it('shows which member holds the lease of each unit when the config has cluster on', async () => {
    const db = await startMariaDb();
    try {
      await db.freshDatabase('lcc');
      const one = await refusedPort();
      const two = await refusedPort();
      const flow = [
        {
          id: 'ccfg',
          type: 'pandora-config',
          dbHost: db.host,
          dbPort: String(db.port),
          dbName: 'lcc',
          dbUser: db.user,
          syncAddress: `127.0.0.1:${one},127.0.0.1:${two}`,
          incomingDir: join(dir, 'cluster-in'),
          cluster: true,
          clusterMember: 'm1',
          leaseSeconds: 5,
        },
        { id: 'cpull', type: 'tentacle-pull', config: 'ccfg', interval: '0', wires: [[], []] },
      ];
      await helper.load([pandoraConfig, tentaclePull], flow, { ccfg: { dbPass: db.password } });
      const labels = { node: 'ccfg', member: 'm1' };
      // A round offers the buffers as units; the member takes their leases.
      (helper.getNode('cpull') as Node).receive({});
      await waitFor(
        async () => {
          const m = await get();
          return [one, two].every(
            (port) =>
              m.find('pandora_sync_cluster_lease_held', {
                ...labels,
                unit: `pull:127.0.0.1:${port}`,
              })?.value === '1',
          );
        },
        20_000,
        'both buffer leases held by m1',
      );
      assert.equal((await get()).value('pandora_sync_cluster_members', labels), 1);
    } finally {
      await helper.unload();
      await db.destroy();
    }
  });
});
