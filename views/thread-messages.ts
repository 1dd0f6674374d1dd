import { durationMs, type Deployment } from '../src/domain/deployment.js';
import { formatDuration } from '../src/domain/steps.js';
import { mention, quote } from './text.js';

/** Seed 001's "Deployment Complete" template. */
export function successMessage(d: Deployment, now: number, readings: string[] = []): string {
  return [
    `✅ *Deployment Complete*: ${d.service}`,
    `*Version:* \`${d.version}\`  *Environment:* ${d.environment}  *Status:* Successful  *Duration:* ${formatDuration(durationMs(d, now))}`,
    `*Health Checks:* All passing ✓  *Metrics:* ${readings.length ? readings.map((r) => quote(r, 200)).join(' · ') : 'Within normal range'}${d.lastGateRun && d.lastGateRun.outcome !== 'pass' ? ` ⚠️ last gate run: ${d.lastGateRun.outcome} after the rollback window; on-call was alerted` : ''}`,
    `*Next Check:* T+30 minutes${d.previousVersion ? `  *Instant rollback target:* \`${d.previousVersion}\` on ${d.liveColor ?? 'the previous environment'}` : ''}`,
  ].join('\n');
}

/** Seed 001's "Deployment Rolled Back" template, with on-call mentioned. */
export function rollbackMessage(d: Deployment, onCall: string, evidence: string[] = []): string {
  const previous = d.previousVersion ?? 'the previous version';
  return [
    `⚠️ *Deployment Rolled Back*: ${d.service} ${mention(onCall)}`,
    `*Version:* \`${d.version}\` → \`${previous}\` (rollback)  *Environment:* ${d.environment}`,
    `*Reason:* ${quote(d.rollbackReason ?? 'unknown', 1000)}${d.rollbackBy && d.rollbackBy !== 'switchyard' ? ` (by <@${d.rollbackBy}>)` : ''}`,
    ...evidence.map((line) => quote(line, 500)),
    `*Status:* System stable on \`${previous}\``,
    `*Action Items:*\n• Root cause analysis\n• Fix identified issue\n• Re-test in staging\n• Schedule re-deployment (a release manager lifts the block with \`/deploy clear ${d.service} ${d.version} ${d.environment} &lt;RCA link&gt;\`)`,
  ].join('\n');
}

export function failureMessage(d: Deployment, onCall: string): string {
  return [
    `❌ *Deployment Failed*: ${d.service} \`${d.version}\` ${mention(onCall)}`,
    `*Environment:* ${d.environment}`,
    `*Reason:* ${quote(d.failureReason ?? 'unknown', 2000)}`,
    `*Status:* No traffic reached \`${d.version}\`; \`${d.previousVersion ?? 'the previous version'}\` still serves 100%.`,
  ].join('\n');
}
