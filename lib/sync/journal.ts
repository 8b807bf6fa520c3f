/**
 * The delivery journal: the last deliveries (buffer address, name, size, sha1), kept on disk so
 * that after a crash between "stored here" and "removed from the buffer" the file found again on
 * the buffer is removed without being delivered a second time. JSON lines, bounded: when the
 * file holds twice the limit it is rewritten (temp, fsync, rename) with the newest entries.
 */
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileDurably } from '../util/durable-file';

export interface JournalEntry {
  address: string;
  name: string;
  size: number;
  sha1: string;
  /** Milliseconds since the epoch. */
  at: number;
}

/**
 * The most deliveries the journal widens itself to for large rounds (see `reserve`), about 200
 * bytes each in memory; beyond it, only a `limit` set by hand.
 */
export const JOURNAL_MOST = 200_000;

export interface JournalOptions {
  /** Entries kept; older ones are forgotten. */
  limit?: number;
  /** fdatasync after each append (survives a power cut, not only a process crash). */
  sync?: boolean;
}

const keyOf = (e: Pick<JournalEntry, 'address' | 'name' | 'size' | 'sha1'>) =>
  `${e.address}\0${e.name}\0${e.size}\0${e.sha1}`;

export class DeliveryJournal {
  private limit: number;
  private readonly sync: boolean;
  private entries: JournalEntry[] = [];
  private keys = new Map<string, number>();
  private fh: FileHandle | null = null;
  private lines = 0;
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    options: JournalOptions,
  ) {
    this.limit = Math.max(1, options.limit ?? 10_000);
    this.sync = options.sync ?? true;
  }

  /** The journal file for an incoming directory: `<parent>/.pandora-sync/<dir name>.journal`. */
  static pathFor(incomingDir: string): string {
    const base = incomingDir.replace(/\/+$/, '').split('/').pop() || 'incoming';
    return join(dirname(incomingDir.replace(/\/+$/, '')), '.pandora-sync', `${base}.journal`);
  }

  /** Opens (creating if needed) and loads a journal; unreadable lines are skipped. */
  static async open(path: string, options: JournalOptions = {}): Promise<DeliveryJournal> {
    const j = new DeliveryJournal(path, options);
    await mkdir(dirname(path), { recursive: true });
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const lines = text.split('\n').filter((line) => line.trim() !== '');
    // What an earlier run kept (a window it widened for large rounds) is kept again: a file it
    // stored just before it died is listed again in the first round, and must be known then.
    j.reserve(Math.min(lines.length, JOURNAL_MOST));
    for (const line of lines) {
      j.lines++;
      try {
        const e = JSON.parse(line) as JournalEntry;
        if (typeof e.address === 'string' && typeof e.name === 'string') j.remember(e);
      } catch {
        // A line torn by a crash mid-append: the delivery it described had not been confirmed.
      }
    }
    j.fh = await open(path, 'a');
    return j;
  }

  private remember(e: JournalEntry): void {
    this.entries.push(e);
    this.keys.set(keyOf(e), (this.keys.get(keyOf(e)) ?? 0) + 1);
    while (this.entries.length > this.limit) {
      const old = this.entries.shift() as JournalEntry;
      const k = keyOf(old);
      const n = (this.keys.get(k) ?? 1) - 1;
      if (n <= 0) this.keys.delete(k);
      else this.keys.set(k, n);
    }
  }

  /**
   * Keeps at least `entries` deliveries from now on (never fewer than before). A file stored
   * and moved whose buffer kept it (the connection dropped before the buffer unlinked it) is
   * listed again a round later: the journal must still know it then, so it has to hold about
   * two rounds of deliveries.
   */
  reserve(entries: number): void {
    this.limit = Math.max(this.limit, Math.floor(entries));
  }

  /** Whether this exact file (same buffer, name, size and content) was delivered already. */
  has(e: Pick<JournalEntry, 'address' | 'name' | 'size' | 'sha1'>): boolean {
    return this.keys.has(keyOf(e));
  }

  get size(): number {
    return this.entries.length;
  }

  /** Records a delivery durably (before the file is removed from the buffer). */
  record(e: Omit<JournalEntry, 'at'>): Promise<void> {
    return this.recordMany([e]);
  }

  /** Records several deliveries with one append and one fdatasync. */
  recordMany(list: Omit<JournalEntry, 'at'>[]): Promise<void> {
    const at = Date.now();
    const entries: JournalEntry[] = list.map((e) => ({ ...e, at }));
    for (const entry of entries) this.remember(entry);
    // Appends are serialised: several connections record at the same time.
    const run = this.queue.then(() => this.append(entries));
    this.queue = run.catch(() => {});
    return run;
  }

  private async append(entries: JournalEntry[]): Promise<void> {
    if (!this.fh) throw new Error(`delivery journal ${this.path} is closed`);
    if (entries.length === 0) return;
    await this.fh.write(entries.map((e) => JSON.stringify(e) + '\n').join(''));
    if (this.sync) await this.fh.datasync();
    this.lines += entries.length;
    if (this.lines >= this.limit * 2) await this.compact();
  }

  private async compact(): Promise<void> {
    await writeFileDurably(this.path, this.entries.map((e) => JSON.stringify(e) + '\n').join(''), {
      tempPath: `${this.path}~compact`,
    });
    await this.fh?.close();
    this.fh = await open(this.path, 'a');
    this.lines = this.entries.length;
  }

  async close(): Promise<void> {
    await this.queue;
    const fh = this.fh;
    this.fh = null;
    await fh?.close();
  }
}
