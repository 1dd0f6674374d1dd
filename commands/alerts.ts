import type { App, BlockAction, ButtonAction, Context } from '@slack/bolt';
import type { AppContext } from '../src/app/context.js';
import type { Deployment } from '../src/domain/deployment.js';
import { membersOf } from '../src/app/workspace-guard.js';
import {
  ACKNOWLEDGE_ACTION,
  ALERT_BLOCK_IDS,
  pausedAlertKey,
  POST_WINDOW_ALERT_KEY,
  RESUME_ACTION,
  ROLLBACK_NOW_ACTION,
} from '../views/alerts.js';
import { context, section } from '../views/text.js';
import { rollbackPermission, type OnCallDirectory } from './on-call.js';
import { notCurrent, rollBackDeployment } from './rollback.js';
import { tellUser } from './tell-user.js';

type ButtonBody = BlockAction<ButtonAction>;

/** The buttons on on-call alerts: Roll back now, Acknowledge, and Resume for a paused deployment. */
export function registerAlertButtons(app: App, ctx: AppContext, onCall: OnCallDirectory): void {
  const allowed = async (body: ButtonBody, id: string, context: Context) => {
    const d = await ctx.store.get(id);
    const service = d ? ctx.catalog.services[d.service] : undefined;
    if (!d || !service) return { refusal: 'This deployment no longer exists.' };
    const permission = await rollbackPermission(ctx, onCall, service, body.user.id, membersOf(context));
    if (!permission.allowed) {
      return {
        refusal: `Only ${d.service}'s deployers, release managers and on-call may do that${permission.because ? ` (${permission.because})` : ''}.`,
      };
    }
    // A button acts on the deployment it belongs to, never on a newer one.
    const stale = await notCurrent(ctx, d);
    if (stale) return { refusal: stale };
    return { d };
  };
  const tell = async (body: ButtonBody, text: string) => {
    const channel = body.channel?.id ?? body.container?.channel_id;
    await tellUser(app.client, ctx.log, { channel, user: body.user.id, text });
  };
  /**
   * The outbox key of the alert a button is on: the one the worker posted it under when the
   * pressed message is that one, so the worker, once the deployment ends, sees it answered and
   * leaves it as it reads; otherwise a key of its own.
   */
  const alertKey = async (body: ButtonBody, d: Deployment, ts: string): Promise<string> => {
    const block = body.actions[0]?.block_id;
    const key =
      block === ALERT_BLOCK_IDS.postWindow
        ? POST_WINDOW_ALERT_KEY
        : block === ALERT_BLOCK_IDS.paused
          ? pausedAlertKey(d.pausedAt)
          : undefined;
    return key && (await ctx.store.postedTs(d.id, key)) === ts ? key : `alert:${ts}`;
  };
  /**
   * Replaces the alert's buttons with who pressed what, so nobody presses them twice; the
   * outbox, which posted the alert, makes the edit.
   */
  const settle = async (body: ButtonBody, d: Deployment, line: string) => {
    const channel = body.channel?.id ?? body.container?.channel_id;
    const message = body.message;
    if (!channel || !message?.ts) return;
    const kept = ((message.blocks ?? []) as Record<string, unknown>[]).filter((b) => b.type !== 'actions');
    await ctx.outbox
      .edit({
        deploymentId: d.id,
        key: await alertKey(body, d, message.ts),
        channel,
        ts: message.ts,
        text: String(message.text ?? ''),
        blocks: [...(kept.length ? kept : [section(String(message.text ?? ''))]), context(line)],
      })
      .catch((error: unknown) => ctx.log.warn({ err: error }, 'could not update the alert'));
  };

  /** A press by someone allowed to act on the alert's own deployment; anyone else is told why not. */
  const onPress = (actionId: string, act: (d: Deployment, body: ButtonBody) => Promise<void>) =>
    app.action<ButtonBody>(actionId, async ({ ack, body, action, context }) => {
      await ack();
      const checked = await allowed(body, action.value ?? '', context);
      if ('refusal' in checked) return tell(body, `:no_entry: ${checked.refusal}`);
      await act(checked.d, body);
    });

  onPress(ROLLBACK_NOW_ACTION, async (d, body) => {
    const outcome = await rollBackDeployment(ctx, d, body.user.id, `Roll back now pressed by on-call alert`);
    await settle(body, d, `↩️ <@${body.user.id}> pressed Roll back now`);
    await tell(body, outcome);
  });

  onPress(ACKNOWLEDGE_ACTION, async (d, body) => {
    await ctx.store.appendEvent(d.id, { at: ctx.clock(), actor: body.user.id, type: 'alert-acknowledged' });
    await ctx.pager?.resolve(d, 'breach', 'post-window');
    await settle(body, d, `👀 Acknowledged by <@${body.user.id}>: no rollback`);
  });

  onPress(RESUME_ACTION, async (d, body) => {
    if (d.phase !== 'paused') return tell(body, `${d.service} ${d.version} is ${d.phase}, not paused.`);
    await ctx.store.requestResume(d.id, { by: body.user.id, at: ctx.clock() });
    await ctx.store.appendEvent(d.id, { at: ctx.clock(), actor: body.user.id, type: 'resume-requested' });
    await ctx.queue.wake(d.id);
    await settle(body, d, `▶️ Resumed by <@${body.user.id}>`);
  });
}
