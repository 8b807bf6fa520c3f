/**
 * AgentCache: every Instance's agents kept in the Command Center's tmetaconsole_agent and
 * tmetaconsole_agent_secondary_group, as Pandora's console reads them. The engine keeps the
 * registry, the removal of rows of Instances no longer worked, and one InstanceSlot per Instance
 * in step; its timer asks each idle Instance for a round every interval, so a slow one never
 * holds back the others. Reports go out only as the typed events of types.ts.
 */
import { EventEmitter } from 'node:events';
import { units } from '../cluster/gate';
import { InstanceRegistry } from '../db/registry';
import { RoundScheduler } from '../util/round-scheduler';
import { CacheStore } from './cache-store';
import { AgentCacheError, reasonOf } from './errors';
import { InstanceSlot, type SlotHost } from './instance-slot';
import { resolveOptions, type AgentCacheOptions, type ResolvedAgentCacheOptions } from './options';
import type {
  AgentCacheEvents,
  CacheStatus,
  InstanceOutcome,
  InstanceRef,
  InstanceRound,
  RoundSummary,
} from './types';

/** The round report of a finished outcome (the outcome tag left out). */
function roundOf(o: Extract<InstanceOutcome, { outcome: 'done' }>): InstanceRound {
  return {
    id: o.id,
    name: o.name,
    reason: o.reason,
    ms: o.ms,
    agents: o.agents,
    ranges: o.ranges,
    written: o.written,
    removed: o.removed,
    regrouped: o.regrouped,
  };
}

/** How long close() waits for rounds in progress before closing the pools under them. */
const CLOSE_WAIT_MS = 5000;

export class AgentCache extends EventEmitter<AgentCacheEvents> implements SlotHost {
  readonly opts: ResolvedAgentCacheOptions;
  readonly store: CacheStore;
  readonly rangeSize: number;
  readonly writeBatch: number;
  readonly auditMs: number;
  readonly gate: ResolvedAgentCacheOptions['gate'];
  private readonly registry: InstanceRegistry;
  private readonly slots = new Map<number, InstanceSlot>();
  private readonly refreshes: RoundScheduler<void, AgentCacheError[]>;
  private readonly problems = new Set<string>();
  private columns: Promise<string[]> | null = null;
  private ccError: AgentCacheError | null = null;
  private closedWith: AgentCacheError | null = null;
  private timer: NodeJS.Timeout | null = null;
  private started = false;

  constructor(options: AgentCacheOptions) {
    super();
    this.opts = resolveOptions(options);
    this.store = new CacheStore(this.opts.cc);
    this.rangeSize = this.opts.rangeSize;
    this.writeBatch = this.opts.writeBatch;
    this.auditMs = this.opts.auditMs;
    this.gate = this.opts.gate;
    this.registry = new InstanceRegistry(this.opts.cc, { ids: this.opts.instances });
    this.refreshes = new RoundScheduler({ run: () => this.refresh() });
  }

  /** Starts the timer: a round on every Instance now and every interval after (none with 0). */
  start(): void {
    this.assertOpen();
    if (this.started) return;
    this.started = true;
    if (this.opts.intervalMs > 0) this.tick();
  }

  /**
   * One round on every Instance now (joining one in progress), the registry re-read first.
   * Resolves once each Instance's round ended or roundTimeoutMs passed for it.
   */
  async requestRound(reason: string): Promise<RoundSummary> {
    this.assertOpen();
    const problems = (await this.refreshes.request())!;
    this.assertOpen();
    const instances = await Promise.all(
      [...this.slots.values()].map((s) => this.bounded(s, reason)),
    );
    return { reason, instances, problems };
  }

  /** Stops the timer, waits briefly for rounds in progress, closes the Instance pools. */
  async close(reason: string): Promise<void> {
    if (this.closedWith) return;
    this.closedWith = new AgentCacheError('ERR_AGENT_CACHE_CLOSED', { reason });
    if (this.timer) clearTimeout(this.timer);
    const slots = [...this.slots.values()];
    await Promise.race([
      Promise.all([this.refreshes.idle(), ...slots.map((s) => s.idle())]),
      new Promise((r) => setTimeout(r, CLOSE_WAIT_MS).unref?.()),
    ]);
    this.slots.clear();
    await this.registry.close();
  }

  status(): CacheStatus {
    const now = Date.now();
    return {
      commandCenter: this.ccError,
      instances: [...this.slots.values()].map((s) => s.state(now)),
    };
  }

  /** The cache's columns, read once (again after a failure). */
  ccColumns(): Promise<string[]> {
    if (!this.columns) {
      this.columns = this.store.columns().catch((err: unknown) => {
        this.columns = null;
        throw err;
      });
    }
    return this.columns;
  }

  /** An Instance's round ended: its one report per outage, and the event. */
  done(outcome: InstanceOutcome): void {
    if (this.closedWith) return;
    const ref: InstanceRef = { id: outcome.id, name: outcome.name };
    const key = `instance:${outcome.id}`;
    if (outcome.outcome === 'failed') this.problem(key, outcome.error, ref);
    else if (outcome.outcome === 'done') {
      this.cleared(key, ref);
      this.emitSafe('round', roundOf(outcome));
    }
    this.emitSafe('status', this.status());
  }

  private assertOpen(): void {
    if (this.closedWith) throw this.closedWith;
  }

  private async bounded(slot: InstanceSlot, reason: string): Promise<InstanceOutcome> {
    const { id, name } = slot.instance;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<InstanceOutcome>((resolve) => {
      timer = setTimeout(() => resolve({ outcome: 'running', id, name }), this.opts.roundTimeoutMs);
    });
    try {
      return await Promise.race([slot.request(reason), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Timer: the registry, then a round on every Instance. An Instance still in its round gets the
   * next one as soon as that ends (its scheduler queues one at most), not a tick later: when a
   * round takes longer than the interval, a change waits at most two rounds, not two rounds and
   * an interval.
   */
  private tick(): void {
    if (this.closedWith) return;
    void this.refreshes.request()?.then(() => {
      if (this.closedWith) return;
      for (const s of this.slots.values()) void s.request('timer');
    });
    this.timer = setTimeout(() => this.tick(), Math.max(this.opts.intervalMs, 100));
    this.timer.unref?.();
  }

  /** Re-reads the registry, starts and drops slots to match, removes rows no longer worked. */
  private async refresh(): Promise<AgentCacheError[]> {
    const found: AgentCacheError[] = [];
    try {
      await this.ccColumns();
      const list = await this.registry.refresh();
      this.gate?.offer(list.map((i) => units.agents(i.id)));
      const seen = new Set<number>();
      for (const inst of list) {
        seen.add(inst.id);
        const slot = this.slots.get(inst.id);
        if (!slot || slot.instance.pool !== inst.pool)
          this.slots.set(inst.id, new InstanceSlot(inst, this));
        else slot.instance = inst;
      }
      for (const id of [...this.slots.keys()]) if (!seen.has(id)) this.slots.delete(id);
      const current = new Set<string>();
      for (const p of this.registry.lastProblems()) {
        const key = `registry:${p.id}`;
        const error = new AgentCacheError(
          'ERR_AGENT_CACHE_REGISTRY',
          { ...p.error.facts, id: p.id, name: p.name, reason: p.error.code },
          { cause: p.error },
        );
        current.add(key);
        found.push(error);
        this.problem(key, error, { id: p.id, name: p.name });
      }
      for (const key of [...this.problems]) {
        if (key.startsWith('registry:') && !current.has(key)) this.cleared(key);
      }
      await this.purge(seen);
      this.ccError = null;
      this.cleared('cc');
    } catch (err) {
      const error =
        err instanceof AgentCacheError
          ? err
          : new AgentCacheError('ERR_AGENT_CACHE_CC', { message: reasonOf(err) }, { cause: err });
      this.ccError = error;
      found.push(error);
      this.problem('cc', error);
    }
    this.emitSafe('status', this.status());
    return found;
  }

  /**
   * Rows of Instances not worked any more go: with no `instances` list, every Instance not enabled
   * in the registry; with one, the listed Instances that are disabled or gone (another node may
   * keep the others).
   */
  private async purge(worked: Set<number>): Promise<void> {
    const listed = new Set(this.opts.instances);
    for (const id of await this.store.setups()) {
      if (worked.has(id) || (listed.size > 0 && !listed.has(id))) continue;
      const rows = await this.store.purge(id, this.writeBatch);
      if (rows > 0) this.emitSafe('purged', { id, rows });
    }
  }

  private problem(key: string, error: AgentCacheError, instance?: InstanceRef): void {
    if (this.problems.has(key)) return;
    this.problems.add(key);
    this.emitSafe('problem', { key, instance, error });
  }

  private cleared(key: string, instance?: InstanceRef): void {
    if (this.problems.delete(key)) this.emitSafe('recovered', { key, instance });
  }

  /** A listener's exception must not break a round. */
  private emitSafe<K extends keyof AgentCacheEvents>(event: K, ...args: AgentCacheEvents[K]): void {
    if (this.closedWith) return;
    try {
      (this.emit as (e: K, ...a: AgentCacheEvents[K]) => boolean)(event, ...args);
    } catch {
      // The listener's business.
    }
  }
}
