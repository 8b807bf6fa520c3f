/**
 * The one durable file write of the package: bytes go to a temp name in the target's directory,
 * are fsynced, the temp is put in place (rename, or link when an existing file must not be
 * replaced), and the directory is fsynced. Until the rename nobody sees the file; after the
 * directory fsync it survives a power cut.
 *
 * The steps are separate so that files finished close together can share the costly part
 * (`commitAll`, `CommitGroup`): their fsyncs are issued together, which the filesystem folds into
 * one journal commit, and each directory is fsynced once for the whole batch.
 */
import { randomBytes } from 'node:crypto';
import { link, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface DurableFileOptions {
  /** The temp file's path; it must be in the target's directory. Default `<target>~<random>`. */
  tempPath?: string;
  /** File mode, applied exactly (the umask does not narrow it). Default 0o644 less the umask. */
  mode?: number;
  /** `replace` (default) renames over an existing target; `exclusive` fails with EEXIST. */
  place?: 'replace' | 'exclusive';
}

/** A file being written under its temp name. */
export class DurableFile {
  /** Bytes written so far. */
  bytes = 0;
  private fh: FileHandle | null;
  private state: 'open' | 'flushed' | 'placed' | 'aborted' = 'open';

  private constructor(
    /** Where the file goes; may be changed until `place` (e.g. to avoid a name clash). */
    public path: string,
    readonly tempPath: string,
    fh: FileHandle,
    private readonly how: 'replace' | 'exclusive',
  ) {
    this.fh = fh;
  }

  /** Creates the temp file (never an existing one). */
  static async open(path: string, options: DurableFileOptions = {}): Promise<DurableFile> {
    const temp =
      options.tempPath ??
      join(dirname(path), `${basename(path)}~${randomBytes(6).toString('hex')}`);
    const fh = await open(temp, 'wx', options.mode ?? 0o644);
    try {
      if (options.mode !== undefined) await fh.chmod(options.mode);
    } catch (err) {
      await fh.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    return new DurableFile(path, temp, fh, options.place ?? 'replace');
  }

  /** The open temp file, for writers that need it (positioned writes, streams). */
  get handle(): FileHandle {
    if (!this.fh) throw new Error(`${this.tempPath} is no longer open`);
    return this.fh;
  }

  async write(chunk: Buffer | string): Promise<void> {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    await this.handle.write(b);
    this.bytes += b.length;
  }

  /** Writes everything `source` yields; resolves with the bytes written by this call. */
  async writeFrom(source: AsyncIterable<unknown>): Promise<number> {
    const before = this.bytes;
    for await (const c of source) await this.write(c as Buffer | string);
    return this.bytes - before;
  }

  /** fdatasync and close: the content is on disk, still under the temp name. */
  async flush(): Promise<void> {
    if (this.state !== 'open') return;
    const fh = this.handle;
    // fdatasync writes the data and what is needed to read it back (the size); the rest of the
    // inode (times) does not matter here, and the name is made durable by the directory fsync.
    await fh.datasync();
    this.fh = null;
    this.state = 'flushed';
    await fh.close();
  }

  /** Puts the flushed file in place. The directory is not fsynced here (see `syncDir`). */
  async place(): Promise<void> {
    if (this.state === 'placed') return;
    if (this.state !== 'flushed')
      throw new Error(`${this.tempPath} must be flushed before placing`);
    if (this.how === 'exclusive') {
      await link(this.tempPath, this.path);
      await unlink(this.tempPath).catch(() => undefined);
    } else {
      await rename(this.tempPath, this.path);
    }
    this.state = 'placed';
  }

  /** Drops the temp file (nothing happens to the target). Safe to call at any point. */
  async abort(): Promise<void> {
    if (this.state === 'placed' || this.state === 'aborted') return;
    this.state = 'aborted';
    const fh = this.fh;
    this.fh = null;
    await fh?.close().catch(() => undefined);
    await unlink(this.tempPath).catch(() => undefined);
  }
}

/** fsync of a directory: makes the renames and links done in it durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Makes `files` durable together: their fsyncs run at the same time, each is put in place, and
 * each distinct directory is fsynced once. A file that fails is aborted and its error is in its
 * result; the others are not held back by it.
 */
export async function commitAll(files: DurableFile[]): Promise<PromiseSettledResult<void>[]> {
  const placed = await Promise.allSettled(
    files.map(async (f) => {
      try {
        await f.flush();
        await f.place();
      } catch (err) {
        await f.abort();
        throw err;
      }
    }),
  );
  const dirs = new Map<string, Promise<void>>();
  files.forEach((f, i) => {
    if (placed[i].status !== 'fulfilled') return;
    const d = dirname(f.path);
    if (!dirs.has(d)) dirs.set(d, syncDir(d));
  });
  const synced = new Map<string, PromiseSettledResult<void>>();
  for (const [d, p] of dirs) synced.set(d, (await Promise.allSettled([p]))[0]);
  return placed.map((r, i) =>
    r.status === 'fulfilled'
      ? (synced.get(dirname(files[i].path)) as PromiseSettledResult<void>)
      : r,
  );
}

/** One file made durable on its own. */
export async function commitOne(file: DurableFile): Promise<void> {
  const [r] = await commitAll([file]);
  if (r.status === 'rejected') throw r.reason;
}

/** The whole mechanism in one call: `data` (or what it yields) becomes `path`, durably. */
export async function writeFileDurably(
  path: string,
  data: Buffer | string | AsyncIterable<unknown>,
  options: DurableFileOptions = {},
): Promise<number> {
  const f = await DurableFile.open(path, options);
  try {
    if (typeof data === 'string' || Buffer.isBuffer(data)) await f.write(data);
    else await f.writeFrom(data);
  } catch (err) {
    await f.abort();
    throw err;
  }
  await commitOne(f);
  return f.bytes;
}

/**
 * Group commit. `commit` resolves once its file is durable (or rejects with its own error).
 * While one batch commits, files handed in wait together for the next batch, so under load many
 * files share one pass and, when idle, a file is committed at once. `afterBatch` runs once per
 * batch with the files that made it and what their callers attached (e.g. one journal append for
 * all), before any promise of the batch resolves; if it fails, every file of the batch gets its
 * error.
 */
export class CommitGroup<T = void> {
  private running = false;
  private pending: {
    file: DurableFile;
    meta: T;
    resolve: () => void;
    reject: (e: unknown) => void;
  }[] = [];

  constructor(
    private readonly afterBatch?: (done: { file: DurableFile; meta: T }[]) => Promise<void>,
    private readonly maxBatch = 256,
  ) {}

  commit(file: DurableFile, meta: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ file, meta, resolve, reject });
      if (!this.running) {
        this.running = true;
        void this.drain();
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      const results = await commitAll(batch.map((b) => b.file));
      const done = batch.filter((_, i) => results[i].status === 'fulfilled');
      let failure: { err: unknown } | null = null;
      if (this.afterBatch && done.length > 0) {
        try {
          await this.afterBatch(done.map(({ file, meta }) => ({ file, meta })));
        } catch (err) {
          failure = { err };
        }
      }
      batch.forEach((b, i) => {
        const r = results[i];
        if (r.status === 'rejected') b.reject(r.reason);
        else if (failure) b.reject(failure.err);
        else b.resolve();
      });
    }
    this.running = false;
  }
}
