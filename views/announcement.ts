import type { Decision, Deployment } from '../src/domain/deployment.js';
import { expectedSeconds, formatDuration } from '../src/domain/steps.js';
import { statusLine } from './status-line.js';
import { context, escapeText, mention, quote, section, slackDate } from './text.js';

export const APPROVE_ACTION = 'approve_deployment';
export const REJECT_ACTION = 'reject_deployment';

export interface AnnouncementContext {
  onCall: string;
  expectedSeconds: number;
  statusLine: string;
  decision?: Decision;
}

const ROLLBACK_PLANS: Record<Deployment['strategy'], string> = {
  'blue-green': 'Blue-green switch (instant): traffic back to the previous colour in one load balancer call',
  canary: 'Canary abort (instant): all traffic back to the stable colour in one load balancer call',
  rolling: 'Rolling undo: the previous pod template is restored (`kubectl rollout undo`)',
};

const decisionLine = (decision: Decision): string => {
  switch (decision.kind) {
    case 'approve':
      return `✅ Approved by <@${decision.by}> ${slackDate(decision.at)}`;
    case 'reject':
      return `🚫 Rejected by <@${decision.by}> ${slackDate(decision.at)}: ${quote(decision.reason ?? '', 1000)}`;
    case 'expire':
      return `⌛ Expired ${slackDate(decision.at)}: nobody approved it in time`;
  }
};

/** `Staging` for staging: the announcement's title names the environment. */
const titleCase = (environment: string): string => environment.charAt(0).toUpperCase() + environment.slice(1);

/**
 * Seed 001's "Production Deployment Scheduled" announcement (named for the deployment's environment), with Approve / Reject until a
 * release manager decides, then who decided and when; the status line sits at the bottom.
 */
export function announcement(d: Deployment, ctx: AnnouncementContext) {
  const title = `${d.hotfix ? '🚑 HOTFIX · ' : '🚀 '}${titleCase(d.environment)} Deployment Scheduled: ${d.service} ${d.version}`;
  const changes = d.changeSummary
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => `• ${escapeText(line.replace(/^[-*•]\s*/, ''))}`)
    .join('\n');
  const fields = [
    `*Version:* \`${d.version}\`  *Strategy:* ${d.strategy}  *Ticket:* ${quote(d.ticket, 40)}`,
    `*Time:* ${slackDate(d.requestedAt)}  *Expected duration:* ~${formatDuration(ctx.expectedSeconds * 1000)}  *Impact:* No expected downtime`,
    `*Requested by:* <@${d.requester}>  *Checklist:* ${d.checklist.length} items confirmed`,
  ];
  const blocks: Record<string, unknown>[] = [
    section(`*${title}*`),
    section(fields.join('\n')),
    section(`*Changes:*\n${changes || '_none given_'}`),
  ];
  if (d.hotfix && d.justification) blocks.push(section(`*Hotfix justification:* ${quote(d.justification, 2000)}`));
  if (d.promotionSkipped) blocks.push(section(`*Promotion skipped (hotfix):* ${quote(d.promotionSkipped, 1000)}`));
  blocks.push(section(`*Rollback Plan:* ${ROLLBACK_PLANS[d.strategy]}\n*On-Call:* ${mention(ctx.onCall)}`));
  if (ctx.decision) {
    blocks.push(context(decisionLine(ctx.decision)));
  } else {
    blocks.push({
      type: 'actions',
      block_id: 'decision',
      elements: [
        {
          type: 'button',
          action_id: APPROVE_ACTION,
          style: 'primary',
          value: d.id,
          text: { type: 'plain_text', text: 'Approve' },
        },
        {
          type: 'button',
          action_id: REJECT_ACTION,
          style: 'danger',
          value: d.id,
          text: { type: 'plain_text', text: 'Reject' },
        },
      ],
    });
  }
  blocks.push(context(`*Status:* ${ctx.statusLine}`));
  return { text: `${title} (${ctx.statusLine})`, blocks };
}

/**
 * The announcement as it reads at `now`: the one place its context (expected duration, status
 * line, decision) is assembled from the record, for the bot and the worker alike.
 */
export const currentAnnouncement = (d: Deployment, onCall: string, now: number, decision?: Decision) =>
  announcement(d, { onCall, expectedSeconds: expectedSeconds(d.steps), statusLine: statusLine(d, now), decision });

export const REJECT_CALLBACK = 'reject_reason';
export const REASON_BLOCK = 'reason';

/** Reject asks for a reason. */
export const rejectModal = (d: Deployment) => ({
  type: 'modal' as const,
  callback_id: REJECT_CALLBACK,
  private_metadata: d.id,
  title: { type: 'plain_text' as const, text: 'Reject deployment' },
  submit: { type: 'plain_text' as const, text: 'Reject' },
  close: { type: 'plain_text' as const, text: 'Cancel' },
  blocks: [
    section(`Reject *${d.service}* \`${d.version}\` requested by <@${d.requester}>?`),
    {
      type: 'input',
      block_id: REASON_BLOCK,
      label: { type: 'plain_text', text: 'Reason' },
      element: { type: 'plain_text_input', action_id: 'value', multiline: true, max_length: 1000 },
    },
  ],
});
