/**
 * The cluster's failures: a code and the facts, never a sentence. pandora-config words them from
 * its catalogue (`pandora-config.errors.<code>`); engines tell them apart by class (`LeaseLost`:
 * this transaction must not commit; `CommitUncertain`: the caller must keep what it wrote).
 */
import { CodedError, reasonOf } from '../util/errors';

export type ClusterCode =
  /** The manager was closed; `reason` says why. Every call after close() fails with this. */
  | 'ERR_CLUSTER_CLOSED'
  /** An option the manager cannot use (`name`, `value`, `min`, `max`). */
  | 'ERR_CLUSTER_OPTION'
  /** The Command Center database failed (`message`: the server's words). */
  | 'ERR_CLUSTER_DB'
  /** The unit's lease is no longer this member's (`unit`). */
  | 'ERR_LEASE_LOST'
  /** The connection ended during COMMIT (`message`): committed or not is unknown. */
  | 'ERR_COMMIT_UNCERTAIN';

export class ClusterError extends CodedError<ClusterCode> {
  constructor(
    code: ClusterCode,
    facts: Record<string, string | number> = {},
    options?: { cause?: unknown },
  ) {
    super(code, facts, options);
    this.name = 'ClusterError';
  }
}

/** The unit's lease is no longer this member's: the transaction it was checked in must not commit. */
export class LeaseLost extends ClusterError {
  constructor(readonly unit: string) {
    super('ERR_LEASE_LOST', { unit });
    this.name = 'LeaseLost';
  }
}

/** The database may or may not have committed: the connection ended during COMMIT. */
export class CommitUncertain extends ClusterError {
  constructor(cause: unknown) {
    super('ERR_COMMIT_UNCERTAIN', { message: reasonOf(cause) }, { cause });
    this.name = 'CommitUncertain';
  }
}
