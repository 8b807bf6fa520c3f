/**
 * The balancing policy, pure: from the lease rows and the live members a tick read, what this
 * member releases, stops working (drains) and tries to take. Members see each other through the
 * member table and each aims at `units / members` of every kind it works (the remainder spread one
 * each), so the work spreads without anyone giving orders. No database: the manager runs the plan.
 */

/** A unit's lease as one tick read it. */
export interface LeaseRow {
  unit: string;
  /** The holding session, '' when free. */
  holder: string;
  /** The fencing token of the last take. */
  token: string;
  /** Whether the lease is still running (database clock). */
  live: boolean;
  /** Milliseconds since it expired (≤ 0 while live). */
  overdueMs: number;
}

/** A live member session as one tick read it. */
export interface MemberRow {
  session: string;
  member: string;
  /** The kinds of unit it works (`pull`, `events`, ...). */
  kinds: readonly string[];
}

/** This member's side of the plan. */
export interface PlanView {
  session: string;
  leaseMs: number;
  /** The units this member's consumers offer now. */
  wanted: ReadonlySet<string>;
  /** Units this member holds by the rows (live, holder = session). */
  held: ReadonlySet<string>;
  /** Units marked as surplus at the previous tick (not worked any more). */
  draining: ReadonlySet<string>;
}

export interface Plan {
  /** Held units to hand back now (not wanted any more, or surplus drained for a tick). */
  release: string[];
  /** The surplus not worked from now on, handed back at the next tick. */
  draining: Set<string>;
  /** Free or expired units to take, the longest waiting first. */
  take: string[];
}

/** The kind of a unit (`pull:10.0.0.1:41121` → `pull`). */
export const kindOf = (unit: string): string => unit.slice(0, Math.max(0, unit.indexOf(':')));

/** The member name inside a session id (`member/pid-random`). */
export function memberOf(session: string): string {
  const at = session.lastIndexOf('/');
  return at > 0 ? session.slice(0, at) : session;
}

/**
 * The number of a kind's units a member aims at: `units / members`, the remainder going one
 * each to the members next in session order (rotated by kind, so that the same members do not
 * take every kind's remainder). All members see the same sessions, so the targets add up to
 * the units.
 */
export function target(
  units: number,
  sessions: readonly string[],
  me: string,
  kindIndex: number,
): number {
  const n = Math.max(1, sessions.length);
  const rank = (Math.max(0, sessions.indexOf(me)) + kindIndex) % n;
  return Math.floor(units / n) + (rank < units % n ? 1 : 0);
}

/**
 * What this member does this tick. Surplus is drained for one tick before it is released, so
 * that work in progress ends before another member starts. A unit left alone for half a lease
 * is taken even beyond the target, so that no unit waits on members that disagree about who is
 * alive. Linear in rows and members (sorting aside).
 */
export function plan(
  rows: readonly LeaseRow[],
  members: readonly MemberRow[],
  view: PlanView,
): Plan {
  const { session, wanted, held, draining } = view;
  const release: string[] = [];
  const next = new Set<string>();
  const take: string[] = [];
  for (const u of held) if (!wanted.has(u)) release.push(u);

  const byKind = new Map<string, LeaseRow[]>();
  for (const r of rows) {
    if (!wanted.has(r.unit)) continue;
    const k = kindOf(r.unit);
    const list = byKind.get(k);
    if (list) list.push(r);
    else byKind.set(k, [r]);
  }
  const kinds = [...byKind.keys()].sort();
  const sessionsOf = new Map<string, string[]>();
  for (const m of members) {
    for (const k of m.kinds) {
      const list = sessionsOf.get(k);
      if (list) list.push(m.session);
      else sessionsOf.set(k, [m.session]);
    }
  }
  const orphanMs = view.leaseMs / 2;
  for (const [kindIndex, kind] of kinds.entries()) {
    const list = byKind.get(kind) ?? [];
    // The members that work this kind share it.
    const sessions = [...(sessionsOf.get(kind) ?? [])].sort();
    if (!sessions.includes(session)) sessions.push(session);
    const aim = target(list.length, sessions, session, kindIndex);
    const mine = list
      .filter((r) => held.has(r.unit))
      .map((r) => r.unit)
      .sort();
    if (mine.length > aim) {
      const surplus = mine.slice(aim);
      for (const u of surplus) {
        // Drained for a tick already: handed back now; else drained from now on.
        if (draining.has(u)) release.push(u);
        else next.add(u);
      }
    }
    let have = Math.min(mine.length, aim);
    const open = list
      .filter((r) => r.holder !== session && (r.holder === '' || !r.live))
      .sort((a, b) => b.overdueMs - a.overdueMs);
    for (const r of open) {
      const orphan = r.overdueMs > orphanMs;
      if (have >= aim && !orphan) continue;
      take.push(r.unit);
      have++;
    }
  }
  return { release, draining: next, take };
}
