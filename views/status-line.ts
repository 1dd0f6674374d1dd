import type { Deployment } from '../src/domain/deployment.js';
import { waitEndsAt } from '../src/domain/machine.js';
import { formatNumber } from '../src/domain/gates.js';
import { escapeText } from './text.js';
import { describeStep, formatDuration } from '../src/domain/steps.js';

const PHASE_LINES: Partial<Record<Deployment['phase'], string>> = {
  'awaiting-approval': '⏸ awaiting approval',
  paused: '⏸ paused',
  succeeded: '✅ complete',
  'rolled-back': '⚠️ rolled back',
  failed: '❌ failed',
  rejected: '🚫 rejected',
  expired: '⌛ expired without a decision',
  'rolling-back': '↩️ rolling back',
};

/** Stage progress as a bar: one mark per traffic stage, filled once it is applied. */
const progressBar = (d: Deployment): string => {
  const stages = d.steps.map((step, i) => ({ step, i })).filter(({ step }) => step.kind === 'setWeight');
  if (stages.length === 0) return '';
  return stages.map(({ i }) => (d.stepRecords[i]?.outcome === 'ok' ? '▰' : '▱')).join('');
};

/** `▰▰▱ 50% · baking 3m12s left`: the one line on the announcement that says where things are. */
export function statusLine(d: Deployment, now: number): string {
  const bar = progressBar(d);
  const weight = d.newColor && d.weights ? `${d.weights[d.newColor]}% on ${d.newColor}` : '';
  const parts = [bar, weight].filter(Boolean);
  const phaseLine = PHASE_LINES[d.phase];
  if (phaseLine) return [...parts, phaseLine].join(' · ');
  const step = d.steps[d.stepIndex];
  if (!step) return parts.join(' · ');
  if (d.held) parts.push(`holding at ${d.held.weight}% (/shift by <@${d.held.by}>)`);
  if (step.kind === 'bake' || step.kind === 'monitor') {
    const started = d.stepRecords[d.stepIndex]?.startedAt !== undefined;
    const left = formatDuration(started ? waitEndsAt(d, step.seconds) - now : step.seconds * 1000);
    parts.push(`${step.kind === 'bake' ? 'baking' : 'monitoring'} ${left} left`);
    for (const r of d.lastGateRun?.readings ?? []) parts.push(`${r.name} ${r.value === undefined ? 'n/a' : formatNumber(r.value)}`);
  } else {
    parts.push(`${describeStep(step)}…`);
  }
  const detail = d.stepRecords[d.stepIndex]?.detail;
  if (detail) parts.push(escapeText(detail.split('\n')[0] ?? ''));
  return parts.join(' · ');
}
