import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { AppContext } from '../src/app/context.js';
import {
  approvalRulesFor,
  openRules,
  ruleProgress,
  type ApprovalRecord,
  type ApprovalRule,
} from '../src/domain/approval.js';
import type { Decision, Deployment, Intents } from '../src/domain/deployment.js';
import { describeError } from '../src/errors.js';
import { ApprovalCounter } from '../src/store/approvals.js';
import {
  APPROVE_ACTION,
  currentAnnouncement,
  REASON_BLOCK,
  REJECT_ACTION,
  REJECT_CALLBACK,
  rejectModal,
} from '../views/announcement.js';
import { escapeText } from '../views/text.js';
import { userGroupDirectory, type UserGroupDirectory } from './user-groups.js';

const decided = (decision: Decision): string =>
  `This deployment was already ${decision.kind === 'approve' ? 'approved' : decision.kind === 'reject' ? 'rejected' : 'expired'}${decision.kind === 'expire' || decision.by === 'switchyard' ? '' : ` by <@${decision.by}>`}.`;

const ruleName = (rule: Pick<ApprovalRule, 'name'>): string => `*${escapeText(rule.name)}*`;

/** `a release manager or a tech lead` */
const anyOf = (rules: readonly ApprovalRule[]): string =>
  rules.map((rule) => `${/^[aeiou]/i.test(rule.name) ? 'an' : 'a'} ${escapeText(rule.name)}`).join(' or ');

/** `*tech lead* (0 of 1), *DevOps* (1 of 2)` */
const stillOpen = (rules: readonly ApprovalRule[], approvals: readonly ApprovalRecord[]): string =>
  openRules(ruleProgress(rules, approvals))
    .map((p) => `${ruleName(p.rule)} (${p.approvals.length} of ${p.rule.count})`)
    .join(', ');

/** The rules a deployment needs: those fixed on its record, or the catalog's for a record from before rules. */
const rulesOf = (ctx: AppContext, d: Deployment): ApprovalRule[] =>
  d.approvalRules ?? approvalRulesFor(ctx.catalog, d.service, d.environment);

/** For each rule, whether `user` belongs to it: named, or a member of a user group it names. */
async function memberships(groups: UserGroupDirectory, rules: readonly ApprovalRule[], user: string) {
  const named = rules.map((rule) => rule.from.includes(user));
  const groupIds = [
    ...new Set(rules.flatMap((rule, i) => (named[i] ? [] : rule.from.filter((id) => id.startsWith('S'))))),
  ];
  const members = new Map(await Promise.all(groupIds.map(async (id) => [id, await groups.members(id)] as const)));
  return rules.map((rule, i) => named[i] || rule.from.some((id) => members.get(id)?.has(user) === true));
}

interface Decider {
  d: Deployment;
  rules: ApprovalRule[];
  /** Whether the user belongs to each rule. */
  memberOf: boolean[];
}

/**
 * Who may press the button, and whether there is still something to decide: anyone a rule
 * names (directly or through a user group) except the requester, while the deployment awaits
 * its approvals.
 */
async function checkDecider(
  ctx: AppContext,
  groups: UserGroupDirectory,
  id: string,
  user: string,
): Promise<Decider | { refusal: string }> {
  const d = await ctx.store.get(id);
  if (!d) return { refusal: 'This deployment no longer exists.' };
  const rules = rulesOf(ctx, d);
  if (rules.length === 0) return { refusal: 'This deployment needs no approval; there is nothing to decide.' };
  let memberOf: boolean[];
  try {
    memberOf = await memberships(groups, rules, user);
  } catch (error) {
    ctx.log.warn({ err: error, deploymentId: id }, 'could not look up the user groups of the approval rules');
    return {
      refusal: `Slack did not say who is in the approval rules' user groups (${escapeText(describeError(error))}), so nothing was counted; try again.`,
    };
  }
  if (!memberOf.some(Boolean)) return { refusal: `Only ${anyOf(rules)} can approve or reject this deployment.` };
  if (d.requester === user)
    return { refusal: 'You requested this deployment: you can neither approve nor reject it; someone else has to.' };
  const intents = await ctx.store.intents(id);
  if (intents.decision) return { refusal: decided(intents.decision) };
  // A queued deployment may be approved while it waits for its turn or its time.
  if (d.phase !== 'awaiting-approval' && d.phase !== 'queued')
    return { refusal: `This deployment is ${d.phase}; there is nothing to decide.` };
  return { d, rules, memberOf };
}

/** What the announcement shows of the approval; equal snapshots render the same. */
const approvalState = (intents: Intents): string =>
  JSON.stringify({ decision: intents.decision, approvals: intents.approvals });

/** Renders after a stale render would leave an older count on the message: bounded, in case presses keep coming. */
const MAX_RENDERS = 5;

/**
 * Has the outbox (the announcement's one writer) show the approvals and decision as they are
 * now. Each edit replaces the one before, so a press whose render was overtaken by a later
 * one renders again until what it sent is still current: the last edit always shows the
 * last count.
 */
async function showApproval(ctx: AppContext, d: Deployment): Promise<void> {
  let intents = await ctx.store.intents(d.id);
  for (let render = 0; render < MAX_RENDERS; render += 1) {
    const message = currentAnnouncement(d, ctx.catalog.slack.onCall, ctx.clock(), intents);
    await ctx.outbox.announce({
      deploymentId: d.id,
      channel: d.channel,
      ts: d.announcementTs,
      text: message.text,
      blocks: message.blocks,
    });
    const now = await ctx.store.intents(d.id);
    if (approvalState(now) === approvalState(intents)) return;
    intents = now;
  }
}

/** Records a rejection once (HSETNX); a refusal when a decision came first. */
async function reject(ctx: AppContext, d: Deployment, decision: Decision): Promise<string | undefined> {
  const { won, decision: standing } = await ctx.store.decide(d.id, decision);
  return won ? undefined : decided(standing);
}

const tellUser = async (ctx: AppContext, client: WebClient, body: BlockAction, text: string): Promise<void> => {
  const channel = body.channel?.id ?? body.container?.channel_id;
  if (!channel) return;
  await client.chat
    .postEphemeral({ channel, user: body.user.id, text })
    .catch((error: unknown) => ctx.log.warn({ err: error }, 'could not send an ephemeral reply'));
};

/** Updates the announcement and, once decided, wakes the worker; a failed update is logged, not fatal. */
async function publish(ctx: AppContext, d: Deployment, decided: boolean): Promise<void> {
  await showApproval(ctx, d).catch((error: unknown) =>
    ctx.log.warn({ err: error, deploymentId: d.id }, 'could not update the announcement'),
  );
  if (decided) await ctx.queue.wake(d.id);
}

export function registerDecisions(app: App, ctx: AppContext): void {
  const counter = new ApprovalCounter(ctx.redis, ctx.store.prefix);
  const groups = userGroupDirectory(app.client, ctx.clock);

  app.action<BlockAction<ButtonAction>>(APPROVE_ACTION, async ({ ack, body, action, client }) => {
    await ack();
    const user = body.user.id;
    const checked = await checkDecider(ctx, groups, action.value ?? '', user);
    if ('refusal' in checked) return tellUser(ctx, client, body, `:no_entry: ${checked.refusal}`);
    const { d, rules, memberOf } = checked;
    // The count is atomic in Redis: two presses at once are counted one after the other.
    const outcome = await counter.approve(d.id, user, rules, memberOf, ctx.clock());
    switch (outcome.kind) {
      case 'decided':
        return tellUser(ctx, client, body, `:no_entry: ${decided(outcome.decision)}`);
      case 'already-counted': {
        const mine = outcome.approvals.find((a) => a.by === user);
        const open = stillOpen(rules, outcome.approvals);
        return tellUser(
          ctx,
          client,
          body,
          `:information_source: Your approval already counts${mine ? ` toward ${ruleName({ name: mine.rule })}` : ''}; nothing changed.${open ? ` Still open: ${open}.` : ''}`,
        );
      }
      case 'no-open-rule':
        return tellUser(
          ctx,
          client,
          body,
          `:no_entry: Your approval is not needed: the rules you belong to are met. Still open: ${stillOpen(rules, outcome.approvals)}.`,
        );
      case 'counted':
        return publish(ctx, d, outcome.complete);
    }
  });

  app.action<BlockAction<ButtonAction>>(REJECT_ACTION, async ({ ack, body, action, client }) => {
    await ack();
    const checked = await checkDecider(ctx, groups, action.value ?? '', body.user.id);
    if ('refusal' in checked) return tellUser(ctx, client, body, `:no_entry: ${checked.refusal}`);
    await client.views.open({ trigger_id: body.trigger_id, view: rejectModal(checked.d) });
  });

  app.view(REJECT_CALLBACK, async ({ ack, body, view }) => {
    const reason = (view.state.values[REASON_BLOCK]?.value?.value ?? '').trim();
    if (!reason) {
      await ack({ response_action: 'errors', errors: { [REASON_BLOCK]: 'Say why the deployment is rejected' } });
      return;
    }
    const checked = await checkDecider(ctx, groups, view.private_metadata, body.user.id);
    if ('refusal' in checked) {
      await ack({ response_action: 'errors', errors: { [REASON_BLOCK]: checked.refusal } });
      return;
    }
    // Decide before closing the modal, so someone who lost a race is told in it.
    const decision: Decision = { kind: 'reject', by: body.user.id, at: ctx.clock(), reason };
    const refusal = await reject(ctx, checked.d, decision);
    if (refusal) {
      await ack({ response_action: 'errors', errors: { [REASON_BLOCK]: refusal } });
      return;
    }
    await ack();
    await ctx.store.appendEvent(checked.d.id, {
      at: decision.at,
      actor: decision.by,
      type: 'reject-recorded',
      detail: decision.reason,
    });
    await publish(ctx, checked.d, true);
  });
}
