/**
 * instance-query's engine: one operation, asked of every selected Instance in parallel (a bounded
 * number at a time), each within its own time limit, answered as rows tagged with their Instance
 * and one report per Instance. An Instance that is down, slow or refuses the login is reported
 * and never holds back the others.
 */
import { Instance, InstanceRegistry } from '../db/registry';
import { transactionOn } from '../db/transaction';
import { reasonOf } from '../util/errors';
import { applyChange, AuditFacts } from './changes';
import { Reaper, withDeadline } from './deadline';
import { QueryError, type QueryFailure } from './errors';
import { instanceFailure } from './instance-failure';
import { streamRows } from './stream-rows';
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
import {
  resolveOptions,
  type InstanceQueryOptions,
  type ResolvedInstanceQueryOptions,
} from './options';
import { InstanceRef, isTactical, planRead, QueryRow, sumTactical } from './reads';

export type { InstanceRef, QueryRow } from './reads';

/** One Instance's part of an answer (msg.instances once the node words `error`). */
export interface InstanceAnswer extends InstanceRef {
  ok: boolean;
  ms: number;
  rows: number;
  error: QueryFailure | null;
}

export interface QueryAnswer {
  operation: Operation;
  rows: QueryRow[];
  instances: InstanceAnswer[];
}

/** A change's outcome on one target, as it appears in the answer's rows. */
export interface ChangeRow extends QueryRow {
  action: ChangeKind;
  id: number;
  ok: boolean;
  changed: boolean;
  error: QueryFailure | null;
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

/** Errors of a connection that was already dead when taken from the pool. */
const STALE = new Set(['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'EPIPE']);

export class InstanceQuery {
  private readonly registry: InstanceRegistry;
  private readonly reaper = new Reaper();
  readonly opts: ResolvedInstanceQueryOptions;
  private refreshing: Promise<unknown> = Promise.resolve();
  private closedWith: QueryError | null = null;

  /** Throws QueryError ERR_QUERY_OPTION for an option the engine cannot use. */
  constructor(options: InstanceQueryOptions) {
    this.opts = resolveOptions(options);
    this.registry = new InstanceRegistry(options.cc, {
      ids: this.opts.instances,
      tuning: {
        connectionLimit: this.opts.connectionsPerInstance,
        connectTimeoutMs: this.opts.timeoutMs,
      },
    });
  }

  /**
   * Checks a message before anything is asked: the operation and its filters or targets. Throws
   * a QueryError for a message that cannot run.
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

  private assertOpen(): void {
    if (this.closedWith) throw this.closedWith;
  }

  /** Runs one message's operation on the Instances and gathers the answer. */
  async run(topic: unknown, payload: unknown, fallback = 'agents'): Promise<QueryAnswer> {
    this.assertOpen();
    const { operation, filters, targets } = InstanceQuery.check(topic, payload, fallback);
    const { instances, unavailable } = await this.select(
      filters?.instances ?? (targets ? [...new Set(targets.map((t) => t.instance))] : undefined),
    );
    this.assertOpen();
    return isRead(operation)
      ? this.read(operation, filters ?? {}, instances, unavailable)
      : this.change(operation as ChangeKind, targets ?? [], instances, unavailable);
  }

  /** The registry as it is now, narrowed to `wanted`; ids that cannot be asked, with the reason. */
  private async select(
    wanted: number[] | undefined,
  ): Promise<{ instances: Instance[]; unavailable: InstanceAnswer[] }> {
    // One refresh at a time: a refresh may replace the pool of an instance whose row changed.
    const refresh = this.refreshing.then(() => this.registry.refresh());
    this.refreshing = refresh.catch(() => {});
    try {
      await refresh;
    } catch (err) {
      throw new QueryError('ERR_QUERY_CC', { message: reasonOf(err) }, { cause: err });
    }
    const all = this.registry.instances();
    const problems = this.registry.lastProblems();
    const pick = (id: number) => !wanted || wanted.includes(id);
    const instances = all.filter((i) => pick(i.id));
    const unavailable: InstanceAnswer[] = problems
      .filter((p) => pick(p.id))
      .map((p) => ({ id: p.id, name: p.name, ok: false, ms: 0, rows: 0, error: p.error }));
    for (const id of wanted ?? []) {
      if (!instances.some((i) => i.id === id) && !unavailable.some((u) => u.id === id)) {
        unavailable.push({
          id,
          name: `node ${id}`,
          ok: false,
          ms: 0,
          rows: 0,
          error: new QueryError('ERR_QUERY_UNLISTED', { id }),
        });
      }
    }
    return { instances, unavailable };
  }

  private async onEach<R>(
    instances: Instance[],
    work: (instance: Instance) => Promise<{ rows: R[]; count: number }>,
    failed: (instance: Instance, error: QueryFailure) => R[],
  ): Promise<{ rows: R[]; reports: InstanceAnswer[] }> {
    const results = await bounded(instances, this.opts.concurrency, async (instance) => {
      const started = process.hrtime.bigint();
      const ms = () => Number((process.hrtime.bigint() - started) / 1_000_000n);
      try {
        const { rows, count } = await work(instance);
        const report: InstanceAnswer = {
          id: instance.id,
          name: instance.name,
          ok: true,
          ms: ms(),
          rows: count,
          error: null,
        };
        return { rows, report };
      } catch (err) {
        const error = instanceFailure(instance, err);
        const report: InstanceAnswer = {
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
    unavailable: InstanceAnswer[],
  ): Promise<QueryAnswer> {
    const plan = planRead(kind, filters, this.opts.limit);
    const { rows, reports } = await this.onEach<QueryRow>(
      instances,
      async (instance) => {
        const ref = { id: instance.id, name: instance.name };
        const select = (ms: number) =>
          withDeadline(instance, ms, this.reaper, (c) =>
            streamRows(c, plan.statement, (r) => plan.row(r, ref)),
          );
        const started = Date.now();
        let found: QueryRow[];
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
        return { rows: found, count: found.length };
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
    unavailable: InstanceAnswer[],
  ): Promise<QueryAnswer> {
    const who: AuditFacts = { user: this.opts.auditUser };
    const rowOf = (
      instance: InstanceRef,
      id: number,
      ok: boolean,
      changed: boolean,
      error: QueryFailure | null,
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
          return transactionOn(c, async (conn) => {
            const out: ChangeRow[] = [];
            for (const t of mine) {
              const o = await applyChange(conn, who, kind, t.id);
              out.push(rowOf(ref, t.id, o.ok, o.changed, o.error));
            }
            return out;
          });
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

  /**
   * Closes every Instance connection (not the Command Center's pool, which its owner closes);
   * every call after it fails with ERR_QUERY_CLOSED carrying `reason`.
   */
  async close(reason = 'closed'): Promise<void> {
    if (this.closedWith) return;
    this.closedWith = new QueryError('ERR_QUERY_CLOSED', { reason });
    await this.refreshing;
    await this.reaper.settle();
    await this.registry.close();
  }
}
