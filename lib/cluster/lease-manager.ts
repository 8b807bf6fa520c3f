/**
 * Leases over units of work in the Command Center database, shared by every member (Node-RED
 * host) whose pandora-config has `cluster` on. The database is the only arbiter: a lease is taken
 * and renewed with single atomic UPDATEs judged by the database's own clock (NOW(6)), each take
 * increments the unit's fencing token, and a member's writes are fenced by that token inside
 * their own transaction (gate.ts). Members see each other through a heartbeat table and aim at
 * units / live members of each kind (the remainder spread one each), releasing their surplus, so
 * the work spreads.
 *
 * Timing: a member renews every `leaseSeconds / 3`. A member that stops renewing loses its units
 * `leaseSeconds` after its last renewal (its own view ends a little earlier: it stops starting
 * work before the database could give the unit to someone else), and the others, ticking every
 * `leaseSeconds / 3`, take them within `leaseSeconds + leaseSeconds / 3` of that last renewal.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { ResultSetHeader, RowDataPacket } from 'mysql2';
import type { Pool } from '../db/pool';
import { LeaseLost, type FenceConnection, type UnitGate } from './gate';
import { notWritten, retryNotWritten } from './retry';
import { ensureClusterSchema, quoted } from './schema';

export interface LeaseManagerOptions {
  /** The Command Center database (shared pool; not closed by the manager). */
  db: Pool;
  /** This member's name as the others see it. */
  member: string;
  /** A lease not renewed within this time may be taken by another member. Default 30. */
  leaseSeconds?: number;
}

/** A unit taken from a member that had not let it go (it died, hung or lost the database). */
export interface Takeover {
  unit: string;
  /** The member that held it. */
  from: string;
  /** Milliseconds from that member's last renewal to this take (database clock). */
  sinceRenewalMs: number;
  token: string;
}

export interface ClusterState {
  member: string;
  /** Units held here, sorted. */
  held: string[];
  /** Names of the live members (this one included), sorted. */
  members: string[];
  /** Why the database cannot be reached now; null when it can. */
  problem: string | null;
}

export interface LeaseManagerEvents {
  takeover: [Takeover];
  acquired: [string];
  /** A unit this member held and no longer does (released, expired or taken). */
  lost: [string];
  /** The units held or the members seen changed, or the database failed or came back. */
  change: [];
}

interface Held {
  token: string;
}

interface LeaseRow extends RowDataPacket {
  unit: string;
  holder: string;
  token: string;
  live: number;
  overdue_us: string | null;
}

interface MemberRow extends RowDataPacket {
  session: string;
  member: string;
  kinds: string;
}

interface TakenRow extends RowDataPacket {
  token: string;
  prev_holder: string;
  late_us: string | null;
}

/** The member name inside a session id (`member/pid-random`). */
export function memberOf(session: string): string {
  const at = session.lastIndexOf('/');
  return at > 0 ? session.slice(0, at) : session;
}

const kindOf = (unit: string): string => unit.slice(0, Math.max(0, unit.indexOf(':')));

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

export class LeaseManager extends EventEmitter<LeaseManagerEvents> {
  readonly member: string;
  readonly session: string;
  readonly leaseMs: number;
  readonly tickMs: number;
  private readonly db: Pool;
  private readonly held = new Map<string, Held>();
  /** Surplus units marked last tick: not worked any more, released at the next tick. */
  private readonly draining = new Set<string>();
  private readonly offers = new Map<number, Set<string>>();
  private readonly ensured = new Set<string>();
  private members: string[] = [];
  private problem: string | null = null;
  /** performance.now() after which this member's own view of its leases has ended. */
  private validUntil = 0;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private again = false;
  private schemaReady = false;
  private closed = false;
  private nextGate = 1;

  constructor(options: LeaseManagerOptions) {
    super();
    const seconds = options.leaseSeconds ?? 30;
    if (!Number.isFinite(seconds) || seconds < 1) {
      throw new RangeError(`leaseSeconds must be a number of at least 1, got ${String(seconds)}`);
    }
    const member = options.member.trim();
    if (!member || member.length > 150) {
      throw new RangeError('clusterMember must be 1 to 150 characters');
    }
    this.db = options.db;
    this.member = member;
    this.session = `${member}/${process.pid}-${randomBytes(4).toString('hex')}`;
    this.leaseMs = Math.round(seconds * 1000);
    this.tickMs = Math.max(100, Math.floor(this.leaseMs / 3));
  }

  /** Starts ticking (the first tick runs now). */
  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => void this.tick(), this.tickMs);
    this.timer.unref?.();
    void this.tick();
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
      !this.closed &&
      this.held.has(unit) &&
      !this.draining.has(unit) &&
      performance.now() < this.validUntil
    );
  }

  /** The fencing token this member took `unit` with (undefined when not held). */
  token(unit: string): string | undefined {
    return this.held.get(unit)?.token;
  }

  /** See UnitGate.fence. */
  async fence(conn: FenceConnection, unit: string): Promise<void> {
    const h = this.held.get(unit);
    if (!h || this.closed) throw new LeaseLost(unit);
    const [res] = (await conn.query(
      `UPDATE ${quoted.lease} SET fenced = fenced + 1 WHERE unit = ? AND holder = ? AND token = ? AND expires > NOW(6)`,
      [unit, this.session, h.token],
    )) as [ResultSetHeader];
    if (res.affectedRows !== 1) throw new LeaseLost(unit);
  }

  /** A gate for one consumer; its offers add to the units this member competes for. */
  gate(handlers: GateHandlers = {}): ManagedGate {
    const id = this.nextGate++;
    const mine = (unit: string): boolean => this.offers.get(id)?.has(unit) ?? false;
    const onTakeover = (t: Takeover): void => {
      if (mine(t.unit)) handlers.onTakeover?.(t);
    };
    const onChange = (): void => handlers.onChange?.();
    this.on('takeover', onTakeover);
    this.on('change', onChange);
    return {
      offer: (list) => {
        const before = this.offers.get(id);
        const next = new Set(list);
        this.offers.set(id, next);
        if (!before || [...next].some((u) => !before.has(u))) this.kick();
      },
      holds: (unit) => mine(unit) && this.holds(unit),
      fence: (conn, unit) => this.fence(conn, unit),
      held: () => [...(this.offers.get(id) ?? [])].filter((u) => this.holds(u)).sort(),
      units: () => [...(this.offers.get(id) ?? [])],
      close: () => {
        this.offers.delete(id);
        this.off('takeover', onTakeover);
        this.off('change', onChange);
        this.kick();
      },
    };
  }

  /** Runs a tick soon (units were offered or withdrawn). */
  kick(): void {
    if (this.closed || !this.timer) return;
    setImmediate(() => void this.tick());
  }

  /** One renewal and rebalancing; ticks never overlap (a tick asked for meanwhile runs after). */
  tick(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.ticking) {
      this.again = true;
      return this.ticking;
    }
    this.ticking = (async () => {
      do {
        this.again = false;
        await this.tickOnce();
      } while (this.again && !this.closed);
    })().finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  private wanted(): Set<string> {
    const all = new Set<string>();
    for (const s of this.offers.values()) for (const u of s) all.add(u);
    return all;
  }

  private async tickOnce(): Promise<void> {
    const t0 = performance.now();
    let changed = false;
    try {
      if (!this.schemaReady) {
        await ensureClusterSchema(this.db);
        this.schemaReady = true;
      }
      const leaseUs = this.leaseMs * 1000;
      const wanted = this.wanted();
      const kinds = [...new Set([...wanted].map(kindOf))].sort().join(',');
      await this.write(
        `INSERT INTO ${quoted.member} (session, member, kinds, seen, expires) VALUES (?, ?, ?, NOW(6), NOW(6) + INTERVAL ? MICROSECOND) ` +
          'ON DUPLICATE KEY UPDATE kinds = VALUES(kinds), seen = VALUES(seen), expires = VALUES(expires)',
        [this.session, this.member, kinds, leaseUs],
      );
      const fresh = [...wanted].filter((u) => !this.ensured.has(u));
      if (fresh.length > 0) {
        await this.write(
          `INSERT IGNORE INTO ${quoted.lease} (unit, holder, token, expires) VALUES ${fresh.map(() => "(?, '', 0, NOW(6))").join(', ')}`,
          fresh,
        );
        for (const u of fresh) this.ensured.add(u);
      }
      // Renew first: a member that renews late must not lose units it could have kept.
      if (this.held.size > 0) await this.renew([...this.held.keys()], leaseUs);
      const [memberRows] = await this.db.query<MemberRow[]>(
        `SELECT session, member, kinds FROM ${quoted.member} WHERE expires > NOW(6)`,
      );
      const look = [...new Set([...wanted, ...this.held.keys()])];
      const [rows] =
        look.length > 0
          ? await this.db.query<LeaseRow[]>(
              `SELECT unit, holder, token, expires > NOW(6) AS live, TIMESTAMPDIFF(MICROSECOND, expires, NOW(6)) AS overdue_us FROM ${quoted.lease} WHERE unit IN (?)`,
              [look],
            )
          : [[] as LeaseRow[]];
      // What the database says this member holds, as of this tick.
      const now = new Map<string, Held>();
      for (const r of rows) {
        if (r.holder === this.session && Number(r.live) === 1) now.set(r.unit, { token: r.token });
      }
      for (const u of [...this.held.keys()]) {
        if (!now.has(u)) {
          this.held.delete(u);
          this.draining.delete(u);
          changed = true;
          this.emit('lost', u);
        }
      }
      for (const [u, h] of now) {
        if (!this.held.has(u)) changed = true;
        this.held.set(u, h);
      }
      this.validUntil = t0 + this.leaseMs * 0.95;

      const names = [...new Set(memberRows.map((m) => m.member))].sort();
      if (names.join('\n') !== this.members.join('\n')) changed = true;
      this.members = names;
      changed = (await this.rebalance(wanted, rows, memberRows)) || changed;
      if (this.problem !== null) {
        this.problem = null;
        changed = true;
      }
      // Sessions gone for long are only noise: found by a plain read, deleted by primary key.
      if (Math.random() < 0.05) {
        const [gone] = await this.db.query<MemberRow[]>(
          `SELECT session FROM ${quoted.member} WHERE expires < NOW(6) - INTERVAL ? MICROSECOND`,
          [leaseUs * 10],
        );
        for (const g of gone) {
          await this.write(`DELETE FROM ${quoted.member} WHERE session = ?`, [g.session]);
        }
      }
    } catch (err) {
      // Lost certification again and again: nothing was written, the next tick tries again.
      if (notWritten(err)) {
        if (changed && !this.closed) this.emit('change');
        return;
      }
      const text = (err as { sqlMessage?: string }).sqlMessage ?? (err as Error).message;
      if (this.problem !== text) {
        this.problem = text;
        changed = true;
      }
      // A failure of DDL (no rights, database down) is retried by the next tick.
      if ((err as { code?: string }).code === 'ER_NO_SUCH_TABLE') this.schemaReady = false;
    }
    if (changed && !this.closed) this.emit('change');
  }

  /** Releases surplus and not-wanted units, takes free and expired ones up to the target. */
  /**
   * The number of a kind's units this member aims at: `units / members`, the remainder going one
   * each to the members next in session order (rotated by kind, so that the same members do not
   * take every kind's remainder). All members see the same sessions, so the targets add up to
   * the units.
   */
  static target(units: number, sessions: readonly string[], me: string, kindIndex: number): number {
    const n = Math.max(1, sessions.length);
    const rank = (Math.max(0, sessions.indexOf(me)) + kindIndex) % n;
    return Math.floor(units / n) + (rank < units % n ? 1 : 0);
  }

  private async rebalance(
    wanted: Set<string>,
    rows: LeaseRow[],
    members: MemberRow[],
  ): Promise<boolean> {
    let changed = false;
    for (const u of [...this.held.keys()]) {
      if (!wanted.has(u)) changed = (await this.release(u)) || changed;
    }
    const byKind = new Map<string, LeaseRow[]>();
    for (const r of rows) {
      if (!wanted.has(r.unit)) continue;
      const k = kindOf(r.unit);
      const list = byKind.get(k) ?? [];
      list.push(r);
      byKind.set(k, list);
    }
    const kinds = [...byKind.keys()].sort();
    for (const [kind, list] of byKind) {
      // The members that work this kind share it.
      const sessions = members
        .filter((m) => m.kinds.split(',').includes(kind))
        .map((m) => m.session)
        .sort();
      if (!sessions.includes(this.session)) sessions.push(this.session);
      const target = LeaseManager.target(list.length, sessions, this.session, kinds.indexOf(kind));
      const mine = list
        .filter((r) => this.held.has(r.unit))
        .map((r) => r.unit)
        .sort();
      if (mine.length > target) {
        // Surplus: stop working it now, hand it back at the next tick, so that work in
        // progress ends before another member starts.
        const surplus = mine.slice(target);
        for (const u of mine) {
          if (this.draining.has(u) && !surplus.includes(u)) this.draining.delete(u);
        }
        for (const u of [...this.draining]) {
          if (surplus.includes(u)) changed = (await this.release(u)) || changed;
        }
        for (const u of surplus) {
          if (!this.draining.has(u) && this.held.has(u)) {
            this.draining.add(u);
            changed = true;
          }
        }
      } else {
        for (const u of mine) {
          if (this.draining.delete(u)) changed = true;
        }
      }
      let have = Math.min(mine.length, target);
      // Free or expired: the longest waiting first. One left alone for half a lease is taken
      // even beyond the target, so no unit waits on members that disagree about who is alive.
      const open = list
        .filter((r) => r.holder !== this.session && (r.holder === '' || Number(r.live) !== 1))
        .sort((a, b) => Number(b.overdue_us ?? 0) - Number(a.overdue_us ?? 0));
      for (const r of open) {
        const orphan = Number(r.overdue_us ?? 0) > (this.leaseMs * 1000) / 2;
        if (have >= target && !orphan) continue;
        if (await this.take(r.unit)) {
          have++;
          changed = true;
        }
      }
    }
    return changed;
  }

  /**
   * One row at a time by its primary key (a range over `unit IN (...)` with `holder = ?` would
   * lock, and on Galera certify against, the other members' rows between them), all in one
   * transaction so that a tick costs one commit however many units it holds.
   */
  private async renew(held: string[], leaseUs: number): Promise<void> {
    await retryNotWritten(async () => {
      const conn = await this.db.getConnection();
      try {
        await conn.beginTransaction();
        for (const unit of held) {
          await conn.query(
            `UPDATE ${quoted.lease} SET expires = NOW(6) + INTERVAL ? MICROSECOND WHERE unit = ? AND holder = ?`,
            [leaseUs, unit, this.session],
          );
        }
        await conn.commit();
      } catch (err) {
        await conn.rollback().catch(() => undefined);
        throw err;
      } finally {
        conn.release();
      }
    });
  }

  /** A write that loses certification (Galera, 1213) is run again: it wrote nothing. */
  private async write(sql: string, values: unknown[]): Promise<ResultSetHeader> {
    return retryNotWritten(async () => (await this.db.query<ResultSetHeader>(sql, values))[0]);
  }

  private async take(unit: string): Promise<boolean> {
    let res: ResultSetHeader;
    try {
      [res] = await this.db.query<ResultSetHeader>(
        `UPDATE ${quoted.lease} SET prev_holder = holder, prev_expires = expires, holder = ?, token = token + 1, taken = NOW(6), expires = NOW(6) + INTERVAL ? MICROSECOND ` +
          "WHERE unit = ? AND (holder = '' OR expires < NOW(6))",
        [this.session, this.leaseMs * 1000, unit],
      );
    } catch (err) {
      // Another member's take or renewal certified first: not taken, looked at next tick.
      if (notWritten(err)) return false;
      throw err;
    }
    if (res.affectedRows !== 1) return false;
    const [rows] = await this.db.query<TakenRow[]>(
      `SELECT token, prev_holder, TIMESTAMPDIFF(MICROSECOND, prev_expires, taken) AS late_us FROM ${quoted.lease} WHERE unit = ? AND holder = ?`,
      [unit, this.session],
    );
    const r = rows[0];
    if (!r) return false;
    this.held.set(unit, { token: r.token });
    this.emit('acquired', unit);
    if (r.prev_holder !== '' && r.prev_holder !== this.session) {
      this.emit('takeover', {
        unit,
        from: memberOf(r.prev_holder),
        sinceRenewalMs: Math.round(Number(r.late_us ?? 0) / 1000 + this.leaseMs),
        token: r.token,
      });
    }
    return true;
  }

  private async release(unit: string): Promise<boolean> {
    this.draining.delete(unit);
    if (!this.held.delete(unit)) return false;
    await this.write(
      `UPDATE ${quoted.lease} SET holder = '', expires = NOW(6) WHERE unit = ? AND holder = ?`,
      [unit, this.session],
    );
    this.emit('lost', unit);
    return true;
  }

  /** Hands every unit back at once and leaves the member list (a clean leave). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking?.catch(() => undefined);
    const units = [...this.held.keys()];
    this.held.clear();
    this.draining.clear();
    try {
      for (const unit of units) {
        await this.write(
          `UPDATE ${quoted.lease} SET holder = '', expires = NOW(6) WHERE unit = ? AND holder = ?`,
          [unit, this.session],
        );
      }
      await this.write(`DELETE FROM ${quoted.member} WHERE session = ?`, [this.session]);
    } catch {
      // The database is gone: the leases expire by themselves.
    }
  }
}
