/**
 * One Instance's place in the engine: its rounds (never two at once, through the RoundScheduler),
 * its health, and the one report per outage. A slow or unreachable Instance only delays itself.
 */
import { units, type UnitGate } from '../cluster/gate';
import type { Instance } from '../db/registry';
import { RoundScheduler } from '../util/round-scheduler';
import type { CacheStore } from './cache-store';
import { AgentCacheError, reasonOf } from './errors';
import { cacheRound } from './instance-round';
import type { KnownRanges } from './planner';
import type { InstanceOutcome, InstanceState } from './types';

export interface SlotHost {
  store: CacheStore;
  ccColumns(): Promise<string[]>;
  rangeSize: number;
  writeBatch: number;
  auditMs: number;
  gate?: UnitGate;
  done(outcome: InstanceOutcome): void;
}

/**
 * Where in the auditMs window an Instance's full checks fall: its id times the golden ratio,
 * modulo 1, spreads any set of ids evenly (ids 1..n land at most about auditMs / n apart).
 */
export function auditOffset(id: number, auditMs: number): number {
  return Math.floor(((id * 0.6180339887498949) % 1) * auditMs);
}

export class InstanceSlot {
  private readonly rounds: RoundScheduler<string, InstanceOutcome>;
  private lastGood: number | null = null;
  private agents: number | null = null;
  private down = false;
  private elsewhere = false;
  /** What the last good round left equal; null after a failure, a move, or when an audit is due. */
  private known: KnownRanges | null = null;
  private lastAudit = 0;

  constructor(
    public instance: Instance,
    private readonly host: SlotHost,
  ) {
    this.rounds = new RoundScheduler({ run: (reason) => this.run(reason) });
  }

  request(reason: string): Promise<InstanceOutcome> {
    return this.rounds.request(reason)!;
  }

  idle(): Promise<void> {
    return this.rounds.idle();
  }

  state(now = Date.now()): InstanceState {
    return {
      id: this.instance.id,
      name: this.instance.name,
      agents: this.agents,
      lag: this.lastGood === null ? null : Math.max(0, (now - this.lastGood) / 1000),
      down: this.down,
      elsewhere: this.elsewhere,
    };
  }

  private async run(reason: string): Promise<InstanceOutcome> {
    const { id, name } = this.instance;
    const gate = this.host.gate;
    const unit = units.agents(id);
    let outcome: InstanceOutcome;
    if (gate && !gate.holds(unit)) {
      // Another member writes this Instance's rows meanwhile: trust nothing remembered.
      this.known = null;
      this.elsewhere = true;
      outcome = { outcome: 'elsewhere', id, name };
    } else {
      this.elsewhere = false;
      const started = Date.now();
      const audit = this.known === null || started - this.lastAudit >= this.host.auditMs;
      try {
        const counts = await cacheRound({
          instance: this.instance,
          store: this.host.store,
          ccColumns: await this.host.ccColumns(),
          rangeSize: this.host.rangeSize,
          writeBatch: this.host.writeBatch,
          fence: gate?.fence(unit),
          known: audit ? null : this.known,
        });
        this.known = counts.known;
        // The first full check of each Instance is dated back by its own share of auditMs, so
        // that the next ones fall on different ticks: at 100 Instances a tick checks a few
        // Instances' caches in full, never all of them at once.
        if (audit)
          this.lastAudit =
            started - (this.lastAudit === 0 ? auditOffset(id, this.host.auditMs) : 0);
        this.lastGood = started;
        this.agents = counts.agents;
        this.down = false;
        outcome = {
          outcome: 'done',
          id,
          name,
          reason,
          ms: Date.now() - started,
          agents: counts.agents,
          ranges: counts.ranges,
          written: counts.written,
          removed: counts.removed,
          regrouped: counts.regrouped,
        };
      } catch (err) {
        this.known = null;
        this.down = true;
        const error =
          err instanceof AgentCacheError
            ? err
            : new AgentCacheError(
                'ERR_AGENT_CACHE_INSTANCE',
                { id, name, message: reasonOf(err) },
                { cause: err },
              );
        outcome = { outcome: 'failed', id, name, error };
      }
    }
    this.host.done(outcome);
    return outcome;
  }
}
