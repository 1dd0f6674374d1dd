import { weightOn } from '../src/domain/color.js';
import type { Deployment } from '../src/domain/deployment.js';
import { waitEndsAt } from '../src/domain/machine.js';
import { formatNumber, type GateRun, type Reading } from '../src/domain/gates.js';
import { formatStartTime } from '../src/domain/schedule-time.js';
import { quote } from './text.js';
import { describeStep, formatDuration } from '../src/domain/steps.js';

const PHASE_LINES: Partial<Record<Deployment['phase'], string>> = {
  'awaiting-approval': '⏸ awaiting approval',
  paused: '⏸ paused',
  succeeded: '✅ complete',
  'rolled-back': '⚠️ rolled back',
  failed: '❌ failed',
  rejected: '🚫 rejected',
  expired: '⌛ expired without a decision',
  cancelled: '🚫 cancelled',
  'rolling-back': '↩️ rolling back',
};

/**
 * `🗓️ scheduled for 14:00 Europe/Berlin · ⏸ awaiting approval` or `⏳ queued (position 2)`: where
 * a deployment without the service's lock stands.
 */
function queuedLine(d: Deployment, now: number): string {
  const parts: string[] = [];
  if (d.schedule && d.schedule.startAt > now)
    parts.push(`🗓️ scheduled for ${formatStartTime(d.schedule.startAt, d.schedule.timezone, now)}`);
  else parts.push(`⏳ queued${d.queuePosition ? ` (position ${d.queuePosition})` : ''}`);
  if (d.approvedAt === undefined) parts.push('⏸ awaiting approval');
  return parts.join(' · ');
}

/** Stage progress as a bar: one mark per traffic stage, filled once it is applied. */
const progressBar = (d: Deployment): string => {
  const stages = d.steps.map((step, i) => ({ step, i })).filter(({ step }) => step.kind === 'setWeight');
  if (stages.length === 0) return '';
  return stages.map(({ i }) => (d.stepRecords[i]?.outcome === 'ok' ? '▰' : '▱')).join('');
};

// Datadog APM reports trace durations in seconds; a quotient of two series is a ratio.
const APM_DURATION = /\btrace\.[\w.]+\.duration\b/;
const QUOTIENT = /[)}]\s*\/\s*[\w.]+:/;

/** A reading's value in the unit a person expects (412ms, 0.2%) when the query tells it, else as is. */
export function formatReadingValue(r: Pick<Reading, 'query' | 'value'>): string {
  if (r.value === undefined) return 'n/a';
  if (APM_DURATION.test(r.query)) return r.value < 1 ? `${Math.round(r.value * 1000)}ms` : `${formatNumber(r.value)}s`;
  if (QUOTIENT.test(r.query) && r.value >= 0 && r.value <= 1) return `${Number((r.value * 100).toPrecision(2))}%`;
  return formatNumber(r.value);
}

const gateParts = (run: GateRun | undefined): string[] => [
  ...(run?.readings ?? []).map((r) => `${r.name} ${formatReadingValue(r)}${r.outcome === 'breach' ? ' ⚠️' : ''}`),
  ...(run && run.firingMonitors.length > 0
    ? [`🔥 ${run.firingMonitors.length} monitor${run.firingMonitors.length === 1 ? '' : 's'} firing`]
    : []),
];

/**
 * `▰▰▱ 50% on green · baking 3m12s left · p99 latency 412ms · error rate 0.2%`: the one line
 * on the announcement (and in `/deploy status` and the Home tab) that says where things are.
 * The countdown moves with `now`, so a bake's line changes at every look; the outbox spaces the
 * announcement's edits.
 */
export function statusLine(d: Deployment, now: number): string {
  const weight = d.newColor && d.weights ? weightOn(d.weights[d.newColor], d.newColor) : '';
  const head = [progressBar(d), weight].filter(Boolean).join(' ');
  const parts = head ? [head] : [];
  if (d.phase === 'queued') return queuedLine(d, now);
  if (d.phase === 'expired' && d.failureReason) return `⌛ expired: ${quote(d.failureReason, 300)}`;
  if (d.phase === 'cancelled')
    return `🚫 cancelled${d.cancelledBy && d.cancelledBy !== 'switchyard' ? ` by <@${d.cancelledBy}>` : ''}${d.cancelReason ? `: ${quote(d.cancelReason, 300)}` : ''}`;
  const phaseLine = PHASE_LINES[d.phase];
  if (phaseLine) {
    const reason = d.phase === 'paused' && d.pauseReason ? `: ${quote(d.pauseReason, 300)}` : '';
    return [...parts, `${phaseLine}${reason}`].join(' · ');
  }
  const step = d.steps[d.stepIndex];
  if (!step) return parts.join(' · ');
  if (d.held) parts.push(`holding at ${d.held.weight}% (/shift by <@${d.held.by}>)`);
  if (step.kind === 'bake' || step.kind === 'monitor') {
    const verb = step.kind === 'bake' ? 'baking' : 'monitoring';
    const started = d.stepRecords[d.stepIndex]?.startedAt !== undefined;
    parts.push(`${verb} ${formatDuration(started ? waitEndsAt(d, step.seconds) - now : step.seconds * 1000)} left`);
    parts.push(...gateParts(d.lastGateRun));
  } else {
    parts.push(`${describeStep(step)}…`);
  }
  const detail = d.stepRecords[d.stepIndex]?.detail;
  if (detail) parts.push(quote(detail.split('\n')[0] ?? '', 300));
  return parts.join(' · ');
}
