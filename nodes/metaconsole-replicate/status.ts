/**
 * metaconsole-replicate's words: the engine's coded failures, its reports as the output message
 * carries them, and the status line, through the node's catalogue.
 */
import type { NodeStatus } from 'node-red';
import type {
  InstanceState,
  MergeInstanceReport,
  MergeReport,
  PlannedItem,
  ReplicaRoundReport,
  ReplicateError,
} from '../../lib/replicate';
import { status } from '../shared/status';

/** RED._ as the node gets it: a key of the node's catalogue and its `__name__` values. */
export type Translate = (key: string, values?: Record<string, string | number>) => string;

/** An engine error in the runtime's language (errors.<code> of the node's catalogue). */
export function errorText(err: ReplicateError, t: Translate): string {
  return t(`metaconsole-replicate.errors.${err.code}`, err.facts);
}

function plannedOut(p: PlannedItem, t: Translate): Record<string, unknown> {
  const out: Record<string, unknown> = { id: p.id, table: p.table };
  if (p.verb !== undefined) out.verb = p.verb;
  out.action = p.action;
  if (p.error) out.message = errorText(p.error, t);
  else if (p.operation !== undefined) out.message = p.operation;
  if (p.carries !== undefined) out.carries = p.carries;
  return out;
}

/** A round's report as msg.payload. */
export function reportPayload(r: ReplicaRoundReport, t: Translate): Record<string, unknown> {
  const { error, items, ...queue } = r.queue;
  return {
    instance: r.instance,
    applied: r.applied,
    cascaded: r.cascaded,
    kept: r.kept,
    queue: {
      ...queue,
      ...(error ? { error: { id: error.id, message: errorText(error.error, t) } } : {}),
      ...(items ? { items: items.map((p) => plannedOut(p, t)) } : {}),
    },
    conflicts: r.conflicts,
    errors: r.errors.map((e) => errorText(e, t)),
    state: r.state,
  };
}

/** One Instance's part of a merge as msg.payload. */
export function mergePayload(
  report: MergeReport,
  r: MergeInstanceReport,
  t: Translate,
): Record<string, unknown> {
  const { commandCenter: ccTokens, notUnified } = report.settings;
  const settings: Record<string, unknown> = { commandCenter: ccTokens };
  if (notUnified) {
    settings.note = t('metaconsole-replicate.merge.notUnified', {
      nodes: notUnified.map((n) => `${n.id} (${n.name})`).join(', '),
    });
  }
  return {
    instance: r.instance,
    applied: r.applied,
    cascaded: r.cascaded,
    conflicts: [...report.conflicts, ...r.conflicts],
    commandCenter: { ...report.commandCenter, settings },
    settings: r.settings,
    errors: r.errors.map((e) => errorText(e, t)),
    unified: r.unified,
  };
}

/** "3 in sync · 1 behind · 0 degraded · 0 failing", red with any failing, yellow when behind. */
export function countsStatus(s: Record<InstanceState, number>, t: Translate): NodeStatus {
  return status(
    s.failing > 0 ? 'red' : s.degraded + s.behind > 0 ? 'yellow' : 'green',
    t('metaconsole-replicate.status.counts', {
      inSync: s['in sync'],
      behind: s.behind,
      degraded: s.degraded,
      failing: s.failing,
    }),
  );
}
