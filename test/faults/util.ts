/** Small shared pieces of the fault suite: temp trees, hashes, a seeded random source. */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha1 } from '../helpers/files';

export { removeDir, sha1, tempDir } from '../helpers/files';
export { sleep } from '../helpers/wait';

/** Every path under `dir` (relative, `/` for directories), with size and mtime for files. */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        out.set(`${r}/`, 'dir');
        walk(p, r);
      } else {
        const st = statSync(p);
        out.set(r, `${st.size}:${st.mtimeMs}`);
      }
    }
  };
  walk(dir, '');
  return out;
}

/** Names of files in `dir` with their sha1. */
export function hashesIn(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isFile()) out.set(e.name, sha1(readFileSync(join(dir, e.name))));
  }
  return out;
}

/** Names holding `~`: temp files, which must never be left behind. */
export function tempNames(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.includes('~'));
}

/** mulberry32: a small seeded generator, so a failing run can be replayed from its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seedFromEnv(): number {
  const s = Number(process.env.FAULT_SEED);
  return Number.isInteger(s) && s > 0 ? s : Math.floor(Math.random() * 2 ** 31) + 1;
}

/** Rejects when `p` takes longer than `ms`. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Progress lines on stderr when FAULT_DEBUG is set, to find where a hung run stopped. */
export function debug(...args: unknown[]): void {
  if (process.env.FAULT_DEBUG) console.error(...args);
}

/** The number in column `n` of a one-row query. */
export async function count(
  db: { query(sql: string, args?: unknown[]): Promise<unknown> },
  sql: string,
  args: unknown[] = [],
): Promise<number> {
  const [rows] = (await db.query(sql, args)) as [{ n: string | number }[]];
  return Number(rows[0].n);
}

/**
 * Fills a buffer's storage with `files` agent data files of `extra(i)` random bytes after an XML
 * opening, and returns each name's sha1 (what must arrive, exactly once).
 */
export function seedAgentFiles(
  storage: string,
  files: number,
  extra: (i: number) => number,
): Map<string, string> {
  mkdirSync(storage, { recursive: true });
  const expected = new Map<string, string>();
  for (let i = 0; i < files; i++) {
    const name = `agent${i % 37}.${100000 + i}.data`;
    const body = Buffer.concat([Buffer.from(`<agent_data seq="${i}">`), randomBytes(extra(i))]);
    writeFileSync(join(storage, name), body);
    expected.set(name, sha1(body));
  }
  return expected;
}
