/**
 * Delivery into the incoming directory (`incomingdir`): temp name carrying `~` (invisible to the
 * Pandora data server and to any Tentacle LS/RECV), fsync, rename, fsync of the directory. Only
 * then is a file "stored", and only then may it leave its buffer.
 *
 * Cluster (`shared`): between the fsync and the rename, the file is recorded `stored` by this
 * member in the Command Center, fenced by the buffer's lease. That commit is the point of no
 * return: a temp file with such a record is renamed into place by this member's next run (see
 * `settle`), one without it is deleted, and the member holding the buffer then knows which
 * files to deliver again without waiting for anyone.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { CommitUncertain, type SharedDeliveries } from '../cluster/gate';
import { CommitGroup, DurableFile, syncDir } from '../util/durable-file';
import { DeliveryJournal, type JournalEntry } from './journal';
import { LocalStoreError } from './errors';
import { pausePoint } from './pause-point';

export interface StoreResult {
  name: string;
  size: number;
  sha1: string;
  /** Where the file was written; absent when nothing was written. */
  path?: string;
  /** The content, when asked to keep it (deliver `msg`/`both`). */
  payload?: Buffer;
  /** Already delivered (journal) or already present with the same content: not delivered again. */
  duplicate: boolean;
}

/** A file read and queued for its commit (see `IncomingDir.receive`). */
export interface Received {
  result: StoreResult;
  durable: Promise<StoreResult>;
}

/**
 * Starts the commit step. Its failure is the caller's to await; the handler attached here only
 * keeps a failure that comes before the caller awaits from counting as unhandled.
 */
function pending(result: StoreResult, commit: () => Promise<StoreResult>): Received {
  const durable = commit();
  durable.catch(() => undefined);
  return { result, durable };
}

export interface IncomingOptions {
  dir: string;
  journal: DeliveryJournal;
  /** Write files into `dir` (deliver `dir`/`both`). */
  write: boolean;
  /** Keep the content in memory (deliver `msg`/`both`). */
  keep: boolean;
  /** Cluster: files stored by any member and not yet removed from their buffer. */
  shared?: SharedDeliveries;
}

const TEMP_MARK = '~pull~';
/** Largest second download held in memory for the comparison with the first. */
const HOLD_MAX = 1024 * 1024;
let tempCounter = 0;

/** What a temp file name says: the agent file's name and the pid of the process that wrote it. */
function parseTemp(name: string): { name: string; pid: number } | null {
  const at = name.lastIndexOf(TEMP_MARK);
  if (at <= 0) return null;
  const pid = Number(name.slice(at + TEMP_MARK.length).split('.')[0]);
  return Number.isInteger(pid) && pid > 0 ? { name: name.slice(0, at), pid } : null;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function fileSha1(path: string): Promise<string> {
  const hash = createHash('sha1');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export class IncomingDir {
  /** Target paths chosen for files not yet renamed there: no second file may pick them. */
  private readonly reserved = new Set<string>();
  /** Cluster: temp files of this run whose record the database did not confirm either way. */
  private readonly unsure = new Set<string>();
  /** Cluster: the temp files left by earlier runs have been settled (needed before pulling). */
  private settledAtStart = false;
  private readonly commits: CommitGroup<Omit<JournalEntry, 'at'>>;

  constructor(private readonly opts: IncomingOptions) {
    this.commits = new CommitGroup((done) => opts.journal.recordMany(done.map((d) => d.meta)));
  }

  get dir(): string {
    return this.opts.dir;
  }

  /**
   * Creates the directory if needed and removes temp files left by a puller process that died
   * mid-write (never those of a live process, which may be another puller writing now). In a
   * cluster they are left to `settle`: some may be committed deliveries.
   */
  async prepare(): Promise<void> {
    if (!this.opts.write) return;
    try {
      await mkdir(this.opts.dir, { recursive: true });
      if (this.opts.shared) return;
      for (const name of await readdir(this.opts.dir)) {
        const t = parseTemp(name);
        if (t && !pidAlive(t.pid)) await unlink(join(this.opts.dir, name)).catch(() => {});
      }
    } catch (err) {
      throw new LocalStoreError('dir', this.opts.dir, err);
    }
  }

  /**
   * Reads exactly `size` bytes of `name` from a buffer and stores them durably, unless the
   * journal or the incoming directory shows this very file was delivered already. `size` is null
   * when only the stream knows it (a ZRECV, whose archive checked its own size and CRC).
   */
  async store(
    address: string,
    name: string,
    data: AsyncIterable<unknown>,
    size: number | null,
    expected?: { size: number; sha1: string },
  ): Promise<StoreResult> {
    const r = await this.receive(address, name, data, size, expected);
    return r.durable;
  }

  /**
   * `store` in two steps: resolves once the bytes are read and checked and the file is queued
   * for its commit, so the connection can go on with the next file while it commits; `durable`
   * resolves once it is durable here and journalled (only then may it leave its buffer), or
   * rejects with what kept it from being so.
   */
  async receive(
    address: string,
    name: string,
    data: AsyncIterable<unknown>,
    size: number | null,
    expected?: { size: number; sha1: string },
  ): Promise<Received> {
    const done = (result: StoreResult): Received => ({ result, durable: Promise.resolve(result) });
    const { dir, write, keep, journal, shared } = this.opts;
    const hash = createHash('sha1');
    const chunks: Buffer[] = [];
    const temp = join(dir, `${name}${TEMP_MARK}${process.pid}.${++tempCounter}`);
    let file: DurableFile | null = null;
    let received = 0;
    // Only errors of our own disk are local; a stream error is the connection's.
    const local = async <T>(op: () => Promise<T>): Promise<T> => {
      try {
        return await op();
      } catch (err) {
        throw new LocalStoreError('write', temp, err);
      }
    };
    // A second download announced with the size of the first (safe mode's MV) is most likely
    // the same bytes: a small one is held in memory and written only if it turns out to differ.
    const held: Buffer[] = [];
    let holding = write && expected !== undefined && size === expected.size && size <= HOLD_MAX;
    try {
      if (write && !holding) {
        file = await local(() => DurableFile.open(join(dir, name), { tempPath: temp }));
      }
      for await (const c of data) {
        const chunk = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
        hash.update(chunk);
        received += chunk.length;
        if (keep) chunks.push(chunk);
        if (holding) {
          held.push(chunk);
          if (received > HOLD_MAX) holding = false;
        }
        if (write && !holding && !file) {
          file = await local(() => DurableFile.open(join(dir, name), { tempPath: temp }));
          for (const h of held.splice(0)) {
            const out = file;
            await local(() => out.write(h));
          }
          continue;
        }
        if (file) {
          const out = file;
          await local(() => out.write(chunk));
        }
      }
    } catch (err) {
      await file?.abort();
      throw err;
    }
    const sha1 = hash.digest('hex');
    const drop = async () => {
      await file?.abort();
    };
    // A second download of a file already stored (the MV after a RECV in safe mode): the same
    // bytes need no fsync and no delivery; different ones (the buffer took a new version with
    // -o in between) are a new delivery like any other.
    if (
      expected &&
      received === expected.size &&
      sha1 === expected.sha1 &&
      (size === null || received === size)
    ) {
      await drop();
      return done({ name, size: received, sha1, duplicate: true });
    }
    if (holding && write) {
      // Different bytes after all: they are a delivery of their own, written like any other.
      file = await local(() => DurableFile.open(join(dir, name), { tempPath: temp }));
      for (const h of held.splice(0)) {
        const out = file;
        await local(() => out.write(h));
      }
    }
    const result: StoreResult = { name, size: received, sha1, duplicate: false };
    if (keep) result.payload = Buffer.concat(chunks, received);
    if (size !== null && received !== size) {
      await drop();
      throw new Error(`${name}: received ${received} bytes of ${size}`);
    }
    const entry = { address, name, size: received, sha1 };
    if (journal.has(entry)) {
      await drop();
      result.duplicate = true;
      return done(result);
    }
    if (shared) {
      // Cluster: another member (or an earlier run of this one) may have stored this very file;
      // then it only needs to leave the buffer.
      const known = await shared.state(address, entry).catch(async (err: unknown) => {
        await drop();
        throw err;
      });
      if (known === 'stored') {
        await drop();
        result.duplicate = true;
        return done(result);
      }
    }
    const unrecord = async (): Promise<void> => {
      await shared?.forget(address, entry).catch(() => undefined);
    };
    /** Cluster: the point of no return; false when another record was there first. */
    const record = async (): Promise<boolean> => (shared ? shared.record(address, entry) : true);
    /**
     * Cluster: in place; a failure only leaves the record to this member's next restart. Waited
     * for: queued unawaited, these would crowd the pool the lease renewals share.
     */
    const placed = async (): Promise<void> => {
      await shared?.placed(address, entry).catch(() => undefined);
    };
    if (!file) {
      return pending(result, async () => {
        if (!(await record())) {
          result.duplicate = true;
          return result;
        }
        await journal.record(entry).catch(async (err: unknown) => {
          await unrecord();
          throw err;
        });
        await placed();
        return result;
      });
    }
    let target: { path: string; same: boolean };
    try {
      target = await this.targetFor(name, received, sha1);
    } catch (err) {
      await drop();
      await unrecord();
      throw new LocalStoreError('deliver', dir, err, name);
    }
    result.path = target.path;
    if (target.same) {
      // Already waiting in the directory with this content: record it, write nothing.
      await drop();
      result.duplicate = true;
      return pending(result, async () => {
        await record();
        await journal.record(entry);
        await placed();
        return result;
      });
    }
    const out = file;
    const path = target.path;
    out.path = path;
    this.reserved.add(path);
    return pending(result, async () => {
      try {
        if (shared) {
          // Durable under its temp name first; then the fenced record (the point of no return).
          try {
            await local(() => out.flush());
          } catch (err) {
            await drop();
            throw err;
          }
          await pausePoint('record', name);
          let fresh: boolean;
          try {
            fresh = await record();
          } catch (err) {
            // Not confirmed either way: the temp file stays, the next round settles it.
            if (err instanceof CommitUncertain) this.unsure.add(out.tempPath);
            else await drop();
            throw err;
          }
          if (!fresh) {
            await drop();
            result.duplicate = true;
            return result;
          }
          await pausePoint('rename', name);
        }
        try {
          // Durable here (fsync, rename, directory fsync) and journalled, shared with the files
          // that finish at the same time; only then may the file leave its buffer.
          await this.commits.commit(out, entry);
        } catch (err) {
          await unrecord();
          throw new LocalStoreError('deliver', dir, err, name);
        }
        await placed();
        return result;
      } finally {
        this.reserved.delete(path);
      }
    });
  }

  /** Cluster: whether the temp files left by earlier runs are settled, so pulling may start. */
  get ready(): boolean {
    return !this.opts.shared || !this.opts.write || this.settledAtStart;
  }

  /**
   * Cluster: settles the temp files this member left, from what the Command Center says (its
   * fenced record is the truth): the first time, every temp file of a process that is gone (or
   * of an earlier process with this pid); later, those of this run whose record was not
   * confirmed. A temp file with this member's
   * `stored` record is renamed into place (or dropped when the same file is there already),
   * any other is deleted. Returns how many were renamed. Throws when the database cannot say:
   * they stay for the next call.
   */
  async settle(): Promise<number> {
    const { shared, write, dir, journal } = this.opts;
    if (!shared || !write) return 0;
    const first = !this.settledAtStart;
    // After the first time only unconfirmed records of this run are looked at: no listing.
    if (!first && this.unsure.size === 0) return 0;
    let renamed = 0;
    for (const entry of await readdir(dir)) {
      const t = parseTemp(entry);
      const temp = join(dir, entry);
      if (!t || !(first || this.unsure.has(temp))) continue;
      let st;
      try {
        st = await stat(temp);
      } catch {
        this.unsure.delete(temp);
        continue;
      }
      // An earlier process with this pid (a restarted container) wrote it before this one began.
      const earlier = t.pid === process.pid && st.mtimeMs < Date.now() - process.uptime() * 1000;
      if (first && !this.unsure.has(temp) && pidAlive(t.pid) && !earlier) continue;
      const e = { name: t.name, size: st.size, sha1: await fileSha1(temp) };
      const address = await shared.storedHere(e);
      this.unsure.delete(temp);
      if (address === null) {
        await unlink(temp).catch(() => undefined);
        continue;
      }
      const target = await this.targetFor(e.name, e.size, e.sha1);
      if (target.same) {
        await unlink(temp);
      } else {
        await rename(temp, target.path);
        await syncDir(dir);
        renamed++;
      }
      if (!journal.has({ address, ...e })) await journal.record({ address, ...e });
    }
    // Every temp file an earlier run committed is in place now: its records may be pruned.
    if (first) await shared.placedEarlier();
    this.settledAtStart = true;
    return renamed;
  }

  /**
   * The name to deliver under: `name` itself, or, when a different file of that name is still
   * waiting in the directory, `<stem>_<n><ext>` so that neither is lost.
   */
  private async targetFor(
    name: string,
    size: number,
    sha1: string,
  ): Promise<{ path: string; same: boolean }> {
    const ext = extname(name);
    const stem = name.slice(0, name.length - ext.length);
    for (let n = 0; n < 1000; n++) {
      const path = join(this.opts.dir, n === 0 ? name : `${stem}_${n}${ext}`);
      if (this.reserved.has(path)) continue;
      let st;
      try {
        st = await stat(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { path, same: false };
        throw err;
      }
      if (st.isFile() && st.size === size && (await fileSha1(path)) === sha1) {
        return { path, same: true };
      }
    }
    throw new Error(`too many different files named ${name} waiting`);
  }
}
