import type { AppContext } from '../src/app/context.js';
import type { Deployment } from '../src/domain/deployment.js';
import { isReleaseManager } from '../src/domain/policy.js';
import { escapeText } from '../views/text.js';
import { inEnvironment, targetEnvironment } from './environments.js';

export interface CancelCommand {
  service: string;
  version?: string;
  environment?: string;
}

/** What `/deploy cancel` writes on the deployment, and the announcement shows beside who did it. */
export const CANCEL_REASON = 'withdrawn with /deploy cancel before it started';

/** Not started: waiting in the queue or for its time, or holding the service still unapproved. */
const cancellable = (d: Deployment): boolean => d.phase === 'queued' || d.phase === 'awaiting-approval';

/**
 * `/deploy cancel <service> [<version>] [<environment>]`: records a cancel on the most recent
 * queued, scheduled or unapproved deployment there (of that version, when one is named), for
 * its requester or a release manager; the worker ends it and says who cancelled it. A running
 * deployment is never cancelled: `/rollback` ends it. Returns the sentence for the person.
 */
export async function cancelDeployment(ctx: AppContext, command: CancelCommand, user: string): Promise<string> {
  const environment = targetEnvironment(ctx.catalog, command.environment);
  const where = inEnvironment(ctx.catalog, environment);
  const named = command.version === undefined ? '' : ` ${command.version}`;
  const [active, queued] = await Promise.all([
    ctx.store.active(command.service, environment),
    ctx.store.queued(command.service, environment),
  ]);
  const ofVersion = (d: Deployment): boolean => command.version === undefined || d.version === command.version;
  const candidates = [...queued, ...(active ? [active] : [])].filter((d) => cancellable(d) && ofVersion(d));
  const target = candidates.sort((a, b) => b.requestedAt - a.requestedAt)[0];
  if (!target) {
    if (active && ofVersion(active))
      return `${escapeText(command.service)} ${escapeText(active.version)}${where} is ${active.phase}, not waiting: end it with \`/rollback ${escapeText(command.service)}\`, never with cancel.`;
    return `${escapeText(command.service)}${named}${where} has no queued, scheduled or unapproved deployment to cancel.`;
  }
  const what = `${escapeText(target.service)} ${escapeText(target.version)}${where}`;
  if (target.requester !== user && !isReleaseManager(ctx.catalog, user))
    return `:no_entry: you may not cancel ${what}: only <@${target.requester}>, who requested it, or a release manager can.`;
  const outcome = await ctx.store.requestCancel(target.id, { by: user, at: ctx.clock(), reason: CANCEL_REASON });
  switch (outcome) {
    case 'recorded':
      await ctx.store.appendEvent(target.id, { at: ctx.clock(), actor: user, type: 'cancel-requested' });
      await ctx.queue.wake(target.id);
      return `:no_entry_sign: Cancelling ${what}; its announcement will say so.`;
    case 'already':
      return `${what} is already being cancelled.`;
    case 'started':
      return `${what} has just started: end it with \`/rollback ${escapeText(target.service)}\`, never with cancel.`;
    case 'decided':
      return `${what} was decided meanwhile (approved, rejected or expired); if it runs, end it with \`/rollback ${escapeText(target.service)}\`.`;
    case 'gone':
      return `${what} no longer exists; nothing was cancelled.`;
    default:
      return `${what} is ${outcome}; nothing was cancelled.`;
  }
}
