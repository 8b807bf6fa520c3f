/** What the Sync puller reports: its files, its summaries and its typed events. */

/** A file left on its buffer because it is larger than `maxSize`. */
export interface OversizedFile {
  address: string;
  filename: string;
  size: number;
  maxSize: number;
}

/** One delivered file. */
export interface PulledFile {
  address: string;
  filename: string;
  size: number;
  sha1: string;
  /** Where it was written (deliver `dir`/`both`). */
  path?: string;
  /** The content (deliver `msg`/`both`). */
  payload?: Buffer;
}

/** What one round did with one buffer. */
export interface BufferSummary {
  address: string;
  files: number;
  bytes: number;
  ms: number;
  error: string | null;
  /** Names listed and taken by the pattern. */
  listed?: number;
  /** Files left on the buffer because of a local or connection problem. */
  left?: number;
  /** Files left on the buffer because they are larger than `maxSize`. */
  oversized?: number;
  /** Not tried this round: still waiting out the backoff after a failure. */
  skipped?: boolean;
  /** When the next automatic attempt may be made after a failure. */
  retryAt?: number;
}

export interface PushResult {
  address: string;
  filename: string;
  size: number;
  ok: boolean;
  error: string | null;
}

/**
 * Why a round runs: `timer` (the engine's own, every `intervalMs`; failed buffers wait out their
 * backoff), anything else (e.g. `message`) is a request that ignores the backoff.
 */
export type RoundReason = 'timer' | 'message' | 'request';

/** A round as its reports carry it. */
export interface RoundInfo {
  /** `timer` only when no request was merged into the timer's round. */
  reason: RoundReason;
  /**
   * What asked for it: the `origin` of every request merged into it (e.g. the input message),
   * in order; empty for the timer's rounds.
   */
  origins: readonly unknown[];
}

export interface SyncPullerEvents {
  file: [PulledFile, RoundInfo];
  summary: [BufferSummary, RoundInfo];
  /** A round ended: every buffer's summary (none when no buffer was worked). */
  round: [BufferSummary[], RoundInfo];
  /** Once per file and size, not every round. */
  oversized: [OversizedFile];
  /** The buffer pauses like the stock tentacle_server: its first downloads are now ZRECV. */
  zrecv: [address: string];
}
