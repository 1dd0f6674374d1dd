import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { AppContext } from '../src/app/context.js';
import { ACKNOWLEDGE_ACTION, RESUME_ACTION, ROLLBACK_NOW_ACTION } from '../views/alerts.js';
import { context, section } from '../views/text.js';
import { rollbackPermission, type OnCallDirectory } from './on-call.js';
import { requestRollback } from './rollback.js';

type ButtonBody = BlockAction<ButtonAction>;

/** The buttons on on-call alerts: Roll back now, Acknowledge, and Resume for a paused deployment. */
export function registerAlertButtons(app: App, ctx: AppContext, onCall: OnCallDirectory): void {
  const allowed = async (body: ButtonBody, id: string) => {
    const d = await ctx.store.get(id);
    const service = d ? ctx.catalog.services[d.service] : undefined;
    if (!d || !service) return { refusal: 'This deployment no longer exists.' };
    const permission = await rollbackPermission(ctx, onCall, service, body.user.id);
    if (!permission.allowed) {
      return {
        refusal: `Only ${d.service}'s deployers, release managers and on-call may do that${permission.because ? ` (${permission.because})` : ''}.`,
      };
    }
    return { d };
  };
  const tell = async (body: ButtonBody, text: string) => {
    const channel = body.channel?.id ?? body.container?.channel_id;
    if (channel)
      await app.client.chat
        .postEphemeral({ channel, user: body.user.id, text })
        .catch((error: unknown) => ctx.log.warn({ err: error }, 'could not send an ephemeral reply'));
  };
  /**
   * Replaces the alert's buttons with who pressed what, so nobody presses them twice; the
   * outbox, which posted the alert, makes the edit.
   */
  const settle = async (body: ButtonBody, deploymentId: string, line: string) => {
    const channel = body.channel?.id ?? body.container?.channel_id;
    const message = body.message;
    if (!channel || !message?.ts) return;
    const kept = ((message.blocks ?? []) as Record<string, unknown>[]).filter((b) => b.type !== 'actions');
    await ctx.outbox
      .edit({
        deploymentId,
        key: `alert:${message.ts}`,
        channel,
        ts: message.ts,
        text: String(message.text ?? ''),
        blocks: [...(kept.length ? kept : [section(String(message.text ?? ''))]), context(line)],
      })
      .catch((error: unknown) => ctx.log.warn({ err: error }, 'could not update the alert'));
  };

  app.action<ButtonBody>(ROLLBACK_NOW_ACTION, async ({ ack, body, action }) => {
    await ack();
    const checked = await allowed(body, action.value ?? '');
    if ('refusal' in checked) return tell(body, `:no_entry: ${checked.refusal}`);
    const outcome = await requestRollback(
      ctx,
      checked.d.service,
      body.user.id,
      `Roll back now pressed by on-call alert`,
    );
    await settle(body, checked.d.id, `↩️ <@${body.user.id}> pressed Roll back now`);
    await tell(body, outcome);
  });

  app.action<ButtonBody>(ACKNOWLEDGE_ACTION, async ({ ack, body, action }) => {
    await ack();
    const checked = await allowed(body, action.value ?? '');
    if ('refusal' in checked) return tell(body, `:no_entry: ${checked.refusal}`);
    await ctx.store.appendEvent(checked.d.id, { at: ctx.clock(), actor: body.user.id, type: 'alert-acknowledged' });
    await settle(body, checked.d.id, `👀 Acknowledged by <@${body.user.id}>: no rollback`);
  });

  app.action<ButtonBody>(RESUME_ACTION, async ({ ack, body, action }) => {
    await ack();
    const checked = await allowed(body, action.value ?? '');
    if ('refusal' in checked) return tell(body, `:no_entry: ${checked.refusal}`);
    if (checked.d.phase !== 'paused')
      return tell(body, `${checked.d.service} ${checked.d.version} is ${checked.d.phase}, not paused.`);
    await ctx.store.requestResume(checked.d.id, { by: body.user.id, at: ctx.clock() });
    await ctx.store.appendEvent(checked.d.id, { at: ctx.clock(), actor: body.user.id, type: 'resume-requested' });
    await ctx.queue.wake(checked.d.id);
    await settle(body, checked.d.id, `▶️ Resumed by <@${body.user.id}>`);
  });
}
