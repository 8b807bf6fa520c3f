/**
 * Leases over units of work in the Command Center database, shared by every member (Node-RED
 * host) whose pandora-config has `cluster` on. The database is the only arbiter: a lease is taken
 * and renewed with atomic UPDATEs judged by the database's own clock (lease-table.ts), each take
 * increments the unit's fencing token, and a member's writes are fenced by that token inside
 * their own transaction. The balancing policy is planner.ts; the consumers' gates, gates.ts.
 *
 * Timing: a member renews every `leaseMs / 3`. A member that stops renewing loses its units
 * `leaseMs` after its last renewal (its own view ends a little earlier: it stops starting work
 * before the database could give the unit to someone else), and the others, ticking every
 * `leaseMs / 3`, take them within `leaseMs + leaseMs / 3` of that last renewal.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Fence } from '../db/transaction';
import { reasonOf } from '../util/errors';
import { RoundScheduler } from '../util/round-scheduler';
import { ClusterError, LeaseLost } from './errors';
import { GateRegistry, type GateHandlers, type ManagedGate, type Takeover } from './gates';
import { LeaseTable } from './lease-table';
import { resolveOptions, type LeaseManagerOptions } from './options';
import { kindOf, memberOf, plan } from './planner';
import { notWritten } from './retry';

export interface ClusterState {
  member: string;
  /** Units held here, sorted. */
  held: string[];
  /** Names of the live members (this one included), sorted. */
  members: string[];
  /** Why the database cannot be reached now (ERR_CLUSTER_DB); null when it can. */
  problem: ClusterError | null;
}

export interface LeaseManagerEvents {
  takeover: [Takeover];
  acquired: [string];
  /** A unit this member held and no longer does (released, expired or taken). */
  lost: [string];
  /** The units held or the members seen changed, or the database failed or came back. */
  change: [];
}

/** One round in twenty also deletes sessions gone for long. */
const PRUNE_EVERY = 20;

export class LeaseManager extends EventEmitter<LeaseManagerEvents> {
  readonly member: string;
  readonly session: string;
  readonly leaseMs: number;
  readonly tickMs: number;
  private readonly table: LeaseTable;
  private readonly gates: GateRegistry;
  private readonly rounds: RoundScheduler<string, void>;
  /** Unit → the fencing token it was taken with, as the database said at the last round. */
  private readonly held = new Map<string, string>();
  /** Surplus units marked last round: not worked any more, released at the next round. */
  private draining = new Set<string>();
  private members: string[] = [];
  private problem: ClusterError | null = null;
  /** performance.now() after which this member's own view of its leases has ended. */
  private validUntil = 0;
  private timer: NodeJS.Timeout | null = null;
  private closedWith: ClusterError | null = null;
  private roundCount = 0;
  /** Something a status shows changed during the running round. */
  private changed = false;

  constructor(options: LeaseManagerOptions) {
    super();
    const o = resolveOptions(options);
    this.member = o.member;
    this.session = `${o.member}/${process.pid}-${randomBytes(4).toString('hex')}`;
    this.leaseMs = o.leaseMs;
    this.tickMs = o.tickMs;
    this.table = new LeaseTable(o.db, this.session, o.leaseMs);
    this.gates = new GateRegistry({
      holds: (unit) => this.holds(unit),
      fence: (unit) => this.fence(unit),
      offersChanged: () => {
        if (this.timer) void this.requestRound('offer').catch(() => undefined);
      },
    });
    this.rounds = new RoundScheduler({ run: () => this.round() });
  }

  /** Starts the rounds: one now and one every `tickMs`. */
  start(): void {
    this.assertOpen();
    if (this.timer) return;
    this.timer = setInterval(
      () => void this.requestRound('timer').catch(() => undefined),
      this.tickMs,
    );
    this.timer.unref?.();
    void this.requestRound('start').catch(() => undefined);
  }

  /**
   * One renewal and rebalancing now, or right after the one running (rounds never overlap).
   * A database failure does not reject: it is the state's `problem`.
   */
  async requestRound(_reason: string): Promise<void> {
    this.assertOpen();
    await this.rounds.request('round');
  }

  /**
   * Hands every unit back at once and leaves the member list (a clean leave); every later call
   * fails with ERR_CLUSTER_CLOSED carrying `reason`.
   */
  async close(reason = 'closed'): Promise<void> {
    if (this.closedWith) return;
    this.closedWith = new ClusterError('ERR_CLUSTER_CLOSED', { reason });
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.rounds.idle();
    this.held.clear();
    this.draining.clear();
    try {
      await this.table.leave();
    } catch {
      // The database is gone: the leases expire by themselves.
    }
  }

  state(): ClusterState {
    return {
      member: this.member,
      held: [...this.held.keys()].filter((u) => this.holds(u)).sort(),
      members: this.members,
      problem: this.problem,
    };
  }

  /** Whether this member holds `unit` now and may start work on it. */
  holds(unit: string): boolean {
    return (
      !this.closedWith &&
      this.held.has(unit) &&
      !this.draining.has(unit) &&
      performance.now() < this.validUntil
    );
  }

  /** The fencing token this member took `unit` with (undefined when not held). */
  token(unit: string): string | undefined {
    return this.held.get(unit);
  }

  /** See UnitGate.fence: throws LeaseLost unless `unit` is still this member's. */
  fence(unit: string): Fence {
    return async (conn) => {
      const token = this.held.get(unit);
      if (token === undefined || this.closedWith) throw new LeaseLost(unit);
      if (!(await this.table.fence(conn, unit, token))) throw new LeaseLost(unit);
    };
  }

  /** A gate for one consumer; its offers add to the units this member competes for. */
  gate(handlers: GateHandlers = {}): ManagedGate {
    return this.gates.open(handlers);
  }

  private assertOpen(): void {
    if (this.closedWith) throw this.closedWith;
  }

  private emitChange(): void {
    if (this.closedWith) return;
    this.gates.changed();
    this.emit('change');
  }

  private async round(): Promise<void> {
    if (this.closedWith) return;
    this.changed = false;
    try {
      await this.renewAndBalance();
      if (this.problem !== null) {
        this.problem = null;
        this.changed = true;
      }
    } catch (err) {
      // Lost certification again and again: nothing was written, the next round tries again.
      if (!notWritten(err)) {
        const message = reasonOf(err);
        if (this.problem?.facts.message !== message) {
          this.problem = new ClusterError('ERR_CLUSTER_DB', { message }, { cause: err });
          this.changed = true;
        }
        // A failure of DDL (no rights, database down) is retried by the next round.
        if ((err as { code?: string }).code === 'ER_NO_SUCH_TABLE') this.table.schemaLost();
      }
    }
    if (this.changed) this.emitChange();
  }

  /** One round against the database; sets `changed` when anything a status shows changed. */
  private async renewAndBalance(): Promise<void> {
    const t0 = performance.now();
    await this.table.ensureSchema();
    const wanted = this.gates.wanted();
    const kinds = [...new Set([...wanted].map(kindOf))].sort().join(',');
    await this.table.heartbeat(this.member, kinds);
    await this.table.ensureRows([...wanted]);
    // Renew first: a member that renews late must not lose units it could have kept.
    await this.table.renew();
    const members = await this.table.members();
    const rows = await this.table.leases([...new Set([...wanted, ...this.held.keys()])]);
    if (this.closedWith) return;

    // What the database says this member holds, as of this round.
    const now = new Map<string, string>();
    for (const r of rows) if (r.holder === this.session && r.live) now.set(r.unit, r.token);
    for (const u of [...this.held.keys()]) {
      if (!now.has(u)) {
        this.held.delete(u);
        this.draining.delete(u);
        this.changed = true;
        this.emit('lost', u);
      }
    }
    for (const [u, token] of now) {
      if (!this.held.has(u)) this.changed = true;
      this.held.set(u, token);
    }
    this.validUntil = t0 + this.leaseMs * 0.95;
    const names = [...new Set(members.map((m) => m.member))].sort();
    if (names.join('\n') !== this.members.join('\n')) this.changed = true;
    this.members = names;

    const p = plan(rows, members, {
      session: this.session,
      leaseMs: this.leaseMs,
      wanted,
      held: new Set(this.held.keys()),
      draining: this.draining,
    });
    if (p.release.length > 0) {
      for (const u of p.release) this.held.delete(u);
      await this.table.release(p.release);
      for (const u of p.release) this.emit('lost', u);
      this.changed = true;
    }
    const released = new Set(p.release);
    const next = new Set([...p.draining].filter((u) => !released.has(u)));
    if (next.size !== this.draining.size || [...next].some((u) => !this.draining.has(u))) {
      this.changed = true;
    }
    this.draining = next;
    if (p.take.length > 0 && !this.closedWith) {
      for (const t of await this.table.take(p.take)) {
        this.held.set(t.unit, t.token);
        this.changed = true;
        this.emit('acquired', t.unit);
        if (t.prevHolder !== '' && t.prevHolder !== this.session) {
          const takeover: Takeover = {
            unit: t.unit,
            from: memberOf(t.prevHolder),
            sinceRenewalMs: Math.round(t.lateMs + this.leaseMs),
            token: t.token,
          };
          this.gates.takeover(takeover);
          this.emit('takeover', takeover);
        }
      }
    }
    if (++this.roundCount % PRUNE_EVERY === 0) await this.table.pruneGone();
  }
}
