import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { AppContext } from '../src/app/context.js';
import type { Decision, Deployment } from '../src/domain/deployment.js';
import { decisionRefusal } from '../src/domain/policy.js';
import {
  APPROVE_ACTION,
  currentAnnouncement,
  REASON_BLOCK,
  REJECT_ACTION,
  REJECT_CALLBACK,
  rejectModal,
} from '../views/announcement.js';

const REFUSALS = {
  'not-release-manager': 'Only a release manager can approve or reject a deployment.',
  'own-deployment': 'You requested this deployment; another release manager has to decide on it.',
} as const;

const decided = (decision: Decision): string =>
  `This deployment was already ${decision.kind === 'approve' ? 'approved' : decision.kind === 'reject' ? 'rejected' : 'expired'}${decision.kind === 'expire' ? '' : ` by <@${decision.by}>`}.`;

/** Who may press the button, and whether there is still something to decide. */
async function checkDecider(
  ctx: AppContext,
  id: string,
  user: string,
): Promise<{ d: Deployment } | { refusal: string }> {
  const d = await ctx.store.get(id);
  if (!d) return { refusal: 'This deployment no longer exists.' };
  const refusal = decisionRefusal(ctx.catalog, d, user);
  if (refusal) return { refusal: REFUSALS[refusal] };
  const intents = await ctx.store.intents(id);
  if (intents.decision) return { refusal: decided(intents.decision) };
  if (d.phase !== 'awaiting-approval') return { refusal: `This deployment is ${d.phase}; there is nothing to decide.` };
  return { d };
}

/** Records the decision once (HSETNX); a refusal when another decision came first. */
async function decide(ctx: AppContext, d: Deployment, decision: Decision): Promise<string | undefined> {
  const { won, decision: standing } = await ctx.store.decide(d.id, decision);
  return won ? undefined : decided(standing);
}

/**
 * Logs the decision, has the outbox replace the buttons with who decided and when (its next
 * edit of the announcement, which it alone writes), and wakes the worker.
 */
async function publishDecision(ctx: AppContext, d: Deployment, decision: Decision): Promise<void> {
  await ctx.store.appendEvent(d.id, {
    at: decision.at,
    actor: decision.by,
    type: `${decision.kind}-recorded`,
    detail: decision.reason,
  });
  const { changes } = await ctx.store.intents(d.id);
  const message = currentAnnouncement(d, ctx.catalog.slack.onCall, decision.at, decision, changes);
  await ctx.outbox
    .announce({
      deploymentId: d.id,
      channel: d.channel,
      ts: d.announcementTs,
      text: message.text,
      blocks: message.blocks,
    })
    .catch((error: unknown) => ctx.log.warn({ err: error, deploymentId: d.id }, 'could not update the announcement'));
  await ctx.queue.wake(d.id);
}

const tellUser = async (ctx: AppContext, client: WebClient, body: BlockAction, text: string): Promise<void> => {
  const channel = body.channel?.id ?? body.container?.channel_id;
  if (!channel) return;
  await client.chat
    .postEphemeral({ channel, user: body.user.id, text })
    .catch((error: unknown) => ctx.log.warn({ err: error }, 'could not send an ephemeral reply'));
};

export function registerDecisions(app: App, ctx: AppContext): void {
  app.action<BlockAction<ButtonAction>>(APPROVE_ACTION, async ({ ack, body, action, client }) => {
    await ack();
    const checked = await checkDecider(ctx, action.value ?? '', body.user.id);
    if ('refusal' in checked) return tellUser(ctx, client, body, `:no_entry: ${checked.refusal}`);
    const decision: Decision = { kind: 'approve', by: body.user.id, at: ctx.clock() };
    const refusal = await decide(ctx, checked.d, decision);
    if (refusal) return tellUser(ctx, client, body, `:no_entry: ${refusal}`);
    await publishDecision(ctx, checked.d, decision);
  });

  app.action<BlockAction<ButtonAction>>(REJECT_ACTION, async ({ ack, body, action, client }) => {
    await ack();
    const checked = await checkDecider(ctx, action.value ?? '', body.user.id);
    if ('refusal' in checked) return tellUser(ctx, client, body, `:no_entry: ${checked.refusal}`);
    await client.views.open({ trigger_id: body.trigger_id, view: rejectModal(checked.d) });
  });

  app.view(REJECT_CALLBACK, async ({ ack, body, view }) => {
    const reason = (view.state.values[REASON_BLOCK]?.value?.value ?? '').trim();
    if (!reason) {
      await ack({ response_action: 'errors', errors: { [REASON_BLOCK]: 'Say why the deployment is rejected' } });
      return;
    }
    const checked = await checkDecider(ctx, view.private_metadata, body.user.id);
    if ('refusal' in checked) {
      await ack({ response_action: 'errors', errors: { [REASON_BLOCK]: checked.refusal } });
      return;
    }
    // Decide before closing the modal, so a manager who lost a race is told in it.
    const decision: Decision = { kind: 'reject', by: body.user.id, at: ctx.clock(), reason };
    const refusal = await decide(ctx, checked.d, decision);
    if (refusal) {
      await ack({ response_action: 'errors', errors: { [REASON_BLOCK]: refusal } });
      return;
    }
    await ack();
    await publishDecision(ctx, checked.d, decision);
  });
}
