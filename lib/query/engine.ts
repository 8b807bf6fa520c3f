/**
 * instance-query's engine: one operation, asked of every selected Instance in parallel (a bounded
 * number at a time), each within its own time limit, answered as rows tagged with their Instance
 * and one report per Instance. An Instance that is down, slow or refuses the login is reported
 * and never holds back the others.
 */
import { explainConnectError, Instance, InstanceRegistry } from '../db/registry';
import type { Pool } from '../db/pool';
import type { RowDataPacket } from 'mysql2/promise';
import { applyChange, AuditFacts } from './changes';
import { Reaper, TimeoutError, withDeadline } from './deadline';
import {
  ChangeKind,
  ChangeTarget,
  isRead,
  Operation,
  parseOperation,
  parseReadFilters,
  parseTargets,
  ReadFilters,
  ReadKind,
} from './operations';
import { InstanceRef, isTactical, planRead, QueryRow, sumTactical } from './reads';

export type { InstanceRef, QueryRow } from './reads';

export interface InstanceQueryOptions {
  /** The Command Center's pool (its node registry tmetaconsole_setup). */
  cc: Pool;
  /** Only these registry ids (the node's `instances`); empty = every enabled row. */
  instances?: number[];
  /** Most time one Instance may take for one message. */
  timeoutMs?: number;
  /** Most rows per Instance for a read. */
  limit?: number;
  /** Instances asked at the same time. */
  concurrency?: number;
  /** Connections kept per Instance. */
  connectionsPerInstance?: number;
  /** tsesion.id_usuario of the audit rows the changes write. */
  auditUser?: string;
}

const DEFAULTS = {
  timeoutMs: 10_000,
  limit: 1000,
  concurrency: 16,
  connectionsPerInstance: 2,
  auditUser: 'node-red',
};

/** One Instance's part of an answer. */
export interface InstanceReport extends InstanceRef {
  ok: boolean;
  ms: number;
  rows: number;
  error: string | null;
}

export interface QueryAnswer {
  operation: Operation;
  rows: QueryRow[];
  instances: InstanceReport[];
}

/** A change's outcome on one target, as it appears in the answer's rows. */
export interface ChangeRow extends QueryRow {
  action: ChangeKind;
  id: number;
  ok: boolean;
  changed: boolean;
  error: string | null;
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping their order in the result. */
async function bounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** The reason an Instance failed, in words an administrator can act on. */
export function explainInstanceError(instance: Instance, err: unknown): string {
  const where = `instance ${instance.id} (${instance.name})`;
  if (err instanceof TimeoutError) {
    return `${where}: no answer within ${(err.ms / 1000).toFixed(1)} s (database slow or a table locked); its query was stopped`;
  }
  const e = err as { code?: string; message?: string; sqlMessage?: string };
  switch (e.code) {
    case 'ER_NO_SUCH_TABLE':
    case 'ER_BAD_FIELD_ERROR':
      return `${where}: its database is not a Pandora FMS Instance of a supported version (${e.sqlMessage ?? e.message})`;
    case 'ER_TABLEACCESS_DENIED_ERROR':
    case 'ER_COLUMNACCESS_DENIED_ERROR':
      return `${where}: its database user may not do this (${e.sqlMessage ?? e.message}): grant it in MySQL`;
    case 'ER_LOCK_WAIT_TIMEOUT':
      return `${where}: a row is locked by another session (${e.sqlMessage ?? e.message})`;
    case 'ER_LOCK_DEADLOCK':
      return `${where}: deadlock with another session; nothing was changed, send the message again`;
    case 'PROTOCOL_CONNECTION_LOST':
    case 'ECONNRESET':
      return `${where}: the connection was lost during the query`;
    default:
      return explainConnectError(instance, err);
  }
}

/** Errors of a connection that was already dead when taken from the pool. */
const STALE = new Set(['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'EPIPE']);

export class InstanceQuery {
  private readonly registry: InstanceRegistry;
  private readonly reaper = new Reaper();
  private readonly opts: typeof DEFAULTS;
  private refreshing: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(options: InstanceQueryOptions) {
    this.opts = {
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      limit: options.limit ?? DEFAULTS.limit,
      concurrency: options.concurrency ?? DEFAULTS.concurrency,
      connectionsPerInstance: options.connectionsPerInstance ?? DEFAULTS.connectionsPerInstance,
      auditUser: options.auditUser ?? DEFAULTS.auditUser,
    };
    this.registry = new InstanceRegistry(options.cc, {
      ids: options.instances ?? [],
      tuning: {
        connectionLimit: this.opts.connectionsPerInstance,
        connectTimeoutMs: this.opts.timeoutMs,
      },
    });
  }

  /**
   * Checks a message before anything is asked: the operation and its filters or targets. Throws
   * a clear error for a message that cannot run.
   */
  static check(
    topic: unknown,
    payload: unknown,
    fallback = 'agents',
  ): { operation: Operation; filters?: ReadFilters; targets?: ChangeTarget[] } {
    const operation = parseOperation(topic, fallback);
    return isRead(operation)
      ? { operation, filters: parseReadFilters(operation, payload) }
      : { operation, targets: parseTargets(operation, payload) };
  }

  /** Runs one message's operation on the Instances and gathers the answer. */
  async run(topic: unknown, payload: unknown, fallback = 'agents'): Promise<QueryAnswer> {
    if (this.closed) throw new Error('instance-query is closed');
    const { operation, filters, targets } = InstanceQuery.check(topic, payload, fallback);
    const { instances, unavailable } = await this.select(
      filters?.instances ?? (targets ? [...new Set(targets.map((t) => t.instance))] : undefined),
    );
    return isRead(operation)
      ? this.read(operation, filters ?? {}, instances, unavailable)
      : this.change(operation as ChangeKind, targets ?? [], instances, unavailable);
  }

  /** The registry as it is now, narrowed to `wanted`; ids that cannot be asked, with the reason. */
  private async select(
    wanted: number[] | undefined,
  ): Promise<{ instances: Instance[]; unavailable: InstanceReport[] }> {
    // One refresh at a time: a refresh may replace the pool of an instance whose row changed.
    const refresh = this.refreshing.then(() => this.registry.refresh());
    this.refreshing = refresh.catch(() => {});
    try {
      await refresh;
    } catch (err) {
      throw new Error(`Command Center database unreachable: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const all = this.registry.instances();
    const problems = this.registry.lastProblems();
    const pick = (id: number) => !wanted || wanted.includes(id);
    const instances = all.filter((i) => pick(i.id));
    const unavailable: InstanceReport[] = problems
      .filter((p) => pick(p.id))
      .map((p) => ({ id: p.id, name: p.name, ok: false, ms: 0, rows: 0, error: p.message }));
    for (const id of wanted ?? []) {
      if (!instances.some((i) => i.id === id) && !unavailable.some((u) => u.id === id)) {
        unavailable.push({
          id,
          name: `node ${id}`,
          ok: false,
          ms: 0,
          rows: 0,
          error: `instance ${id} is not among this node's Instances (enabled rows of tmetaconsole_setup, or the ids in its Instances property)`,
        });
      }
    }
    return { instances, unavailable };
  }

  private async onEach<R>(
    instances: Instance[],
    work: (instance: Instance) => Promise<{ rows: R[]; count: number }>,
    failed: (instance: Instance, error: string) => R[],
  ): Promise<{ rows: R[]; reports: InstanceReport[] }> {
    const results = await bounded(instances, this.opts.concurrency, async (instance) => {
      const started = process.hrtime.bigint();
      const ms = () => Number((process.hrtime.bigint() - started) / 1_000_000n);
      try {
        const { rows, count } = await work(instance);
        const report: InstanceReport = {
          id: instance.id,
          name: instance.name,
          ok: true,
          ms: ms(),
          rows: count,
          error: null,
        };
        return { rows, report };
      } catch (err) {
        const error = explainInstanceError(instance, err);
        const report: InstanceReport = {
          id: instance.id,
          name: instance.name,
          ok: false,
          ms: ms(),
          rows: 0,
          error,
        };
        return { rows: failed(instance, error), report };
      }
    });
    return { rows: results.flatMap((r) => r.rows), reports: results.map((r) => r.report) };
  }

  private async read(
    kind: ReadKind,
    filters: ReadFilters,
    instances: Instance[],
    unavailable: InstanceReport[],
  ): Promise<QueryAnswer> {
    const plan = planRead(kind, filters, this.opts.limit);
    const { rows, reports } = await this.onEach<QueryRow>(
      instances,
      async (instance) => {
        const select = (ms: number) =>
          withDeadline(instance, ms, this.reaper, async (c) => {
            const [r] = await c.query<RowDataPacket[]>(plan.statement.sql, plan.statement.params);
            return r;
          });
        const started = Date.now();
        let found: Record<string, unknown>[];
        try {
          found = await select(this.opts.timeoutMs);
        } catch (err) {
          // A pooled connection that died while idle without the pool noticing (a network cut,
          // a firewall dropping idle sessions) fails on first use: a read is asked again once,
          // on a fresh connection, within the same time limit.
          const left = this.opts.timeoutMs - (Date.now() - started);
          if (!STALE.has((err as { code?: string }).code ?? '') || left <= 0) throw err;
          found = await select(left);
        }
        const ref = { id: instance.id, name: instance.name };
        return { rows: found.map((r) => plan.row(r, ref)), count: found.length };
      },
      () => [],
    );
    if (kind === 'tactical') {
      const total = sumTactical(rows.filter(isTactical));
      rows.push({ instance: { id: 0, name: 'total' }, total: true, ...total });
    }
    return { operation: kind, rows, instances: [...reports, ...unavailable] };
  }

  private async change(
    kind: ChangeKind,
    targets: ChangeTarget[],
    instances: Instance[],
    unavailable: InstanceReport[],
  ): Promise<QueryAnswer> {
    const who: AuditFacts = { user: this.opts.auditUser };
    const rowOf = (
      instance: InstanceRef,
      id: number,
      ok: boolean,
      changed: boolean,
      error: string | null,
    ): ChangeRow => ({
      instance,
      action: kind,
      id,
      ok,
      changed,
      error,
    });
    const { rows, reports } = await this.onEach<ChangeRow>(
      instances,
      async (instance) => {
        const ref = { id: instance.id, name: instance.name };
        const mine = targets.filter((t) => t.instance === instance.id);
        const done = await withDeadline(instance, this.opts.timeoutMs, this.reaper, async (c) => {
          await c.beginTransaction();
          try {
            const out: ChangeRow[] = [];
            for (const t of mine) {
              const o = await applyChange(c, who, kind, t.id);
              out.push(rowOf(ref, t.id, o.ok, o.changed, o.error));
            }
            await c.commit();
            return out;
          } catch (err) {
            await c.rollback().catch(() => {});
            throw err;
          }
        });
        return { rows: done, count: done.filter((r) => r.ok).length };
      },
      (instance, error) =>
        targets
          .filter((t) => t.instance === instance.id)
          .map((t) => rowOf({ id: instance.id, name: instance.name }, t.id, false, false, error)),
    );
    for (const u of unavailable) {
      for (const t of targets.filter((x) => x.instance === u.id)) {
        rows.push(rowOf({ id: u.id, name: u.name }, t.id, false, false, u.error));
      }
    }
    // Rows in the order the targets were given.
    const order = new Map(targets.map((t, i) => [`${t.instance}/${t.id}`, i]));
    rows.sort(
      (a, b) =>
        (order.get(`${a.instance.id}/${a.id}`) ?? 0) - (order.get(`${b.instance.id}/${b.id}`) ?? 0),
    );
    return { operation: kind, rows, instances: [...reports, ...unavailable] };
  }

  /** Closes every Instance connection (not the Command Center's pool, which its owner closes). */
  async close(): Promise<void> {
    this.closed = true;
    await this.refreshing;
    await this.reaper.settle();
    await this.registry.close();
  }
}
