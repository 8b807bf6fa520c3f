/**
 * What an engine sees of the cluster: which of its units it may work now, and the fence its
 * writes pass inside their own transaction. Engines take it as an optional option; without it
 * they work every unit, as on a single host.
 */

/** A connection inside an open transaction (a mysql2 promise connection or pool connection). */
export interface FenceConnection {
  query(sql: string, values?: unknown[]): Promise<unknown>;
}

/** The unit's lease is no longer this member's: the transaction it was checked in must not commit. */
export class LeaseLost extends Error {
  readonly code = 'ERR_LEASE_LOST';
  constructor(readonly unit: string) {
    super(`the lease of ${unit} is held by another member now; this member stopped working it`);
    this.name = 'LeaseLost';
  }
}

export interface UnitGate {
  /** The units this engine has now (replaces what it offered before). */
  offer(units: readonly string[]): void;
  /** Whether this member holds `unit` now (an engine starts work on a unit only then). */
  holds(unit: string): boolean;
  /**
   * Inside the engine's transaction, as late as possible before COMMIT: throws LeaseLost unless
   * this member still holds `unit` with the token it took it with. Writes the lease row, so a
   * takeover and this transaction cannot both commit (on Galera too, where a row read FOR UPDATE
   * is not certified but a written one is).
   */
  fence(conn: FenceConnection, unit: string): Promise<void>;
}

/**
 * Files stored from a buffer and not yet removed from it, shared by the members (safe mode's
 * RECV-then-MV window): one member's stored file is not delivered again by the member that takes
 * the buffer over.
 */
export interface SharedDeliveries {
  /**
   * What the members know of this very file from this buffer: `stored` (delivered by a member),
   * `storing` (a member that stopped was storing it: in doubt until that member settles it), or
   * null (nobody has it, or a `storing` record too old to wait for).
   */
  state(address: string, entry: DeliveredFile): Promise<DeliveryState | null>;
  /** Before the file is renamed into place: records it as `storing`, fenced by the buffer's lease. */
  storing(address: string, entry: DeliveredFile): Promise<void>;
  /** After the file is durably in place. */
  stored(address: string, entry: DeliveredFile): Promise<void>;
  /** The file was not stored after all: its record goes. */
  forget(address: string, entry: DeliveredFile): Promise<void>;
  /**
   * The buffer's listing now: `stored` records of files it no longer lists have done their work
   * (a file's record must outlive the MV, since a buffer may remove the file only later).
   */
  prune(address: string, listed: readonly string[]): Promise<void>;
  /**
   * This member's `storing` records (left by an earlier run of it, or by this run when the
   * database failed between the two steps) are settled by looking at its own disk: `stored`
   * when `delivered` says the file is there, else removed (not this run's: it may be storing).
   */
  settle(
    addresses: readonly string[],
    delivered: (address: string, entry: DeliveredFile) => Promise<boolean>,
  ): Promise<number>;
}

export type DeliveryState = 'storing' | 'stored';

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
