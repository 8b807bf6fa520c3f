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
  /** Whether another member (or this one) stored this very file from this buffer already. */
  has(address: string, entry: DeliveredFile): Promise<boolean>;
  /** Records a stored file, fenced by the buffer's lease. */
  record(address: string, entry: DeliveredFile): Promise<void>;
  /** The file left the buffer: its record is no longer needed. */
  forget(address: string, entry: DeliveredFile): Promise<void>;
}

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
};
