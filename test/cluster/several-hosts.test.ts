/**
 * Several Node-RED hosts end to end: three real node-red processes with the same flow
 * (tentacle-pull, event-pull, metaconsole-replicate on a pandora-config with `cluster` on and a
 * 2 s lease) share one MariaDB; 20 Tentacle buffers run in another process and 4 Instances get
 * events and queue items the whole time. Members are killed with SIGKILL mid-round ten times
 * (each restarted), and one is paused with SIGSTOP past its lease and resumed. In the end: every
 * agent file exactly once across the members' incomingDirs, every event exactly once in
 * tmetaconsole_event, every queue item applied once; takeover times and units per member printed.
 */
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { applySchema } from '../helpers/schema';
import { createCommandCenter, createInstance, insertEvents } from '../events/fixtures/pandora';
import { hashesIn, seedFromEnv, seeded, sha1, tempDir, tempNames } from '../faults/util';
import { GaleraCluster } from '../helpers/galera';
import { freePort, PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import {
  launchNodeRed,
  prepareUserDir,
  type PreparedUserDir,
  type RunningNodeRed,
} from '../helpers/node-red';
import { offlineSettings, settingsModule } from '../helpers/offline-settings';
import { sleep, waitFor } from '../helpers/wait';

const LEASE_S = 2;
const BUFFERS = 20;
const INSTANCES = 4;
/** Three by default; CLUSTER_MEMBERS=2 runs the same test with two. */
const MEMBERS = Number(process.env.CLUSTER_MEMBERS) || 3;
const KILLS = 10;
const FILES_PER_BUFFER = 30;
const EVENTS_PER_INSTANCE = 1000;
const ITEMS_PER_INSTANCE = 20;
/**
 * CLUSTER_GALERA=1: the same test on a three-node Galera cluster, member m connected to node m
 * first (a dbHost list), and instead of the database outage the third node killed for good.
 */
const GALERA = process.env.CLUSTER_GALERA === '1';

interface LeaseView {
  unit: string;
  holder: string;
  live: number;
}

const memberOf = (session: string): string => session.slice(0, session.lastIndexOf('/'));

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

describe(`${MEMBERS} Node-RED hosts sharing one ${GALERA ? 'Galera cluster' : 'MariaDB'} (cluster on pandora-config)`, () => {
  const root = tempDir('cluster-e2e-');
  let db: PrivateMariaDb;
  let galera: GaleraCluster | null = null;
  let buffers: ChildProcess | null = null;
  before(async () => {
    if (GALERA) {
      galera = await GaleraCluster.start(3);
      db = galera.nodes[0];
    } else {
      db = await startMariaDb();
    }
  });
  after(async () => {
    buffers?.kill('SIGKILL');
    await (galera ? galera.destroy() : db?.destroy());
    rmSync(root, { recursive: true, force: true });
  });

  it('loses and copies nothing through SIGKILLs and a SIGSTOP, and spreads the work', async () => {
    const rnd = seeded(seedFromEnv());
    // --- Instances, Command Center, queue ---
    const registry = [];
    for (let i = 1; i <= INSTANCES; i++) {
      await createInstance(db, `cl_node${i}`);
      registry.push({ id: i, name: `node${i}`, port: db.port, dbname: `cl_node${i}` });
    }
    await createCommandCenter(db, 'cl_cc', registry);
    let cc = await db.connect('cl_cc');
    await applySchema(cc, 'objects', 'sync-queue');
    const nodes: Connection[] = [];
    for (let i = 1; i <= INSTANCES; i++) nodes.push(await db.connect(`cl_node${i}`));
    for (const n of nodes) await insertEvents(n, EVENTS_PER_INSTANCE);
    let events = INSTANCES * EVENTS_PER_INSTANCE;
    let items = 0;
    const queueItems = async (count: number): Promise<void> => {
      const rows: unknown[][] = [];
      for (let i = 1; i <= INSTANCES; i++) {
        for (let k = 0; k < count; k++) {
          // Not idempotent: applied twice would count twice.
          rows.push(['UPDATE tgrupo SET parent = parent + 1 WHERE id_grupo = 2', i, 'tgrupo']);
        }
      }
      await cc.query('INSERT INTO tsync_queue (`sql`, target, `table`) VALUES ?', [rows]);
      items += count;
    };
    await queueItems(ITEMS_PER_INSTANCE / 2);

    // --- Buffers in another process ---
    const storages = Array.from({ length: BUFFERS }, (_, b) => join(root, `buffer${b}`));
    const expected = new Map<string, string>();
    let seq = 0;
    const addFiles = (b: number, count: number): void => {
      for (let k = 0; k < count; k++) {
        const name = `agent${b}_${seq++}.data`;
        const body = Buffer.concat([Buffer.from(`<agent_data b="${b}">`), randomBytes(200)]);
        // Renamed into place: the buffer never lists a half-written file.
        const temp = join(storages[b], `${name}~feed`);
        writeFileSync(temp, body);
        renameSync(temp, join(storages[b], name));
        expected.set(name, sha1(body));
      }
    };
    for (let b = 0; b < BUFFERS; b++) {
      mkdirSync(storages[b], { recursive: true });
      addFiles(b, FILES_PER_BUFFER);
    }
    buffers = fork(join(__dirname, 'buffers-child.js'), [JSON.stringify(storages)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ports = await new Promise<number[]>((resolve, reject) => {
      buffers?.once('message', (m) => resolve((m as { ports: number[] }).ports));
      buffers?.once('exit', () => reject(new Error('the buffers process ended')));
    });
    const onBuffers = (): number =>
      storages.reduce((n, s) => n + readdirSync(s).filter((f) => f.endsWith('.data')).length, 0);

    // --- Three members: one packed install, copied ---
    const incoming = (m: number): string => join(root, `data_in_m${m}`);
    const flows = (m: number): object[] => [
      { id: 'a1c2e3f4a5b60001', type: 'tab', label: 'cluster' },
      {
        id: 'a1c2e3f4a5b60002',
        type: 'pandora-config',
        name: 'Command Center',
        dbHost: galera
          ? [0, 1, 2]
              .map((k) => galera?.nodes[(m - 1 + k) % 3])
              .map((n) => `${n?.host}:${n?.port}`)
              .join(',')
          : '127.0.0.1',
        dbPort: String(db.port),
        dbName: 'cl_cc',
        dbUser: 'root',
        incomingDir: incoming(m),
        syncAddress: ports.map((p) => `127.0.0.1:${p}`).join(','),
        cluster: true,
        clusterMember: `m${m}`,
        leaseSeconds: LEASE_S,
      },
      {
        id: 'a1c2e3f4a5b60003',
        type: 'tentacle-pull',
        z: 'a1c2e3f4a5b60001',
        config: 'a1c2e3f4a5b60002',
        interval: '1',
        deliver: 'dir',
        pattern: '\\.data$',
        concurrency: '4',
        connections: '2',
        safe: true,
        wires: [[], []],
      },
      {
        id: 'a1c2e3f4a5b60004',
        type: 'event-pull',
        z: 'a1c2e3f4a5b60001',
        config: 'a1c2e3f4a5b60002',
        instances: '',
        interval: '1',
        batchSize: '50',
        mode: 'all',
        wires: [[]],
      },
      {
        id: 'a1c2e3f4a5b60005',
        type: 'metaconsole-replicate',
        z: 'a1c2e3f4a5b60001',
        config: 'a1c2e3f4a5b60002',
        instances: '',
        objects: 'tags',
        interval: '1',
        wires: [[]],
      },
    ];
    const first = await prepareUserDir({ flows: flows(1) });
    const prepared: PreparedUserDir[] = [first];
    for (let m = 2; m <= MEMBERS; m++) {
      const userDir = `${first.userDir}-m${m}`;
      cpSync(first.userDir, userDir, { recursive: true });
      const port = await freePort();
      writeFileSync(join(userDir, 'settings.js'), settingsModule(offlineSettings(port)));
      writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flows(m)));
      prepared.push({ userDir, port });
    }
    const running: (RunningNodeRed | null)[] = [];
    const logs: string[] = [];
    const outageLogs: string[] = [];
    const outageFrom: number[] = [];
    const launch = async (m: number): Promise<RunningNodeRed> => {
      const nr = await launchNodeRed(prepared[m]);
      running[m] = nr;
      return nr;
    };
    const kill = async (m: number, signal: NodeJS.Signals): Promise<void> => {
      const nr = running[m];
      if (!nr) return;
      const exited = new Promise((r) => nr.process.once('exit', r));
      nr.process.kill(signal);
      await exited;
      logs.push(nr.output());
      running[m] = null;
    };

    const leases = async (): Promise<LeaseView[]> => {
      const [rows] = await cc.query<(LeaseView & RowDataPacket)[]>(
        'SELECT unit, holder, expires > NOW(6) AS live FROM tsync_cluster_lease',
      );
      return rows;
    };
    const liveSessions = async (): Promise<Set<string>> => {
      const [rows] = await cc.query<({ session: string } & RowDataPacket)[]>(
        'SELECT session FROM tsync_cluster_member WHERE expires > NOW(6)',
      );
      return new Set(rows.map((r) => r.session));
    };
    const UNITS = BUFFERS + 2 * INSTANCES;
    /** Every unit held (live) by a live session; optionally by exactly `members` sessions. */
    const allHeld = async (members?: number, not?: string): Promise<boolean> => {
      const rows = await leases();
      const live = await liveSessions();
      if (not) live.delete(not);
      if (rows.length !== UNITS) return false;
      if (!rows.every((r) => Number(r.live) === 1 && live.has(r.holder))) return false;
      return members === undefined || new Set(rows.map((r) => r.holder)).size === members;
    };
    /** Units held per member and kind, e.g. {m1: {pull: 7, events: 1, replicate: 2}}. */
    const perMember = async (): Promise<Record<string, Record<string, number>>> => {
      const out: Record<string, Record<string, number>> = {};
      for (const r of await leases()) {
        if (Number(r.live) !== 1) continue;
        const kind = r.unit.slice(0, r.unit.indexOf(':'));
        const m = (out[memberOf(r.holder)] ??= {});
        m[kind] = (m[kind] ?? 0) + 1;
      }
      return out;
    };
    const KIND_UNITS: Record<string, number> = {
      pull: BUFFERS,
      events: INSTANCES,
      replicate: INSTANCES,
    };

    // Events and queue items keep arriving while members die.
    let feeding = true;
    const feeder = (async () => {
      for (let k = 0; feeding; k++) {
        await insertEvents(nodes[k % INSTANCES], 20, 100_000 + k * 20);
        events += 20;
        if (k % 10 === 0) addFiles(k % BUFFERS, 3);
        if (k % 25 === 0 && items < ITEMS_PER_INSTANCE) await queueItems(1);
        await sleep(100);
      }
    })();

    const sessionsOf = async (m: number): Promise<string[]> => {
      const [rows] = await cc.query<({ session: string } & RowDataPacket)[]>(
        'SELECT session FROM tsync_cluster_member WHERE member = ? AND expires > NOW(6)',
        [`m${m}`],
      );
      return rows.map((r) => r.session);
    };
    /** Wall time from a kill (or pause) until every unit was held again by a live member. */
    const reheld: number[] = [];
    const evenSpread = async (): Promise<boolean> => {
      const now = await perMember();
      return (
        Object.keys(now).length === MEMBERS &&
        Object.entries(KIND_UNITS).every(([k, n]) =>
          Object.values(now).every(
            (kinds) =>
              (kinds[k] ?? 0) >= Math.floor(n / MEMBERS) &&
              (kinds[k] ?? 0) <= Math.ceil(n / MEMBERS),
          ),
        )
      );
    };
    let spread: Record<string, Record<string, number>> = {};
    try {
      for (let m = 0; m < MEMBERS; m++) await launch(m);
      await waitFor(
        () => allHeld(MEMBERS),
        60_000,
        `every unit held, spread over ${MEMBERS} members`,
      );
      // A few ticks for the spread to settle: units / members of each kind, give or take one.
      await waitFor(evenSpread, 20_000, 'an even spread');
      spread = await perMember();
      console.log(`# units per member, all ${MEMBERS} alive: ${JSON.stringify(spread)}`);

      // --- SIGKILL mid-round, ten times, each member restarted ---
      const restarts: Promise<unknown>[] = [];
      for (let k = 0; k < KILLS; k++) {
        const m = k % MEMBERS;
        await restarts[m];
        await sleep(400 + Math.floor(rnd() * 1200));
        const [session] = await sessionsOf(m + 1);
        logs.push(`--- ${new Date().toISOString()} SIGKILL m${m + 1}`);
        const killed = Date.now();
        await kill(m, 'SIGKILL');
        await waitFor(
          () => allHeld(undefined, session),
          LEASE_S * 1000 * 4,
          `member m${m + 1}'s units taken over`,
        );
        reheld.push(Date.now() - killed);
        restarts[m] = launch(m);
      }
      await Promise.all(restarts);

      // --- SIGSTOP one member past its lease, then SIGCONT ---
      // The member paused must hold its share: wait for the spread, not just for it to be back.
      await waitFor(
        async () => (await allHeld(MEMBERS)) && (await evenSpread()),
        30_000,
        'all members back with their share',
      );
      logs.push(`--- ${new Date().toISOString()} SIGSTOP m1`);
      const paused = running[0] as RunningNodeRed;
      const [pausedSession] = await sessionsOf(1);
      const pausedAt = Date.now();
      paused.process.kill('SIGSTOP');
      await waitFor(
        () => allHeld(undefined, pausedSession),
        LEASE_S * 1000 * 4,
        'the paused member replaced',
      );
      reheld.push(Date.now() - pausedAt);
      await sleep(LEASE_S * 1000);
      // It wakes up in the middle of what it was doing: its writes are fenced off.
      paused.process.kill('SIGCONT');

      // --- The database stopped for longer than a lease, then back ---
      feeding = false;
      await feeder;
      await waitFor(() => allHeld(MEMBERS), 30_000, 'the resumed member back in');
      // Takeovers after the outage are of leases that expired while nobody could renew them:
      // they are counted apart from those of members that died.
      for (const [m, nr] of running.entries()) outageFrom[m] = nr?.output().length ?? 0;
      if (galera) {
        // The third member's node dies for good: it goes on with the next node of its list.
        await galera.nodes[2].stop('SIGKILL');
        await sleep(LEASE_S * 1000 * 2);
      } else {
        await Promise.all([cc.end(), ...nodes.map((n) => n.end())]);
        await db.stop();
        await sleep(LEASE_S * 1000 * 2);
        await db.start();
        cc = await db.connect('cl_cc');
        for (let i = 1; i <= INSTANCES; i++) nodes[i - 1] = await db.connect(`cl_node${i}`);
      }
      await waitFor(() => allHeld(MEMBERS), 30_000, 'every unit held again after the outage');

      // --- Quiet: everything arrives exactly once ---
      if (items < ITEMS_PER_INSTANCE) await queueItems(ITEMS_PER_INSTANCE - items);
      const copied = async (): Promise<number> => {
        const [r] = await cc.query<({ n: string } & RowDataPacket)[]>(
          'SELECT COUNT(*) AS n FROM tmetaconsole_event',
        );
        return Number(r[0].n);
      };
      const queued = async (): Promise<number> => {
        const [r] = await cc.query<({ n: string } & RowDataPacket)[]>(
          'SELECT COUNT(*) AS n FROM tsync_queue',
        );
        return Number(r[0].n);
      };
      await waitFor(
        async () => onBuffers() === 0 && (await copied()) >= events && (await queued()) === 0,
        90_000,
        'every file pulled, event copied and queue item applied',
      );
      // The last deliveries settle: nothing left under a temp name in any incomingDir.
      await waitFor(
        () =>
          Array.from({ length: MEMBERS }, (_, m) => incoming(m + 1)).every(
            (d) => tempNames(d).length === 0,
          ),
        15_000,
        'no temp file left in any incomingDir',
      );
    } finally {
      feeding = false;
      await feeder.catch(() => undefined);
      for (let m = 0; m < MEMBERS; m++) {
        const nr = running[m];
        if (nr) {
          const out = nr.output();
          const cut = outageFrom[m] ?? out.length;
          logs.push(out.slice(0, cut));
          outageLogs.push(out.slice(cut));
          await nr.stop();
        }
      }
      buffers?.send('close');
    }

    // Files: exactly once across the members' incomingDirs.
    const seen = new Map<string, number>();
    const got = new Map<string, string>();
    const filesPer: Record<string, number> = {};
    for (let m = 1; m <= MEMBERS; m++) {
      assert.deepEqual(tempNames(incoming(m)), [], `no temp file in m${m}'s incomingDir`);
      const here = hashesIn(incoming(m));
      filesPer[`m${m}`] = here.size;
      for (const [name, hash] of here) {
        seen.set(name, (seen.get(name) ?? 0) + 1);
        got.set(name, hash);
      }
    }
    const twice = [...seen].filter(([, n]) => n > 1).map(([name]) => name);
    assert.deepEqual(twice, [], 'no file delivered by two members');
    assert.equal(got.size, expected.size, 'every file delivered');
    for (const [name, hash] of expected) assert.equal(got.get(name), hash, name);
    assert.equal(onBuffers(), 0, 'nothing left on the buffers');

    // Events: exactly once.
    const [ev] = await cc.query<({ n: string; d: string } & RowDataPacket)[]>(
      'SELECT COUNT(*) AS n, COUNT(DISTINCT server_id, id_source_event) AS d FROM tmetaconsole_event',
    );
    assert.equal(Number(ev[0].n), events, 'every event copied, none twice');
    assert.equal(Number(ev[0].d), events);

    // Queue items: each applied once (each adds one to the group's parent).
    for (const [i, n] of nodes.entries()) {
      const [g] = await n.query<({ parent: string } & RowDataPacket)[]>(
        'SELECT parent FROM tgrupo WHERE id_grupo = 2',
      );
      assert.equal(Number(g[0].parent), items, `instance ${i + 1}: every item applied once`);
    }

    // Each takeover is reported once by the node whose unit it is, with the time from the
    // previous holder's last renewal (database clock).
    const times = (text: string): number[] =>
      [...text.matchAll(/took \S+ over from \S+ \((\d+) ms after/g)]
        .map((x) => Number(x[1]))
        .sort((a, b) => a - b);
    // CLUSTER_LOG=<file> keeps the members' logs for a closer look.
    if (process.env.CLUSTER_LOG) {
      writeFileSync(
        process.env.CLUSTER_LOG,
        [...logs, '--- after the outage', ...outageLogs].join('\n'),
      );
    }
    const sorted = times(logs.join('\n'));
    const afterOutage = times(outageLogs.join('\n'));
    const again = [...reheld].sort((a, b) => a - b);
    console.log(
      `# ${KILLS} SIGKILLs + 1 SIGSTOP: ${sorted.length} units taken over; since the holder's last ` +
        `renewal: max ${sorted[sorted.length - 1]} ms, p50 ${quantile(sorted, 0.5)} ms ` +
        `(leaseSeconds ${LEASE_S}: promise ${LEASE_S * 2000} ms); every unit held again after ` +
        `a kill or pause: max ${again[again.length - 1]} ms, p50 ${quantile(again, 0.5)} ms`,
    );
    // Writes refused by the fence (a member working a unit it had lost), as the nodes logged them:
    // each names a unit of this cluster.
    const refused = [
      ...logs
        .join('\n')
        .matchAll(
          /ERR_LEASE_LOST \{"unit":"([^"]+)"\}|the lease of (\S+) is held by another member now/g,
        ),
    ].map((x) => x[1] ?? x[2]);
    const unitNames = new Set((await leases()).map((r) => r.unit));
    for (const u of refused) assert.ok(unitNames.has(u), `a refused write names ${u}`);
    console.log(`# writes refused by the fence and logged: ${refused.length}`);
    // Every kind's writes went through the fence: the lease rows count the fences passed.
    const [passed] = await cc.query<({ kind: string; n: string } & RowDataPacket)[]>(
      "SELECT SUBSTRING_INDEX(unit, ':', 1) AS kind, SUM(fenced) AS n FROM tsync_cluster_lease GROUP BY kind",
    );
    const fencedBy = Object.fromEntries(passed.map((r) => [r.kind, Number(r.n)]));
    console.log(`# writes that passed the fence, by kind: ${JSON.stringify(fencedBy)}`);
    for (const kind of Object.keys(KIND_UNITS)) {
      assert.ok((fencedBy[kind] ?? 0) > 0, `${kind} writes passed the fence`);
    }
    console.log(
      `# database stopped ${LEASE_S * 2} s: ${afterOutage.length} units changed hands after it ` +
        `(max ${afterOutage[afterOutage.length - 1] ?? '-'} ms since the last renewal)`,
    );
    console.log(
      `# delivered: ${expected.size} files (${JSON.stringify(filesPer)}), ${events} events, ` +
        `${items} queue items per instance`,
    );
    assert.ok(sorted.length > 0, 'units were taken over');
    assert.ok(
      sorted[sorted.length - 1] <= LEASE_S * 2000,
      `a takeover took ${sorted[sorted.length - 1]} ms`,
    );

    for (const n of nodes) await n.end();
    await cc.end();
  });
});
