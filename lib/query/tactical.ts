/**
 * The tactical view's figures: one Instance's counts as its SELECT gives them, the four health
 * bars computed from them as the console computes them, and the sum over several Instances.
 */
import { num, type DbRow, type QueryRow } from './read-rows';
import { Status, STATUSES } from './status';

export type Counts = Record<Status, number> & { total: number };

/** The tactical view's four bars, each a percentage with one decimal. */
export interface Health {
  /** Modules normal, of all (100 - not normal / checks). */
  monitorHealth: number;
  /** Modules initialised, of all. */
  moduleSanity: number;
  /** Defined alerts not fired, of all defined. */
  alertLevel: number;
  /** Modules neither critical nor warning, of all. */
  globalHealth: number;
}

export interface Tactical extends Health {
  agents: Counts;
  modules: Counts;
  alertsDefined: number;
  alertsFired: number;
}

/**
 * The percentages as the tactical view computes them from its counts: 100 less the share of
 * the bad ones, rounded to one decimal (format_numeric), and 100 when there is nothing to count.
 * The console's own alert level reads a count it never sets and always shows 100; this is the
 * bar as its legend describes it ("of defined alerts not fired").
 */
function health(modules: Counts, defined: number, fired: number): Health {
  const left = (bad: number, all: number) =>
    all > 0 && bad > 0 ? Math.round((100 - (bad * 100) / all) * 10) / 10 : 100;
  return {
    monitorHealth: left(modules.total - modules.normal, modules.total),
    moduleSanity: left(modules.notinit, modules.total),
    alertLevel: left(fired, defined),
    globalHealth: left(modules.critical + modules.warning, modules.total),
  };
}

/** Counts by status whose total is the sum of the five (the view's "monitor checks"). */
function counts(by: Record<Status, number>): Counts {
  return { total: STATUSES.reduce((n, s) => n + by[s], 0), ...by };
}

function tacticalOf(agents: Counts, modules: Counts, defined: number, fired: number): Tactical {
  return {
    agents,
    modules,
    alertsDefined: defined,
    alertsFired: fired,
    ...health(modules, defined, fired),
  };
}

export function tacticalRow(r: DbRow): Tactical {
  const by = (prefix: string) =>
    Object.fromEntries(STATUSES.map((s) => [s, num(r[`${prefix}_${s}`])])) as Record<
      Status,
      number
    >;
  return tacticalOf(
    counts(by('agents')),
    counts(by('modules')),
    num(r.alerts_defined),
    num(r.alerts_fired),
  );
}

/** Whether a result row is one Instance's tactical view. */
export function isTactical(r: QueryRow): r is QueryRow & Tactical {
  return (
    typeof r.alertsFired === 'number' &&
    typeof r.alertsDefined === 'number' &&
    typeof r.agents === 'object' &&
    typeof r.modules === 'object'
  );
}

/** The sum of several instances' tactical views, its percentages from the summed counts. */
export function sumTactical(parts: Tactical[]): Tactical {
  const zero = (): Counts => ({
    total: 0,
    normal: 0,
    warning: 0,
    critical: 0,
    unknown: 0,
    notinit: 0,
  });
  const agents = zero();
  const modules = zero();
  let defined = 0;
  let fired = 0;
  for (const p of parts) {
    for (const k of ['total', ...STATUSES] as const) {
      agents[k] += p.agents[k];
      modules[k] += p.modules[k];
    }
    defined += p.alertsDefined;
    fired += p.alertsFired;
  }
  return tacticalOf(agents, modules, defined, fired);
}
