import { hasShiftedTraffic, type Deployment, type RollbackIntent } from './deployment.js';

/**
 * The DORA four, computed from deployment records alone. Pure: the records, the
 * rollback requests and the time are handed in.
 *
 * - A **production change** is a deployment whose new version served users (it succeeded, or it
 *   was rolled back after traffic moved) and that finished inside the window. Deployments that
 *   stopped before any traffic moved, were rejected or expired changed nothing in production.
 * - **Deployment frequency**: production changes per day over the window.
 * - **Lead time**: approval → the new version taking 100 % of the traffic (median).
 * - **Change failure rate**: the share of production changes that were rolled back.
 * - **Time to restore**: rollback requested (a command, a button or a failed gate) → the
 *   previous version holding all the traffic again (median).
 */

export const DORA_WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;

export interface DoraFigures {
  service: string;
  /** The environment the figures are for; none: the service's records in any environment. */
  environment?: string;
  /** Production changes that finished in the window. */
  deployments: number;
  perDay: number;
  /** Median approval → 100 % of the changes that reached 100 %; undefined when none did. */
  leadTimeMs?: number;
  /** Rolled back / production changes; undefined without any production change. */
  changeFailureRate?: number;
  rolledBack: number;
  /** Median rollback request → traffic restored; undefined without a rollback. */
  timeToRestoreMs?: number;
}

export interface DoraOptions {
  now: number;
  windowDays?: number;
  /** Rollback requests by deployment id (the intent's first timestamp), where one was recorded. */
  rollbackIntents?: ReadonlyMap<string, RollbackIntent>;
  /** Count only the records of this environment. */
  environment?: string;
}

export const median = (values: readonly number[]): number | undefined => {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** The new version reached users: the only deployments DORA counts. */
export const isProductionChange = (d: Deployment): boolean =>
  d.phase === 'succeeded' || (d.phase === 'rolled-back' && (d.fullTrafficAt !== undefined || hasShiftedTraffic(d)));

/**
 * When the rollback was asked for: the person's request (its first timestamp), else the moment
 * the failing step gave up (a gate breach or a step failure after traffic moved).
 */
export function rollbackRequestedAt(d: Deployment, intent?: RollbackIntent): number | undefined {
  if (intent && (d.finishedAt === undefined || intent.at <= d.finishedAt)) return intent.at;
  const failed = d.stepRecords
    .filter((r) => r.outcome === 'failed' && r.endedAt !== undefined)
    .map((r) => r.endedAt as number);
  return failed.length > 0 ? Math.max(...failed) : undefined;
}

/** How long the rollback of `d` took, once it is done. */
export function timeToRestoreMs(d: Deployment, intent?: RollbackIntent): number | undefined {
  if (d.phase !== 'rolled-back' || d.finishedAt === undefined) return undefined;
  const requested = rollbackRequestedAt(d, intent);
  return requested === undefined ? undefined : Math.max(0, d.finishedAt - requested);
}

/** The four figures for one service's records (any order; others' records, and other environments' when one is given, are ignored). */
export function doraFor(service: string, records: readonly Deployment[], options: DoraOptions): DoraFigures {
  const windowDays = options.windowDays ?? DORA_WINDOW_DAYS;
  const from = options.now - windowDays * DAY_MS;
  const changes = records.filter(
    (d) =>
      d.service === service &&
      (options.environment === undefined || d.environment === options.environment) &&
      isProductionChange(d) &&
      d.finishedAt !== undefined &&
      d.finishedAt > from &&
      d.finishedAt <= options.now,
  );
  const rolledBack = changes.filter((d) => d.phase === 'rolled-back');
  const leadTimes = changes.flatMap((d) =>
    d.fullTrafficAt !== undefined && d.approvedAt !== undefined ? [Math.max(0, d.fullTrafficAt - d.approvedAt)] : [],
  );
  const restores = rolledBack.flatMap((d) => {
    const ms = timeToRestoreMs(d, options.rollbackIntents?.get(d.id));
    return ms === undefined ? [] : [ms];
  });
  return {
    service,
    ...(options.environment === undefined ? {} : { environment: options.environment }),
    deployments: changes.length,
    perDay: changes.length / windowDays,
    leadTimeMs: median(leadTimes),
    changeFailureRate: changes.length > 0 ? rolledBack.length / changes.length : undefined,
    rolledBack: rolledBack.length,
    timeToRestoreMs: median(restores),
  };
}

/** One figure set per service name given, in that order. */
export const doraByService = (
  services: readonly string[],
  records: readonly Deployment[],
  options: DoraOptions,
): DoraFigures[] => services.map((service) => doraFor(service, records, options));
