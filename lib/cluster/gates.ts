/**
 * The gate registry: one gate per consumer (one node's engine) of a lease manager. Each gate
 * offers its units (the manager competes for their union), sees only its own units held, and
 * hears only of takeovers of its own units.
 */
import type { Fence } from '../db/transaction';
import type { UnitGate } from './gate';

/** A unit taken from a member that had not let it go (it died, hung or lost the database). */
export interface Takeover {
  unit: string;
  /** The member that held it. */
  from: string;
  /** Milliseconds from that member's last renewal to this take (database clock). */
  sinceRenewalMs: number;
  token: string;
}

export interface GateHandlers {
  /** Units of this gate taken over from another member (report once on the output). */
  onTakeover?: (t: Takeover) => void;
  /** Something a status line shows changed. */
  onChange?: () => void;
}

/** A gate of one consumer (one node's engine), closed with the node. */
export interface ManagedGate extends UnitGate {
  /** This gate's units held here, sorted. */
  held(): string[];
  /** This gate's units (as last offered). */
  units(): string[];
  close(): void;
}

/** What the registry needs of the manager. */
export interface GateHost {
  holds(unit: string): boolean;
  fence(unit: string): Fence;
  /** The units wanted changed: a round soon. */
  offersChanged(): void;
}

interface Entry {
  units: Set<string>;
  handlers: GateHandlers;
}

export class GateRegistry {
  private readonly gates = new Map<number, Entry>();
  private nextId = 1;

  constructor(private readonly host: GateHost) {}

  /** The union of every gate's units. */
  wanted(): Set<string> {
    const all = new Set<string>();
    for (const g of this.gates.values()) for (const u of g.units) all.add(u);
    return all;
  }

  /** Tells the gate whose unit was taken over. */
  takeover(t: Takeover): void {
    for (const g of this.gates.values()) if (g.units.has(t.unit)) g.handlers.onTakeover?.(t);
  }

  /** Tells every gate something a status line shows changed. */
  changed(): void {
    for (const g of [...this.gates.values()]) g.handlers.onChange?.();
  }

  open(handlers: GateHandlers = {}): ManagedGate {
    const id = this.nextId++;
    const entry: Entry = { units: new Set(), handlers };
    this.gates.set(id, entry);
    const host = this.host;
    const mine = (unit: string): boolean => entry.units.has(unit);
    return {
      offer: (list) => {
        const before = entry.units;
        entry.units = new Set(list);
        if (!this.gates.has(id)) return;
        if ([...entry.units].some((u) => !before.has(u))) host.offersChanged();
      },
      holds: (unit) => mine(unit) && host.holds(unit),
      fence: (unit) => host.fence(unit),
      held: () => [...entry.units].filter((u) => host.holds(u)).sort(),
      units: () => [...entry.units],
      close: () => {
        if (!this.gates.delete(id)) return;
        entry.units = new Set();
        host.offersChanged();
      },
    };
  }
}
