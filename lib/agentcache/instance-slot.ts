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
import type { InstanceOutcome, InstanceState } from './types';

export interface SlotHost {
  store: CacheStore;
  ccColumns(): Promise<string[]>;
  rangeSize: number;
  writeBatch: number;
  gate?: UnitGate;
  done(outcome: InstanceOutcome): void;
}

export class InstanceSlot {
  private readonly rounds: RoundScheduler<string, InstanceOutcome>;
  private lastGood: number | null = null;
  private agents: number | null = null;
  private down = false;
  private elsewhere = false;

  constructor(
    public instance: Instance,
    private readonly host: SlotHost,
  ) {
    this.rounds = new RoundScheduler({ run: (reason) => this.run(reason) });
  }

  /** Whether a round runs now (a timer tick then leaves this Instance alone). */
  get busy(): boolean {
    return this.rounds.busy;
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
      this.elsewhere = true;
      outcome = { outcome: 'elsewhere', id, name };
    } else {
      this.elsewhere = false;
      const started = Date.now();
      try {
        const counts = await cacheRound({
          instance: this.instance,
          store: this.host.store,
          ccColumns: await this.host.ccColumns(),
          rangeSize: this.host.rangeSize,
          writeBatch: this.host.writeBatch,
          fence: gate ? (conn) => gate.fence(conn, unit) : undefined,
        });
        this.lastGood = started;
        this.agents = counts.agents;
        this.down = false;
        outcome = { outcome: 'done', id, name, reason, ms: Date.now() - started, ...counts };
      } catch (err) {
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
