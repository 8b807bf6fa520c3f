/**
 * What an engine sees of the cluster: which of its units it may work now, and the fence its
 * writes pass inside their own transaction. Engines take it as an optional option; without it
 * they work every unit, as on a single host.
 */
import type { Fence } from '../db/transaction';

export { CommitUncertain, LeaseLost } from './errors';

/** A connection inside an open transaction (a mysql2 promise connection or pool connection). */
export interface FenceConnection {
  query(sql: string, values?: unknown[]): Promise<unknown>;
}

export interface UnitGate {
  /** The units this engine has now (replaces what it offered before). */
  offer(units: readonly string[]): void;
  /** Whether this member holds `unit` now (an engine starts work on a unit only then). */
  holds(unit: string): boolean;
  /**
   * The fence of `unit`, for `inTransaction(pool, work, { fence })`: run inside the engine's
   * transaction as late as possible before COMMIT, it throws LeaseLost unless this member still
   * holds `unit` with the token it took it with. It writes the lease row, so a takeover and this
   * transaction cannot both commit (on Galera too, where a row read FOR UPDATE is not certified
   * but a written one is).
   */
  fence(unit: string): Fence;
}

/**
 * Files stored from a buffer and not yet removed from it, shared by the members. The fenced
 * record of a file as `stored` is the point of no return of its delivery: it is written while
 * the file is durable under its temp name and before it is renamed into place, so a member that
 * takes the buffer over knows without waiting which files are done (only removed from the
 * buffer) and which are not (delivered again: their old holder can no longer commit).
 */
export interface SharedDeliveries {
  /** Whether a member recorded this very file from this buffer as `stored`. */
  state(address: string, entry: DeliveredFile): Promise<'stored' | null>;
  /**
   * In one transaction fenced by the buffer's lease: records the file as `stored` by this
   * member. False when another record says it is stored already (nothing written). Throws
   * LeaseLost when the lease is gone, CommitUncertain when the database may or may not have
   * committed (the connection ended during COMMIT), any other error when nothing was written.
   */
  record(address: string, entry: DeliveredFile): Promise<boolean>;
  /**
   * After the rename into place (and the directory fsync): the record may now be pruned once
   * the buffer no longer lists the file. Until then it is kept for this member's restart.
   */
  placed(address: string, entry: DeliveredFile): Promise<void>;
  /**
   * At a restart, once the temp files are settled: every `stored` record of an earlier run of
   * this member has its file in place now; they are marked so.
   */
  placedEarlier(): Promise<number>;
  /** Undoes this member's record when the file could not be put in place after all. */
  forget(address: string, entry: DeliveredFile): Promise<void>;
  /**
   * The buffer's listing now: placed records of files it no longer lists have done their work
   * (a file's record must outlive the MV, since a buffer may remove the file only later).
   */
  prune(address: string, listed: readonly string[]): Promise<void>;
  /**
   * The buffer address of a `stored` record of this very file made by this member (any run of
   * it), or null: what a temp file it left is settled by at its restart.
   */
  storedHere(entry: DeliveredFile): Promise<string | null>;
}

/**
 * `stored`: committed, maybe not yet renamed into place (its member's restart does it);
 * `placed`: in place. `storing` is only found in records left by earlier versions: not done.
 */
export type DeliveryState = 'storing' | 'stored' | 'placed';

export interface DeliveredFile {
  name: string;
  size: number;
  sha1: string;
}

/** The unit names, in one place. */
export const units = {
  pull: (address: string): string => `pull:${address}`,
  events: (instanceId: number): string => `events:${instanceId}`,
  replicate: (instanceId: number): string => `replicate:${instanceId}`,
  agents: (instanceId: number): string => `agents:${instanceId}`,
};
