import type { AppContext } from '../src/app/context.js';
import type { Deployment } from '../src/domain/deployment.js';
import { activeDeployments } from '../src/app/operator-data.js';
import { isReleaseManager } from '../src/domain/policy.js';
import { historyReport, statusReport } from '../views/reports.js';
import { escapeText, slackDate } from '../views/text.js';
import type { DeployCommand } from './deploy-text.js';
import { inEnvironment, targetEnvironment } from './environments.js';

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
  const named = ctx.catalog.environments !== undefined;
  switch (command.kind) {
    case 'status':
      return boundedStatusReport(
        await activeDeployments(
          ctx,
          command.service ? [command.service] : undefined,
          command.environment ? [command.environment] : undefined,
        ),
        now,
        undefined,
        named,
      );
    case 'history': {
      const environment = targetEnvironment(ctx.catalog, command.environment);
      return historyReport(
        command.service,
        await ctx.store.history(command.service, command.limit, environment),
        now,
        named ? environment : undefined,
      );
    }
    case 'clear': {
      const environment = targetEnvironment(ctx.catalog, command.environment);
      const what = `${command.service} ${command.version}${inEnvironment(ctx.catalog, environment)}`;
      const cleared = await ctx.store.clearBlockedVersion(command.service, command.version, environment);
      if (!cleared) return `${what} is not blocked; nothing to clear.`;
      const rolledBack = (await ctx.store.history(command.service, 50, environment)).find(
        (d) => d.version === command.version && d.phase === 'rolled-back',
      );
      if (rolledBack)
        await ctx.store.appendEvent(rolledBack.id, { at: now, actor: user, type: 'cleared', detail: command.rca });
      return `:white_check_mark: ${what} may be deployed again (RCA: ${escapeText(command.rca)}).`;
    }
    case 'freeze': {
      await ctx.store.freeze(command.scope, { reason: command.reason, by: user, at: now }, command.environment);
      const where = command.environment ? ` in ${command.environment}` : named ? ' in every environment' : '';
      const again = command.environment ? `${command.scope} ${command.environment}` : command.scope;
      return `:snowflake: ${command.scope === 'all' ? 'All services are' : `${command.scope} is`} frozen${where}: ${escapeText(command.reason)}. Rollbacks still work; \`/deploy unfreeze ${again}\` lifts it.`;
    }
    case 'unfreeze': {
      const lifted = await ctx.store.unfreeze(command.scope, command.environment);
      if (lifted)
        return `:sunny: ${command.scope} is no longer frozen${command.environment ? ` in ${command.environment}` : ''}.`;
      if (command.environment === undefined) return `${command.scope} was not frozen.`;
      const everywhere = await ctx.store.freezeOf(command.scope, command.environment);
      return everywhere && everywhere.environment === undefined && everywhere.scope === command.scope
        ? `${command.scope} is frozen in every environment, not in ${command.environment} alone; \`/deploy unfreeze ${command.scope}\` lifts it.`
        : `${command.scope} was not frozen in ${command.environment}.`;
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

export function boundedStatusReport(
  active: Deployment[],
  now: number,
  maxChars = MAX_STATUS_CHARS,
  namesEnvironments = false,
): string {
  const whole = statusReport(active, now, namesEnvironments);
  if (whole.length <= maxChars) return whole;
  const [header = ''] = whole.split('\n');
  const lines = [header];
  let length = header.length;
  for (const [i, d] of active.entries()) {
    const entry = statusReport([d], now, namesEnvironments).split('\n').slice(1).join('\n');
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

/**
 * Why the service may not be deployed to `environment` now (frozen, version blocked), if so. A
 * busy service is no reason: the deployment queues behind the active one.
 */
export async function stateRefusal(
  ctx: AppContext,
  service: string,
  version: string,
  environment = targetEnvironment(ctx.catalog, undefined),
): Promise<string | undefined> {
  const where = inEnvironment(ctx.catalog, environment);
  const freeze = await ctx.store.freezeOf(service, environment);
  if (freeze) {
    return `${freeze.scope === 'all' ? 'all services are' : `${service} is`} frozen${freeze.environment ? ` in ${freeze.environment}` : ''} by <@${freeze.by}> since ${slackDate(freeze.at)}: ${escapeText(freeze.reason)}`;
  }
  const blocked = await ctx.store.blockedVersion(service, version, environment);
  if (blocked) {
    const clear = `/deploy clear ${service} ${version}${ctx.catalog.environments ? ` ${environment}` : ''} &lt;RCA link&gt;`;
    return `${service} ${version} was rolled back${where} (${escapeText(blocked.reason)}) and needs its root cause found first; a release manager lifts the block with \`${clear}\``;
  }
  return undefined;
}
