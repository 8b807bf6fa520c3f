/**
 * The body of the cluster delivery kill tests, run against one MariaDB and against a Galera
 * cluster: two members (test/cluster/member-child.ts) pull six Tentacle buffers (another
 * process) into their own incomingDirs through the Command Center's leases and delivery records.
 * A member is killed with SIGKILL at each moment of a delivery (before its record, between the
 * record and the rename, between the rename and the removal from the buffer), restarted seconds
 * later or after the other has drained everything; then at random moments. After each part:
 * every file in exactly one incomingDir, byte-identical, no temp file left, buffers empty.
 */
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2';
import type { Pool } from '../../lib/db/pool';
import { spawnChild, type TestChild } from '../helpers/child';
import { hashesIn, seeded, seedFromEnv, sha1, tempNames } from '../faults/util';
import { sleep, until, waitFor } from '../helpers/wait';
import type { MemberArgs } from './member-child';

export const LEASE_S = 2;
const BUFFERS = 6;
const MEMBERS = 2;

export interface RunFigures {
  label: string;
  total: number;
  once: number;
  duplicates: number;
  missing: number;
  tempsLeft: number;
  kills: number;
  /** ms from each kill until the buffers the killed member held were empty. */
  emptied: number[];
}

export interface RunSetup {
  root: string;
  /** The Command Center, for the checks. */
  cc: Pool;
  /** What member `m` (0-based) connects to. */
  dbOf(m: number): { dbHost: string; dbPort: number; database: string };
  label: string;
  randomKills: number;
  /** Runs once, early in the random kills (e.g. a database node killed mid-run). */
  midRun?: () => Promise<void>;
}

/** Kill moments, each with its pause point. */
const MOMENTS = ['record', 'rename', 'remove'] as const;

export async function runKills(setup: RunSetup): Promise<RunFigures> {
  const { root, cc } = setup;
  const rnd = seeded(seedFromEnv());
  const storages = Array.from({ length: BUFFERS }, (_, b) => join(root, `buffer${b}`));
  for (const s of storages) mkdirSync(s, { recursive: true });
  const expected = new Map<string, string>();
  let seq = 0;
  const addFiles = (perBuffer: number): void => {
    for (const [b, dir] of storages.entries()) {
      for (let k = 0; k < perBuffer; k++) {
        const name = `agent${b}_${seq++}.data`;
        const body = Buffer.concat([Buffer.from(`<agent_data b="${b}">`), randomBytes(600)]);
        const temp = join(dir, `${name}~feed`);
        writeFileSync(temp, body);
        renameSync(temp, join(dir, name));
        expected.set(name, sha1(body));
      }
    }
  };
  const onBuffer = (b: number): number =>
    readdirSync(storages[b]).filter((f) => f.endsWith('.data')).length;
  const onBuffers = (): number => storages.reduce((n, _, b) => n + onBuffer(b), 0);
  const buffers: ChildProcess = fork(
    join(__dirname, 'buffers-child.js'),
    [JSON.stringify(storages)],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const ports = await new Promise<number[]>((resolve, reject) => {
    buffers.once('message', (m) => resolve((m as { ports: number[] }).ports));
    buffers.once('exit', () => reject(new Error('the buffers process ended')));
  });
  const incoming = (m: number): string => join(root, `in_m${m + 1}`);
  const running: (TestChild | null)[] = [null, null];
  const logs: string[] = [];
  const start = async (m: number, pauseAt?: string): Promise<TestChild> => {
    const args: MemberArgs = {
      ...setup.dbOf(m),
      member: `m${m + 1}`,
      leaseSeconds: LEASE_S,
      incomingDir: incoming(m),
      ports,
    };
    const env = { ...process.env };
    delete env.PANDORA_SYNC_PAUSE_AT;
    if (pauseAt) env.PANDORA_SYNC_PAUSE_AT = pauseAt;
    const c = spawnChild(join(__dirname, 'member-child.js'), {
      args: [JSON.stringify(args)],
      env,
      stderr: 'pipe',
    });
    running[m] = c;
    await waitFor(() => c.output().includes('member ready'), 20_000, `m${m + 1} started`);
    return c;
  };
  const stop = async (m: number, signal: NodeJS.Signals): Promise<void> => {
    const c = running[m];
    if (!c) return;
    running[m] = null;
    if (signal === 'SIGKILL') await c.kill();
    else {
      c.process.kill(signal);
      await c.done;
    }
    logs.push(`--- m${m + 1} ${signal}\n${c.output()}`);
  };
  /** The buffers (indexes) whose lease member `m` holds now. */
  const heldBy = async (m: number): Promise<number[]> => {
    const [rows] = await cc.query<({ unit: string } & RowDataPacket)[]>(
      'SELECT unit FROM tsync_cluster_lease WHERE holder LIKE ? AND expires > NOW(6)',
      [`m${m + 1}/%`],
    );
    return rows
      .map((r) => ports.findIndex((p) => r.unit === `pull:127.0.0.1:${p}`))
      .filter((b) => b >= 0);
  };
  const emptied: number[] = [];
  let kills = 0;
  /** Kills `m` now and notes when the buffers it held are empty (in the background). */
  const killTimed = async (m: number): Promise<Promise<void>> => {
    const held = await heldBy(m);
    const at = Date.now();
    await stop(m, 'SIGKILL');
    kills++;
    return (async () => {
      if (await until(() => held.every((b) => onBuffer(b) === 0), 60_000, 20)) {
        emptied.push(Date.now() - at);
      }
    })();
  };
  const drained = async (): Promise<void> => {
    await waitFor(() => onBuffers() === 0, 90_000, 'every buffer empty');
    // The running members have put their last files in place (a killed one's wait for it).
    await waitFor(
      () => running.every((r, m) => !r || tempNames(incoming(m)).length === 0),
      20_000,
      'the running members settling their temp files',
    );
  };
  const check = async (part: string): Promise<void> => {
    for (let m = 0; m < MEMBERS; m++) if (!running[m]) await start(m);
    await drained();
    // Both members running have settled what they left; a clean stop leaves nothing.
    for (let m = 0; m < MEMBERS; m++) await stop(m, 'SIGTERM');
    const seen = new Map<string, number>();
    for (let m = 0; m < MEMBERS; m++) {
      assert.deepEqual(tempNames(incoming(m)), [], `${part}: no temp file left in m${m + 1}`);
      for (const [name, hash] of hashesIn(incoming(m))) {
        seen.set(name, (seen.get(name) ?? 0) + 1);
        assert.equal(hash, expected.get(name), `${part}: ${name} byte-identical (m${m + 1})`);
      }
    }
    const twice = [...seen].filter(([, n]) => n > 1).map(([n]) => n);
    assert.deepEqual(twice, [], `${part}: no file in two incomingDirs`);
    const missing = [...expected.keys()].filter((n) => !seen.has(n));
    assert.deepEqual(missing, [], `${part}: every file delivered`);
  };

  try {
    for (let m = 0; m < MEMBERS; m++) mkdirSync(incoming(m), { recursive: true });
    // --- A kill at each moment of a delivery, restarted quickly and after the other drained ---
    for (const moment of MOMENTS) {
      for (const late of [false, true]) {
        const part = `kill at ${moment}, ${late ? 'late' : 'quick'} restart`;
        addFiles(40);
        // The victim first: it holds every buffer until the other has started and taken its
        // share, so the pause is reached whatever the speed of the database.
        const victim = await start(0, moment);
        await start(1);
        await waitFor(
          () => victim.output().includes(`PANDORA_SYNC_PAUSED ${moment}`),
          30_000,
          `m1 pausing at ${moment}`,
        );
        const timing = await killTimed(0);
        if (late) {
          await drained();
          if (moment === 'rename') {
            // Committed but not renamed: the file waits under its temp name for its member.
            assert.ok(tempNames(incoming(0)).length > 0, `${part}: the committed temp file kept`);
          }
        } else {
          await sleep(300);
        }
        await start(0);
        await timing;
        await check(part);
      }
    }

    // --- Random SIGKILLs of both members, restarted quickly or after the other drained ---
    addFiles(60);
    for (let m = 0; m < MEMBERS; m++) await start(m);
    for (let k = 0; k < setup.randomKills; k++) {
      const m = k % MEMBERS;
      if (onBuffers() < 60) addFiles(20);
      await sleep(200 + Math.floor(rnd() * 1200));
      if (k === 2 && setup.midRun) await setup.midRun();
      const timing = await killTimed(m);
      if (k % 3 === 2) {
        await drained();
        await timing;
      } else {
        await sleep(Math.floor(rnd() * 800));
      }
      await start(m);
    }
    await check('random kills');
  } catch (err) {
    for (let m = 0; m < MEMBERS; m++) {
      const c = running[m];
      if (c) logs.push(`--- m${m + 1} (running)\n${c.output()}`);
    }
    if (process.env.CLUSTER_LOG) writeFileSync(process.env.CLUSTER_LOG, logs.join('\n'));
    throw err;
  } finally {
    for (let m = 0; m < MEMBERS; m++) await stop(m, 'SIGKILL');
    buffers.send('close');
  }
  if (process.env.CLUSTER_LOG) writeFileSync(process.env.CLUSTER_LOG, logs.join('\n'));
  const all = new Map<string, number>();
  let tempsLeft = 0;
  for (let m = 0; m < MEMBERS; m++) {
    tempsLeft += tempNames(incoming(m)).length;
    for (const name of hashesIn(incoming(m)).keys()) all.set(name, (all.get(name) ?? 0) + 1);
  }
  const once = [...expected.keys()].filter((n) => all.get(n) === 1).length;
  return {
    label: setup.label,
    total: expected.size,
    once,
    duplicates:
      [...all.values()].reduce((n, c) => n + c - 1, 0) +
      [...all.keys()].filter((n) => !expected.has(n)).length,
    missing: [...expected.keys()].filter((n) => !all.has(n)).length,
    tempsLeft,
    kills,
    emptied: emptied.sort((x, y) => x - y),
  };
}

export function describeFigures(f: RunFigures): string {
  const q = (p: number): number =>
    f.emptied[Math.min(f.emptied.length - 1, Math.floor(p * f.emptied.length))];
  return (
    `# ${f.label}: ${f.once}/${f.total} files delivered once, ${f.duplicates} duplicates, ` +
    `${f.missing} missing, ${f.tempsLeft} temp files left; ${f.kills} SIGKILLs: kill -> the dead ` +
    `member's buffers empty p50 ${q(0.5)} ms, max ${f.emptied[f.emptied.length - 1]} ms ` +
    `(leaseSeconds ${LEASE_S}: takeover promised within ${LEASE_S * 2000} ms)`
  );
}
