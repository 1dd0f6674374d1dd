import type { App } from '@slack/bolt';
import { randomBytes } from 'node:crypto';
import { afterPendingAcks } from '../src/app/ack-lane.js';
import type { AppContext } from '../src/app/context.js';
import { windowRefusal } from '../src/domain/deploy-window.js';
import { deployRight } from '../src/domain/policy.js';
import { membersOf } from '../src/app/workspace-guard.js';
import { describeError } from '../src/errors.js';
import { checklistOf, type ServiceConfig, type Strategy } from '../src/runbook/catalog.js';
import { checklistModal } from '../views/checklist-modal.js';
import { planReport } from '../views/reports.js';
import { dryRun } from './dry-run.js';
import { adminRefusal, runAdminCommand, stateRefusal } from './deploy-admin.js';
import { decodeSlackText, escapeText } from '../views/text.js';
import { DEPLOY_USAGE, parseDeployText } from './deploy-text.js';
import { ephemeral } from './ephemeral.js';

export const newDeploymentId = (service: string, now: number): string =>
  `${service}-${now.toString(36)}-${randomBytes(3).toString('hex')}`;

const pairedStrategy = (service: ServiceConfig): boolean => 'blue' in service.workload.deployments;

/** Why this service cannot be deployed with this strategy, if it cannot. */
export function strategyMismatch(name: string, service: ServiceConfig, strategy: Strategy): string | undefined {
  if (strategy === 'rolling' && pairedStrategy(service))
    return `${name} has a blue/green pair; deploy it with blue-green or canary`;
  if (strategy !== 'rolling' && !pairedStrategy(service))
    return `${name} has one Deployment; it can only be deployed with rolling`;
  return undefined;
}

/** Checks that need Redis or the clock, done after the ack: freeze, busy service, blocked version, window. */
export async function deployRefusal(
  ctx: AppContext,
  service: string,
  version: string,
  hotfix: boolean,
): Promise<string | undefined> {
  const refusal = await stateRefusal(ctx, service, version);
  if (refusal) return refusal;
  if (hotfix) return undefined;
  return windowRefusal(ctx.catalog.window, ctx.clock()) ?? (await incidentRefusal(ctx, service));
}

/**
 * An open high-urgency incident on the service's PagerDuty service refuses before the modal.
 * PagerDuty slow or unreadable refuses nothing here: the preflight step checks again and decides.
 */
async function incidentRefusal(ctx: AppContext, name: string): Promise<string | undefined> {
  const serviceId = ctx.catalog.services[name]?.pagerduty?.serviceId;
  if (!serviceId || !ctx.incidents) return undefined;
  let open;
  try {
    open = await ctx.incidents.openHighUrgencyIncidents(serviceId);
  } catch (error) {
    ctx.log.warn(
      { err: error, service: name },
      'PagerDuty incidents unreadable before the modal; preflight checks again',
    );
    return undefined;
  }
  if (open.length === 0) return undefined;
  const named = open.map((i) => `<${i.url}|${escapeText(i.title)}> (${i.status})`).join(', ');
  return `${escapeText(name)}'s PagerDuty service has an open high-urgency incident: ${named}. Not deploying on top of an incident; a hotfix may (\`/deploy ${escapeText(name)} <version> hotfix\`).`;
}

export function registerDeploy(app: App, ctx: AppContext): void {
  app.command('/deploy', async ({ command, ack, respond, client, context }) => {
    const parsed = parseDeployText(decodeSlackText(command.text), ctx.catalog);
    if (!parsed.ok) {
      await ack(ephemeral(`:warning: ${parsed.error}`));
      return;
    }
    const cmd = parsed.command;
    if (cmd.kind === 'help') {
      await ack(ephemeral(DEPLOY_USAGE));
      return;
    }
    if (cmd.kind !== 'deploy') {
      const refusal = adminRefusal(ctx, cmd, command.user_id);
      if (refusal) {
        await ack(ephemeral(`:no_entry: ${refusal}`));
        return;
      }
      await ack();
      await afterPendingAcks();
      // Status and history are open to anyone: full members of the workspace, not guests or external users.
      if (cmd.kind === 'status' || cmd.kind === 'history') {
        const membership = await membersOf(context).check(command.user_id);
        if (!membership.member) {
          await respond(ephemeral(`:no_entry: ${membership.because}`));
          return;
        }
      }
      const text = await runAdminCommand(ctx, cmd, command.user_id).catch(
        (error: unknown) => `:warning: ${describeError(error)}`,
      );
      await afterPendingAcks();
      await respond(ephemeral(text));
      return;
    }
    const service = ctx.catalog.services[cmd.service] as ServiceConfig;
    const strategy = cmd.strategy ?? service.strategy;
    const right = deployRight(ctx.catalog, service, command.user_id);
    let refusal = !right
      ? `you are not a deployer of ${cmd.service}; ask one of its deployers or a release manager`
      : strategyMismatch(cmd.service, service, strategy);
    if (!refusal && right === 'anyone') {
      const membership = await membersOf(context).check(command.user_id);
      if (!membership.member) refusal = `you may not deploy ${cmd.service}: ${membership.because}`;
    }
    if (refusal) {
      await ack(ephemeral(`:no_entry: ${refusal}`));
      return;
    }
    if (cmd.dryRun) {
      await ack({
        response_type: 'in_channel',
        text: planReport(dryRun(cmd.service, service, strategy, cmd.version, ctx.catalog)),
      });
      return;
    }
    // Slack needs the ack within 3 s and the trigger_id expires 3 s after the command: ack first.
    await ack();
    await afterPendingAcks();
    try {
      const stateRefused = await deployRefusal(ctx, cmd.service, cmd.version, cmd.hotfix);
      if (stateRefused) {
        await respond(ephemeral(`:no_entry: ${stateRefused}`));
        return;
      }
      // Building and sending the modal is the heaviest step: again behind any acks that are waiting.
      await afterPendingAcks();
      await client.views.open({
        trigger_id: command.trigger_id,
        view: checklistModal(
          { service: cmd.service, version: cmd.version, strategy, hotfix: cmd.hotfix, origin: command.channel_id },
          checklistOf(ctx.catalog, service),
        ),
      });
    } catch (error) {
      ctx.log.error({ err: error, service: cmd.service }, 'could not open the checklist');
      await respond(ephemeral(`:warning: could not open the checklist: ${describeError(error)}`));
    }
  });
}
