import { ruleProgress, type ApprovalRecord, type RuleProgress } from '../src/domain/approval.js';
import { MAX_LISTED_COMMITS, type ChangeList, type ListedCommit } from '../src/domain/changes.js';
import type { Decision, Deployment, Intents } from '../src/domain/deployment.js';
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
  /** The commits between the live version and this one, once they were read. */
  changes?: ChangeList;
  /** Approvals counted so far toward the deployment's rules. */
  approvals?: ApprovalRecord[];
}

const ROLLBACK_PLANS: Record<Deployment['strategy'], string> = {
  'blue-green': 'Blue-green switch (instant): traffic back to the previous colour in one load balancer call',
  canary: 'Canary abort (instant): all traffic back to the stable colour in one load balancer call',
  rolling: 'Rolling undo: the previous pod template is restored (`kubectl rollout undo`)',
};

/** `<@A>`, `<@A> and <@B>`, `<@A>, <@B> and <@C>` */
const people = (ids: readonly string[]): string => {
  const mentions = ids.map(mention);
  return mentions.length <= 1 ? (mentions[0] ?? '') : `${mentions.slice(0, -1).join(', ')} and ${mentions.at(-1)}`;
};

const decisionLine = (d: Deployment, decision: Decision, approvals: readonly ApprovalRecord[]): string => {
  switch (decision.kind) {
    case 'approve':
      if (d.approvalRules?.length === 0) return `✅ No approval needed: started ${slackDate(decision.at)}`;
      return `✅ Approved by ${people(approvals.length > 0 ? approvals.map((a) => a.by) : [decision.by])} ${slackDate(decision.at)}`;
    case 'reject':
      return `🚫 Rejected by <@${decision.by}> ${slackDate(decision.at)}: ${quote(decision.reason ?? '', 1000)}`;
    case 'expire':
      return `⌛ Expired ${slackDate(decision.at)}: nobody approved it in time`;
  }
};

/** Only an address of ours or GitHub's that cannot end the link early (`|`, `>`) or start another becomes a link. */
const SAFE_URL = /^https?:\/\/[^\s<>|]+$/;
const link = (url: string, label: string): string => (SAFE_URL.test(url) ? `<${url}|${label}>` : label);
/** Keeps the section under Slack's 3,000 characters with 20 commits of long subjects. */
const MAX_SUBJECT = 90;

const commitLine = (c: ListedCommit): string => {
  const pr = c.pullRequest ? ` (${link(c.pullRequest.url, `#${c.pullRequest.number}`)})` : '';
  const subject = quote(c.subject.replace(/\s*\(#\d+\)\s*$/, ''), MAX_SUBJECT);
  return `• \`${escapeText(c.sha.slice(0, 7))}\` ${subject}${pr}${c.author ? ` — ${quote(c.author, 39)}` : ''}`;
};

/**
 * The commit list beside the requester's summary: the newest commits (each subject inert, its
 * pull request linked), how many more, and the compare page; or why it could not be read.
 * Sections of whole lines, so no link is ever cut by Slack's 3,000-character limit.
 */
function changeBlocks(changes: ChangeList): Record<string, unknown>[] {
  const range = `\`${escapeText(changes.from)}\` → \`${escapeText(changes.to)}\``;
  if (changes.kind === 'unavailable')
    return [context(`*Commits* ${range}: the list is unavailable (${quote(changes.reason, 300)})`)];
  if (changes.total === 0) return [context(`*Commits* ${range}: none`)];
  const shown = changes.commits.slice(0, MAX_LISTED_COMMITS);
  const lines = [
    `*Commits* ${range} (${link(changes.compareUrl, `${changes.total} commit${changes.total === 1 ? '' : 's'}, compare`)}):`,
    ...shown.map(commitLine),
  ];
  if (changes.total > shown.length) lines.push(`_…and ${changes.total - shown.length} more_`);
  const sections: string[] = [];
  for (const line of lines) {
    const last = sections.length - 1;
    if (last >= 0 && (sections[last] as string).length + line.length + 1 <= 3000) sections[last] += `\n${line}`;
    else sections.push(line);
  }
  return sections.map(section);
}
/** `Staging` for staging: the announcement's title names the environment. */
const titleCase = (environment: string): string => environment.charAt(0).toUpperCase() + environment.slice(1);

/**
 * One line per rule: who approved toward it and when, and how many it still needs (without
 * mentioning who may approve: the announcement would notify them all each time).
 */
const ruleLine = ({ rule, approvals, missing }: RuleProgress, withWhen: boolean): string => {
  const done = approvals.map((a) => `${mention(a.by)}${withWhen ? ` ${slackDate(a.at)}` : ''}`);
  const needs = missing > 0 ? `${done.length > 0 ? '; ' : ''}waiting for ${missing} more` : '';
  return `${missing > 0 ? '⏳' : '✅'} *${quote(rule.name, 75)}* (${approvals.length} of ${rule.count}): ${done.join(', ')}${needs}`;
};

/**
 * Each rule, who approved it and when, and what is still missing; within a section's 3,000
 * characters (without the times, then without the last rules, if it must).
 */
function approvalSection(progress: readonly RuleProgress[]): string | undefined {
  if (progress.length === 0) return undefined;
  const heading = '*Approval:*';
  for (const withWhen of [true, false]) {
    const text = [heading, ...progress.map((p) => ruleLine(p, withWhen))].join('\n');
    if (text.length <= 3000) return text;
  }
  const lines = [heading];
  for (const p of progress) {
    const line = ruleLine(p, false);
    if ([...lines, line].join('\n').length > 2990) break;
    lines.push(line);
  }
  return `${lines.join('\n')}\n…`;
}

/**
 * Seed 001's "Production Deployment Scheduled" announcement (named for the deployment's environment), with each approval rule and
 * Approve / Reject until every rule is met or someone rejects, then who decided and when;
 * the status line sits at the bottom.
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
  if (d.schedule) fields.push(`*Starts at:* ${slackDate(d.schedule.startAt)} (${escapeText(d.schedule.timezone)})`);
  const blocks: Record<string, unknown>[] = [
    section(`*${title}*`),
    section(fields.join('\n')),
    section(`*Changes:*\n${changes || '_none given_'}`),
    ...(ctx.changes ? changeBlocks(ctx.changes) : []),
  ];
  if (d.hotfix && d.justification) blocks.push(section(`*Hotfix justification:* ${quote(d.justification, 2000)}`));
  if (d.promotionSkipped) blocks.push(section(`*Promotion skipped (hotfix):* ${quote(d.promotionSkipped, 1000)}`));
  blocks.push(section(`*Rollback Plan:* ${ROLLBACK_PLANS[d.strategy]}\n*On-Call:* ${mention(ctx.onCall)}`));
  const rules = d.approvalRules ? approvalSection(ruleProgress(d.approvalRules, ctx.approvals ?? [])) : undefined;
  if (rules) blocks.push(section(rules));
  if (ctx.decision) {
    blocks.push(context(decisionLine(d, ctx.decision, ctx.approvals ?? [])));
  } else if (d.phase === 'cancelled') {
    // Withdrawn before anyone decided: the status line says who cancelled it and why.
  } else if (d.approvalRules?.length === 0) {
    blocks.push(context('No approval needed: it starts once the checklist is submitted'));
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
 * line, decision, approvals) is assembled from the record, for the bot and the worker alike.
 */
export const currentAnnouncement = (
  d: Deployment,
  onCall: string,
  now: number,
  intents: Pick<Intents, 'decision' | 'approvals' | 'changes'> = {},
) =>
  announcement(d, {
    onCall,
    expectedSeconds: expectedSeconds(d.steps),
    statusLine: statusLine(d, now),
    decision: intents.decision,
    approvals: intents.approvals ?? d.approvals,
    changes: intents.changes,
  });

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
