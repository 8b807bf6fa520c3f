/**
 * The lease manager's options in one place: pandora-config's properties (seconds, as the editor
 * shows them), their defaults and limits (the editor reads these through the node's settings),
 * and the manager's options (milliseconds) they become.
 */
import type { Pool } from '../db/pool';
import { ClusterError } from './errors';

/** pandora-config's cluster properties: what the editor offers and checks. */
export const CLUSTER_PROPERTIES = {
  /** Seconds a lease lasts without renewal. */
  leaseSeconds: { default: 30, min: 2, max: 3600 },
  /** Characters of a member name at most (the session id adds `/pid-random` within 191). */
  clusterMember: { maxLength: 150 },
} as const;

export interface LeaseManagerOptions {
  /** The Command Center database (shared pool; not closed by the manager). */
  db: Pool;
  /** This member's name as the others see it. */
  member: string;
  /** A lease not renewed within this time may be taken by another member. */
  leaseMs?: number;
}

export interface ResolvedLeaseOptions {
  db: Pool;
  member: string;
  leaseMs: number;
  /** Renewal and rebalancing period: a third of the lease. */
  tickMs: number;
}

/** The manager's lower limit: a test may run shorter leases than the editor offers. */
const MIN_LEASE_MS = 1000;

export const LEASE_DEFAULTS = {
  leaseMs: CLUSTER_PROPERTIES.leaseSeconds.default * 1000,
} as const;

/** Defaults applied; values the manager cannot use refused (ERR_CLUSTER_OPTION). */
export function resolveOptions(options: LeaseManagerOptions): ResolvedLeaseOptions {
  const leaseMs = options.leaseMs ?? LEASE_DEFAULTS.leaseMs;
  if (typeof leaseMs !== 'number' || !Number.isFinite(leaseMs) || leaseMs < MIN_LEASE_MS) {
    throw new ClusterError('ERR_CLUSTER_OPTION', {
      name: 'leaseMs',
      value: String(leaseMs),
      min: MIN_LEASE_MS,
      max: CLUSTER_PROPERTIES.leaseSeconds.max * 1000,
    });
  }
  const member = String(options.member ?? '').trim();
  const { maxLength } = CLUSTER_PROPERTIES.clusterMember;
  if (!member || member.length > maxLength) {
    throw new ClusterError('ERR_CLUSTER_OPTION', {
      name: 'clusterMember',
      value: member,
      min: 1,
      max: maxLength,
    });
  }
  const rounded = Math.round(leaseMs);
  return {
    db: options.db,
    member,
    leaseMs: rounded,
    tickMs: Math.max(100, Math.floor(rounded / 3)),
  };
}
