import { isTerminal, type Deployment } from './deployment.js';
import { formatDuration } from './steps.js';
import { zonedParts } from './zoned-time.js';

/** What an environment asks of a version before it may be deployed there. */
export interface PromotionRule {
  /** The environment the version must have completed in first; none: no promotion rule. */
  promotedFrom?: string;
  /** How long it must have served there since, without a rollback. */
  soakSeconds: number;
}

/**
 * A deployment of the version in the `promotedFrom` environment: a Deployment record will do.
 * `rolledBackAt` is for a completed deployment whose version was rolled back later; a record
 * whose phase is `rolled-back` counts as rolled back at its `finishedAt`.
 */
export type SourceDeployment = Pick<Deployment, 'phase' | 'requestedAt' | 'finishedAt'> & { rolledBackAt?: number };

export type PromotionVerdict =
  | {
      eligible: true;
      /** When the version completed in the source environment (none without a rule). */ completedAt?: number;
    }
  | { eligible: false; refusal: PromotionRefusal };

export type PromotionRefusal =
  /** No deployment of the version in the source environment ever completed (none at all, or only failed ones). */
  | { reason: 'never-deployed'; source: string; lastPhase?: Deployment['phase'] }
  /** A deployment of the version is under way there and none completed yet. */
  | { reason: 'still-running'; source: string; phase: Deployment['phase'] }
  /** It completed there, then was rolled back. */
  | { reason: 'rolled-back'; source: string; rolledBackAt: number }
  /** It completed there less than `soakSeconds` ago. */
  | { reason: 'soaking'; source: string; completedAt: number; eligibleAt: number; soakSeconds: number };

const rolledBackAt = (d: SourceDeployment): number | undefined =>
  d.rolledBackAt ?? (d.phase === 'rolled-back' ? (d.finishedAt ?? d.requestedAt) : undefined);

/**
 * May the version be deployed to the target environment? `source` holds every deployment of
 * that version (of that service) in the target's `promotedFrom` environment, in any order.
 */
export function promotionVerdict(
  target: PromotionRule,
  source: readonly SourceDeployment[],
  now: number,
): PromotionVerdict {
  const from = target.promotedFrom;
  if (from === undefined) return { eligible: true };
  const completions = source
    .filter((d) => d.phase === 'succeeded' && d.finishedAt !== undefined)
    .map((d) => d.finishedAt as number);
  const rollbacks = source.map(rolledBackAt).filter((at): at is number => at !== undefined);
  if (completions.length === 0) {
    const running = source.find((d) => !isTerminal(d.phase));
    if (running) return { eligible: false, refusal: { reason: 'still-running', source: from, phase: running.phase } };
    if (rollbacks.length > 0)
      return {
        eligible: false,
        refusal: { reason: 'rolled-back', source: from, rolledBackAt: Math.max(...rollbacks) },
      };
    const last = [...source].sort((a, b) => b.requestedAt - a.requestedAt)[0];
    return { eligible: false, refusal: { reason: 'never-deployed', source: from, lastPhase: last?.phase } };
  }
  const completedAt = Math.max(...completions);
  const rollbackSince = rollbacks.filter((at) => at >= completedAt);
  if (rollbackSince.length > 0)
    return {
      eligible: false,
      refusal: { reason: 'rolled-back', source: from, rolledBackAt: Math.max(...rollbackSince) },
    };
  const eligibleAt = completedAt + target.soakSeconds * 1000;
  if (now < eligibleAt)
    return {
      eligible: false,
      refusal: { reason: 'soaking', source: from, completedAt, eligibleAt, soakSeconds: target.soakSeconds },
    };
  return { eligible: true, completedAt };
}

/** `2026-12-04` and `15:42:10` in `timeZone`. */
export function localDateTime(ms: number, timeZone: string): { date: string; time: string } {
  const parts = zonedParts(ms, timeZone);
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    time: `${parts.hour}:${parts.minute}:${parts.second}`,
  };
}

/** `15:42:10`, with the date too when it is not today's (in `timeZone`). */
const clock = (ms: number, now: number, timeZone: string): string => {
  const at = localDateTime(ms, timeZone);
  return at.date === localDateTime(now, timeZone).date ? at.time : `${at.time} on ${at.date}`;
};

export interface RefusalContext {
  service: string;
  version: string;
  /** The environment the deployment was asked for. */
  target: string;
  now: number;
  /** `window.timezone` when the catalog has one; default UTC. */
  timeZone?: string;
}

/** The sentence a refused `/deploy` answers with: what is missing, and when it will not be. */
export function promotionRefusalText(refusal: PromotionRefusal, context: RefusalContext): string {
  const { service, version, target, now } = context;
  const timeZone = context.timeZone ?? 'UTC';
  const what = `${service} ${version}`;
  const rule = `${target} takes versions promoted from ${refusal.source}`;
  switch (refusal.reason) {
    case 'never-deployed': {
      if (refusal.lastPhase === undefined)
        return `${what} has never been deployed to ${refusal.source}: ${rule}. Deploy it to ${refusal.source} first.`;
      const ended =
        { failed: 'failed', rejected: 'was rejected', expired: 'expired' }[refusal.lastPhase as string] ??
        `ended ${refusal.lastPhase}`;
      return `${what} has never completed in ${refusal.source} (its last deployment there ${ended}): ${rule}.`;
    }
    case 'still-running':
      return `${what} is still being deployed to ${refusal.source} (${refusal.phase}): ${rule} once it completes there.`;
    case 'rolled-back':
      return (
        `${what} was rolled back in ${refusal.source} at ${clock(refusal.rolledBackAt, now, timeZone)} (${timeZone}): ` +
        `${rule} that have not been rolled back there.`
      );
    case 'soaking':
      return (
        `${what} completed in ${refusal.source} at ${clock(refusal.completedAt, now, timeZone)} and must serve there ` +
        `${formatDuration(refusal.soakSeconds * 1000)} without a rollback before ${target}: ` +
        `eligible at ${clock(refusal.eligibleAt, now, timeZone)} (${timeZone}).`
      );
  }
}
