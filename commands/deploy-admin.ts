import type { AppContext } from '../src/app/context.js';
import type { Deployment } from '../src/domain/deployment.js';
import { activeDeployments } from '../src/app/operator-data.js';
import { isReleaseManager } from '../src/domain/policy.js';
import { historyReport, statusReport, threadLink } from '../views/reports.js';
import { escapeText, slackDate } from '../views/text.js';
import type { DeployCommand } from './deploy-text.js';

type AdminCommand = Extract<DeployCommand, { kind: 'status' | 'history' | 'clear' | 'freeze' | 'unfreeze' }>;

const RELEASE_MANAGER_ONLY: ReadonlySet<AdminCommand['kind']> = new Set(['clear', 'freeze', 'unfreeze']);

/** Who may run the subcommand; undefined when allowed. */
export const adminRefusal = (ctx: AppContext, command: AdminCommand, user: string): string | undefined =>
  RELEASE_MANAGER_ONLY.has(command.kind) && !isReleaseManager(ctx.catalog, user)
    ? `only a release manager can ${command.kind}`
    : undefined;

/** `/deploy status | history | clear | freeze | unfreeze`: reads and records, the answer's text. */
export async function runAdminCommand(ctx: AppContext, command: AdminCommand, user: string): Promise<string> {
  const now = ctx.clock();
  switch (command.kind) {
    case 'status':
      return boundedStatusReport(await activeDeployments(ctx, command.service ? [command.service] : undefined), now);
    case 'history':
      return historyReport(command.service, await ctx.store.history(command.service, command.limit), now);
    case 'clear': {
      const cleared = await ctx.store.clearBlockedVersion(command.service, command.version);
      if (!cleared) return `${command.service} ${command.version} is not blocked; nothing to clear.`;
      const rolledBack = (await ctx.store.history(command.service, 50)).find(
        (d) => d.version === command.version && d.phase === 'rolled-back',
      );
      if (rolledBack)
        await ctx.store.appendEvent(rolledBack.id, { at: now, actor: user, type: 'cleared', detail: command.rca });
      return `:white_check_mark: ${command.service} ${command.version} may be deployed again (RCA: ${escapeText(command.rca)}).`;
    }
    case 'freeze':
      await ctx.store.freeze(command.scope, { reason: command.reason, by: user, at: now });
      return `:snowflake: ${command.scope === 'all' ? 'All services are' : `${command.scope} is`} frozen: ${escapeText(command.reason)}. Rollbacks still work; \`/deploy unfreeze ${command.scope}\` lifts it.`;
    case 'unfreeze': {
      const lifted = await ctx.store.unfreeze(command.scope);
      return lifted ? `:sunny: ${command.scope} is no longer frozen.` : `${command.scope} was not frozen.`;
    }
  }
}

/**
 * Slack refuses a message text over 40,000 characters (`msg_too_long`); the answer stays under
 * it with room to spare. It is text only, so Block Kit's 50 blocks do not apply.
 */
export const MAX_STATUS_CHARS = 39_000;

/**
 * `/deploy status` for any number of active deployments: as many entries as fit, then
 * "… and N more" naming how many were left out.
 */
const andMore = (n: number): string => `… and ${n} more (\`/deploy status &lt;service&gt;\` shows one service)`;

export function boundedStatusReport(active: Deployment[], now: number, maxChars = MAX_STATUS_CHARS): string {
  const whole = statusReport(active, now);
  if (whole.length <= maxChars) return whole;
  const [header = ''] = whole.split('\n');
  const lines = [header];
  let length = header.length;
  for (const [i, d] of active.entries()) {
    const entry = statusReport([d], now).split('\n').slice(1).join('\n');
    // Keep room for the closing line in case the next entry does not fit.
    if (length + 1 + entry.length + 1 + andMore(active.length - i - 1).length > maxChars) {
      lines.push(andMore(active.length - i));
      return lines.join('\n');
    }
    lines.push(entry);
    length += 1 + entry.length;
  }
  return lines.join('\n');
}

/** Why the service may not be deployed now (frozen, busy, version blocked), if so. */
export async function stateRefusal(ctx: AppContext, service: string, version: string): Promise<string | undefined> {
  const freeze = await ctx.store.freezeOf(service);
  if (freeze) {
    return `${freeze.scope === 'all' ? 'all services are' : `${service} is`} frozen by <@${freeze.by}> since ${slackDate(freeze.at)}: ${escapeText(freeze.reason)}`;
  }
  const active = await ctx.store.active(service);
  if (active) {
    const link = active.announcementTs ? `, see ${threadLink(active.channel, active.announcementTs)}` : '';
    return `${service} already has an active deployment: ${active.version} by <@${active.requester}> (${active.phase})${link}`;
  }
  const blocked = await ctx.store.blockedVersion(service, version);
  if (blocked) {
    return `${service} ${version} was rolled back (${escapeText(blocked.reason)}) and needs its root cause found first; a release manager lifts the block with \`/deploy clear ${service} ${version} &lt;RCA link&gt;\``;
  }
  return undefined;
}
