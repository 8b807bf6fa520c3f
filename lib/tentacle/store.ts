/**
 * What a Tentacle buffer holds: the storage directory and its filter directories, the count of
 * files and bytes held (for the quota), the uploads in flight and their reservations, the files
 * handed out by an MV and not yet confirmed (claims), and the durable writes of uploads.
 *
 * Uploads are written to a temp name holding `~` (banned, so invisible to LS/RECV/MV) and made
 * durable by lib/util/durable-file; files finished close together share one commit pass.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { access, chmod, mkdir, open, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CommitGroup, DurableFile } from '../util/durable-file';
import { countHeld } from './count';
import { filterDir, type TentacleFilter } from './filters';
import { listNames } from './listing';
import { isStorableName, isValidName, Reply } from './protocol';

export interface TentacleEvent {
  topic: 'received' | 'pulled' | 'rejected';
  filename: string;
  size: number;
  peer: string;
  reason?: string;
  path?: string;
}

export interface TentacleStats {
  files: number;
  bytes: number;
}

export type Upload = 'SEND' | 'ZSEND';

export interface StoreOptions {
  storage: string;
  filters: TentacleFilter[];
  overwrite: boolean;
  maxSize: number;
  /** 0 = no bound. */
  quotaBytes: number;
  quotaFiles: number;
}

/** What the store tells its owner (the server turns these into its events). */
export interface StoreNotify {
  received(ev: TentacleEvent): void;
  pulled(ev: TentacleEvent): void;
  rejected(ev: TentacleEvent): void;
  stats(s: TentacleStats): void;
}

/** A refused upload: the reply line for the peer and the reason for the `rejected` event. */
export class Refusal extends Error {
  constructor(
    readonly reply: string,
    readonly reason: string,
  ) {
    super(reply);
  }
}

/** An upload admitted: its target (reserved until released) and the size of the file it replaces. */
export interface Admission {
  target: string;
  /** Whether a file was there when admitted, and its size. */
  existed: boolean;
  existing: number;
}

/** An MV whose bytes were handed out; the file goes once the client speaks again. */
export interface HandedOut {
  path: string;
  name: string;
  size: number;
  dev: number;
  ino: number;
}

/** Modes of what the buffer creates, exact (not narrowed by the umask). */
export const STORAGE_DIR_MODE = 0o750;
export const STORED_FILE_MODE = 0o640;

function tempName(dir: string, name: string): string {
  // Keep well under NAME_MAX even for multi-byte names.
  return join(dir, `${name.slice(0, 40)}~tentacle-${randomBytes(6).toString('hex')}`);
}

export class TentacleStore {
  /** Paths handed out by an MV not yet confirmed. */
  private readonly claims = new Set<string>();
  /** Target paths with an upload in flight, and the bytes reserved for it. */
  private readonly uploads = new Map<string, number>();
  private held: TentacleStats = { files: 0, bytes: 0 };
  private generation = 0;
  /** The server is closing: a count in progress ends without a result. */
  private stopped = false;
  /** The first count, once started. */
  private counted: Promise<void> | null = null;
  private readonly commits = new CommitGroup();

  constructor(
    private readonly opts: StoreOptions,
    private readonly notify: StoreNotify,
  ) {}

  /** The storage root and each filter directory. */
  dirs(): string[] {
    const root = this.opts.storage;
    return [root, ...new Set(this.opts.filters.map((f) => join(root, f.dir)))];
  }

  /**
   * Creates the directories (those it creates 0750, whatever the umask: agent data is not for
   * every local user) and checks they are writable. A directory that exists keeps its mode: the
   * administrator chose it. What they hold is counted by firstCount(), which may run while the
   * server already takes files (a week's backlog takes a while to count).
   */
  async prepare(): Promise<void> {
    const dirs = this.dirs();
    for (const d of dirs) {
      const first = await mkdir(d, { recursive: true, mode: STORAGE_DIR_MODE });
      if (first === undefined) continue;
      // mkdir's mode is narrowed by the umask; set it exactly on each directory made here.
      for (let p = d; p.length >= first.length; p = dirname(p)) {
        await chmod(p, STORAGE_DIR_MODE);
        if (p === first) break;
      }
    }
    for (const d of dirs) await access(d, fsc.W_OK | fsc.X_OK);
  }

  /** Ends a count in progress (the server is closing). */
  stop(): void {
    this.stopped = true;
  }

  /**
   * The count at start: removes the temp files of uploads cut by an earlier stop (those older
   * than `startedAt`; newer ones belong to uploads in flight now) and sets what is held. Files
   * moved while it runs may be missed or counted twice until a later recount; an upload under a
   * quota waits for it.
   */
  firstCount(startedAt: number): Promise<void> {
    this.counted ??= this.rescan(startedAt, true);
    return this.counted;
  }

  pathFor(name: string): string {
    return join(this.opts.storage, filterDir(this.opts.filters, name), name);
  }

  /**
   * What an LS of `arg` answers besides `.` and `..`: the valid names of the directory the
   * filters choose for it, at most `limit`, the first the directory gives (./listing). Rejects
   * when that directory cannot be read.
   */
  list(arg: string, limit: number): Promise<string[]> {
    const dir = join(this.opts.storage, filterDir(this.opts.filters, arg));
    return listNames(dir, limit, isValidName);
  }

  stats(): TentacleStats {
    return { ...this.held };
  }

  reject(filename: string, size: number, peer: string, reason: string): void {
    this.notify.rejected({ topic: 'rejected', filename, size, peer, reason });
  }

  private changed(files: number, bytes: number): void {
    this.generation++;
    this.held = {
      files: Math.max(0, this.held.files + files),
      bytes: Math.max(0, this.held.bytes + bytes),
    };
    this.notify.stats(this.stats());
  }

  /**
   * Recounts the storage (others may add or remove files behind our back). The directories are
   * read through a handle, a few entries at a time: a million held files cost time, not memory.
   * A recount during which the server itself stored or removed a file is dropped (the server's
   * own count is exact), unless `authoritative`. With `tempsBefore`, temp files last written
   * before that time are removed.
   */
  async rescan(tempsBefore: number | null = null, authoritative = false): Promise<void> {
    const gen = this.generation;
    const counted = await countHeld(this.dirs(), tempsBefore, () => this.stopped);
    if (!counted) return;
    const { files, bytes } = counted;
    if (gen !== this.generation && !authoritative) return;
    if (files !== this.held.files || bytes !== this.held.bytes) {
      this.held = { files, bytes };
      this.notify.stats(this.stats());
    }
  }

  /** Checks an upload in the reference's order, then the quota; reserves the target. */
  async admit(cmd: Upload, name: string, size: number): Promise<Admission> {
    if (!isStorableName(name)) throw new Refusal(Reply.invalidName(cmd), 'invalid file name');
    if (size < 1 || size > this.opts.maxSize) {
      throw new Refusal(Reply.tooBig(cmd), 'file is too big');
    }
    const target = this.pathFor(name);
    let existing = 0;
    let exists = false;
    try {
      const st = await stat(target);
      if (st.isFile()) {
        exists = true;
        existing = st.size;
      }
    } catch {
      // not there
    }
    if (!this.opts.overwrite && (exists || this.uploads.has(target))) {
      throw new Refusal(Reply.exists(cmd), 'file already exists');
    }
    const { quotaBytes, quotaFiles } = this.opts;
    if (quotaBytes > 0 || quotaFiles > 0) {
      await this.counted;
      let resFiles = 0;
      let resBytes = 0;
      for (const v of this.uploads.values()) {
        resFiles++;
        resBytes += v;
      }
      const files = this.held.files + resFiles + (exists ? 0 : 1);
      const bytes = this.held.bytes + resBytes + size - existing;
      if (quotaFiles > 0 && files > quotaFiles) {
        const reason = `quota exceeded: the buffer holds ${this.held.files + resFiles} files, limit ${quotaFiles}`;
        throw new Refusal(`${cmd} ERR (${reason})`, reason);
      }
      if (quotaBytes > 0 && bytes > quotaBytes) {
        const reason = `quota exceeded: ${this.held.bytes + resBytes} bytes held, ${size} more would pass the limit of ${quotaBytes}`;
        throw new Refusal(`${cmd} ERR (${reason})`, reason);
      }
    }
    this.uploads.set(target, size);
    return { target, existed: exists, existing };
  }

  /** Ends an upload's reservation (stored or not). */
  release(a: Admission): void {
    this.uploads.delete(a.target);
  }

  /**
   * The bound on what a ZSEND may inflate to, checked as the bytes come out: `maxSize`, and
   * the quota room left beside what is held and what other uploads have reserved. The upload's
   * reservation grows with its inflated size, so two bombs cannot both take the same room.
   */
  inflateGuard(a: Admission, compressed: number): (inflated: number) => Error | null {
    return (inflated) => {
      if (inflated > this.opts.maxSize) {
        return new Refusal(Reply.tooBig('ZSEND'), 'file is too big once decompressed');
      }
      const { quotaBytes } = this.opts;
      if (quotaBytes > 0) {
        let others = 0;
        for (const [path, v] of this.uploads) if (path !== a.target) others += v;
        if (this.held.bytes + others + inflated - a.existing > quotaBytes) {
          const reason = `quota exceeded: ${this.held.bytes + others} bytes held, the decompressed file would pass the limit of ${quotaBytes}`;
          return new Refusal(`ZSEND ERR (${reason})`, reason);
        }
      }
      this.uploads.set(a.target, Math.max(compressed, inflated));
      return null;
    };
  }

  /**
   * Writes an admitted upload with `fill` under a temp name and makes it durable in place;
   * counts it and reports it. A SEND is answered OK only after this resolves.
   */
  async write(
    a: Admission,
    filename: string,
    peer: string,
    fill: (file: DurableFile) => Promise<void>,
  ): Promise<TentacleEvent> {
    const { target } = a;
    const file = await DurableFile.open(target, {
      tempPath: tempName(join(target, '..'), filename),
      mode: STORED_FILE_MODE,
    });
    try {
      await fill(file);
    } catch (err) {
      await file.abort();
      throw err;
    }
    // What the target held when the upload was admitted (the overwrite case): one stat per file
    // is enough, and any change behind our back is corrected by the periodic rescan.
    const existed = a.existed;
    const replaced = a.existing;
    await this.commits.commit(file);
    this.changed(existed ? 0 : 1, file.bytes - replaced);
    const ev: TentacleEvent = {
      topic: 'received',
      filename,
      size: file.bytes,
      peer,
      path: target,
    };
    this.notify.received(ev);
    return ev;
  }

  /** Stores a file as a SEND would, with the same checks; rejects with the SEND ERR line. */
  async put(filename: string, payload: Buffer, peer: string): Promise<TentacleEvent> {
    let a: Admission;
    try {
      a = await this.admit('SEND', filename, payload.length);
    } catch (err) {
      if (err instanceof Refusal) this.reject(filename, payload.length, peer, err.reason);
      throw err;
    }
    try {
      return await this.write(a, filename, peer, (f) => f.write(payload));
    } catch (err) {
      this.reject(filename, payload.length, peer, (err as Error).message);
      throw err;
    } finally {
      this.release(a);
    }
  }

  /** Opens `path` if it is a regular file nobody is taking; null otherwise. */
  async openServable(
    path: string,
  ): Promise<{ fh: FileHandle; size: number; dev: number; ino: number } | null> {
    if (this.claims.has(path)) return null;
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch {
      return null;
    }
    const st = await fh.stat();
    if (!st.isFile() || this.claims.has(path)) {
      await fh.close();
      return null;
    }
    return { fh, size: st.size, dev: st.dev, ino: st.ino };
  }

  claim(path: string): void {
    this.claims.add(path);
  }

  unclaim(path: string): void {
    this.claims.delete(path);
  }

  /** The client of an MV spoke again, so it has the bytes: now the file may go. */
  async taken(mv: HandedOut, peer: string): Promise<void> {
    try {
      // With -o an upload may have replaced it meanwhile; that newer file was not handed out.
      // Without -o nothing can (an upload of its name is refused while it exists).
      const st = this.opts.overwrite ? await stat(mv.path) : mv;
      if (st.dev === mv.dev && st.ino === mv.ino) {
        await unlink(mv.path);
        this.changed(-1, -mv.size);
        this.notify.pulled({
          topic: 'pulled',
          filename: mv.name,
          size: mv.size,
          peer,
          path: mv.path,
        });
      }
    } catch {
      // removed by someone else
    } finally {
      this.claims.delete(mv.path);
    }
  }

  /** A temp file of its own beside `path` (for a ZRECV's archive). */
  tempBeside(path: string, name: string): string {
    return tempName(join(path, '..'), name);
  }
}
