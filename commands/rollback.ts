import type { App } from '@slack/bolt';
import type { AppContext } from '../src/app/context.js';
import { mayRollback } from '../src/domain/policy.js';
import { describeError } from '../src/errors.js';
import { escapeText } from '../views/text.js';

const USAGE = 'Usage: `/rollback &lt;service&gt; [reason…]`';

/**
 * Records a rollback of the service's active deployment, or of its most recent one when that
 * one completed, and wakes the worker; the worker preempts whatever step is running. Returns
 * the sentence to tell the person who asked.
 */
export async function requestRollback(ctx: AppContext, service: string, user: string, reason: string): Promise<string> {
  const intent = { by: user, at: ctx.clock(), reason };
  const active = await ctx.store.active(service);
  if (active) {
    if (active.phase === 'awaiting-approval') {
      return `${service} ${active.version} is still awaiting approval, so nothing was deployed; a release manager can Reject it.`;
    }
    const { won, finished, decision } = await ctx.store.requestRollback(active, intent);
    if (!finished) {
      if (!won) return `${service} ${active.version} is already being rolled back (asked by <@${decision.by}>).`;
      await ctx.store.appendEvent(active.id, { at: intent.at, actor: user, type: 'rollback-requested', detail: reason });
      await ctx.queue.wake(active.id);
      return `↩️ Rolling back ${service} ${active.version}: ${escapeText(reason)}`;
    }
  }
  const [latest] = await ctx.store.history(service, 1);
  if (!latest) return `${service} has no deployment to roll back.`;
  if (latest.phase !== 'succeeded') return `${service} has nothing to roll back: its last deployment (${latest.version}) ${latest.phase === 'rolled-back' ? 'was already rolled back' : `ended ${latest.phase}`}.`;
  const reopened = await ctx.store.reopenForRollback(latest, intent);
  if (!reopened) return `${service} ${latest.version} is already being rolled back, or another deployment just started.`;
  await ctx.store.appendEvent(latest.id, { at: intent.at, actor: user, type: 'rollback-requested', detail: reason });
  await ctx.queue.addRollback(latest.id, reopened.fence);
  return `↩️ Rolling back ${service} ${latest.version} to ${latest.previousVersion ?? 'the previous version'}: ${escapeText(reason)}`;
}

export function registerRollback(app: App, ctx: AppContext): void {
  app.command('/rollback', async ({ command, ack, respond }) => {
    const [name, ...words] = command.text.trim().split(/\s+/).filter(Boolean);
    const service = name && Object.hasOwn(ctx.catalog.services, name) ? ctx.catalog.services[name] : undefined;
    if (!name || !service) {
      const known = Object.keys(ctx.catalog.services).join(', ');
      await ack({ response_type: 'ephemeral', text: `:warning: ${name ? `unknown service \`${escapeText(name.slice(0, 40))}\`` : 'name a service'}; known services: ${known}. ${USAGE}` });
      return;
    }
    if (!mayRollback(ctx.catalog, service, command.user_id)) {
      await ack({ response_type: 'ephemeral', text: `:no_entry: you may not roll back ${name}: deployers, release managers and on-call may` });
      return;
    }
    await ack();
    try {
      const reason = words.join(' ').slice(0, 500) || 'manual rollback';
      await respond({ response_type: 'ephemeral', text: await requestRollback(ctx, name, command.user_id, reason) });
    } catch (error) {
      ctx.log.error({ err: error, service: name }, 'rollback request failed');
      await respond({ response_type: 'ephemeral', text: `:warning: could not request the rollback of ${name}: ${describeError(error)}` });
    }
  });
}
