import type { ApprovalRule } from '../src/domain/approval.js';
import { durationMs, type Deployment, type Strategy } from '../src/domain/deployment.js';
import { hasAnyGate, type GateConfig } from '../src/domain/gates.js';
import { describeStep, formatDuration, type Step } from '../src/domain/steps.js';
import { statusLine } from './status-line.js';
import { mention, quote, slackDate } from './text.js';

/** Everyone whose approval counted (records from before approval rules: the one approver). */
const approvedBy = (d: Deployment): string =>
  (d.approvals?.length ? d.approvals.map((a) => a.by) : d.approver ? [d.approver] : []).map(mention).join(', ');

/** The link to a deployment's thread, as Slack gave it; none until the outbox has it. */
export const threadLink = (d: Deployment): string => (d.announcementLink ? ` · <${d.announcementLink}|thread>` : '');

/**
 * Where an active deployment stands beyond its status line: the step it is at, the weights the
 * load balancer was last verified to hold, and how old the last gate readings are.
 */
export function progressDetail(d: Deployment, now: number): string {
  if (d.phase === 'awaiting-approval') return `waiting for a release manager since ${slackDate(d.requestedAt)}`;
  if (d.phase === 'queued')
    return `requested ${slackDate(d.requestedAt)}${d.approvedAt === undefined ? '' : ` · approved by ${approvedBy(d)}`}`;
  const parts: string[] = [];
  const step = d.steps[d.stepIndex];
  if (step) parts.push(`step ${d.stepIndex + 1}/${d.steps.length}: ${describeStep(step)}`);
  if (d.weights && d.liveColor && d.newColor)
    parts.push(`weights ${d.liveColor} ${d.weights[d.liveColor]}% / ${d.newColor} ${d.weights[d.newColor]}%`);
  if (d.lastGateRun) parts.push(`gates ${d.lastGateRun.outcome} ${formatDuration(now - d.lastGateRun.at)} ago`);
  if (approvedBy(d)) parts.push(`approved by ${approvedBy(d)}`);
  return parts.join(' · ');
}

/** `2, and 1 queued or scheduled`: the deployments holding a lock, and those waiting for one. */
export function activeCount(active: Deployment[]): string {
  const waiting = active.filter((d) => d.phase === 'queued').length;
  return `${active.length - waiting}${waiting > 0 ? `, and ${waiting} queued or scheduled` : ''}`;
}

/**
 * `/deploy status`: per active deployment, its status line, its step and weights, and its thread;
 * `namesEnvironments` (a catalog with environments) puts each one's environment first.
 */
export function statusReport(active: Deployment[], now: number, namesEnvironments = false): string {
  if (active.length === 0) return 'No active deployments.';
  return [
    `*Active deployments* (${activeCount(active)})`,
    ...active.map(
      (d) =>
        `• ${namesEnvironments ? `[${d.environment}] ` : ''}*${d.service}* \`${d.version}\` (${d.strategy}${d.hotfix ? ', HOTFIX' : ''}) by <@${d.requester}>: ${statusLine(d, now)}${threadLink(d)}\n    ${progressDetail(d, now)}`,
    ),
  ].join('\n');
}

export const OUTCOMES: Partial<Record<Deployment['phase'], string>> = {
  succeeded: '✅ succeeded',
  'rolled-back': '⚠️ rolled back',
  failed: '❌ failed',
  rejected: '🚫 rejected',
  expired: '⌛ expired',
  cancelled: '🚫 cancelled',
};

/** `/deploy history <service> [<environment>] [n]`: newest first; `environment` is named when given. */
export function historyReport(service: string, deployments: Deployment[], now: number, environment?: string): string {
  const where = environment === undefined ? '' : ` in ${environment}`;
  if (deployments.length === 0) return `No deployments of ${service}${where} yet.`;
  return [
    `*Last ${deployments.length} deployments of ${service}${where}*`,
    ...deployments.map((d) => {
      const outcome = OUTCOMES[d.phase] ?? `▶ ${d.phase}`;
      const reason = d.rollbackReason ?? d.failureReason ?? d.rejectReason;
      return `• \`${d.version}\` by <@${d.requester}>${approvedBy(d) ? `, approved by ${approvedBy(d)}` : ''}: ${outcome} in ${formatDuration(durationMs(d, now))}${reason ? ` (${quote(reason, 300)})` : ''} · ${slackDate(d.requestedAt)}${threadLink(d)}`;
    }),
  ].join('\n');
}

/** What a dry run shows: one deployment's plan, as the runbook makes it. */
export interface DryRun {
  service: string;
  /** Named where the catalog has environments. */
  environment?: string;
  version: string;
  strategy: Strategy;
  workload: { namespace: string; deployments: Record<string, string>; image: string };
  steps: Step[];
  gates: GateConfig;
  hooks: { preDeploy: { name: string }[]; postDeploy: { name: string }[] };
  /** Seconds of bakes and monitoring in `steps`. */
  expectedSeconds: number;
  /** Who must approve (empty: `approval: none`). */
  approvalRules: ApprovalRule[];
}

/** `1 release manager (<@U0RM1>, <@U0RM2>), 1 tech lead (<!subteam^S0LEADS>)` */
const approvalPlan = (rules: readonly ApprovalRule[]): string =>
  rules.length === 0
    ? 'no approval needed'
    : `approval by ${rules.map((r) => `${r.count} ${quote(r.name, 75)} (${r.from.map(mention).join(', ')})`).join(', ')}`;

/** `/deploy … dry-run`: the plan, without acting (seed 004: "deployment scripts tested (dry run)"). */
export function planReport(plan: DryRun): string {
  const { service: name, version, strategy, workload, steps, gates, hooks } = plan;
  const where = plan.environment === undefined ? '' : ` in ${plan.environment}`;
  const lines = [
    `*Dry run: ${name} \`${version}\` (${strategy})${where}*: nothing will change.`,
    strategy === 'rolling'
      ? `Workload: ${workload.namespace}/${Object.values(workload.deployments).join(', ')} gets \`${workload.image}:${version}\``
      : `Colours: the live colour (weight 100 on the load balancer) stays as the rollback target; the idle one gets \`${workload.image}:${version}\``,
    '*Steps:*',
    ...steps.map((step, i) => `${i + 1}. ${describeStep(step)}`),
    `*Gates:* every ${gates.intervalSeconds}s, ${gates.failureLimit} breach(es) tolerated, ${gates.inconclusiveLimit} inconclusive in a row pauses`,
    ...gates.metrics.map(
      (m) =>
        `• ${m.name}: \`${m.query}\` ${m.max !== undefined ? `≤ ${m.max}` : ''}${m.min !== undefined ? ` ≥ ${m.min}` : ''}${m.maxOverBaseline ? ` vs baseline${m.maxOverBaseline.ratio ? ` ×${m.maxOverBaseline.ratio}` : ''}${m.maxOverBaseline.delta !== undefined ? ` +${m.maxOverBaseline.delta}` : ''}` : ''}`,
    ),
    ...(gates.logs ?? []).map((l) => `• ${l.name}: \`${l.query}\` ≤ ${l.max} logs in ${l.windowSeconds}s`),
    ...(gates.slos ?? []).map((o) => `• ${o.name}: SLO \`${o.id}\` error budget remaining ≥ ${o.minBudgetRemaining}%`),
    ...(gates.monitors
      ? [
          `• monitors tagged ${gates.monitors.tags.join(', ')} with priority ${gates.monitors.priorities.join('/')} must not alert`,
        ]
      : []),
    ...(!hasAnyGate(gates) ? ['• none configured'] : []),
    `*Hooks:* ${[...hooks.preDeploy.map((h) => `pre ${h.name}`), ...hooks.postDeploy.map((h) => `post ${h.name}`)].join(', ') || 'none'}`,
    `*Expected duration:* ~${formatDuration(plan.expectedSeconds * 1000)} plus rollout time · ${approvalPlan(plan.approvalRules)}`,
  ];
  return lines.join('\n');
}
