import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { randomBytes } from 'node:crypto';
import { afterPendingAcks } from '../src/app/ack-lane.js';
import type { AppContext } from '../src/app/context.js';
import { windowRefusal } from '../src/domain/deploy-window.js';
import { formatStartTime } from '../src/domain/schedule-time.js';
import { deployRight } from '../src/domain/policy.js';
import { membersOf } from '../src/app/workspace-guard.js';
import { describeError } from '../src/errors.js';
import { checklistOf, type ServiceConfig, type Strategy } from '../src/runbook/catalog.js';
import { checklistModal } from '../views/checklist-modal.js';
import { planReport } from '../views/reports.js';
import { cancelDeployment } from './cancel.js';
import { dryRun } from './dry-run.js';
import { adminRefusal, runAdminCommand, stateRefusal } from './deploy-admin.js';
import { decodeSlackText, escapeText } from '../views/text.js';
import { DEPLOY_USAGE, parseDeployText } from './deploy-text.js';
import { ephemeral } from './ephemeral.js';
import { settingsIn, targetEnvironment } from './environments.js';
import { environmentNames } from '../src/runbook/environments.js';
import { promoteTarget, promotionRefusal } from './promotion.js';

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

/**
 * Checks that need Redis or the clock, done after the ack: freeze, busy service, blocked version,
 * promotion and window (a hotfix skips the last two), in `environment` (default: the catalog's).
 */
export async function deployRefusal(
  ctx: AppContext,
  service: string,
  version: string,
  hotfix: boolean,
  environment = targetEnvironment(ctx.catalog, undefined),
  startAt?: number,
): Promise<string | undefined> {
  const refusal = await stateRefusal(ctx, service, version, environment);
  if (refusal) return refusal;
  if (hotfix) return undefined;
  // A scheduled deployment must start inside the window; when it is asked for does not matter.
  return (
    (await promotionRefusal(ctx, service, version, environment)) ??
    windowRefusal(ctx.catalog.window, startAt ?? ctx.clock()) ??
    (await incidentRefusal(ctx, service))
  );
}

/**
 * The modal's note when the deployment will queue: behind the active one (named, with its
 * thread) and how many are in line already, or, with the service free, behind the ones still
 * waiting for approval.
 */
export async function queueNote(ctx: AppContext, service: string, environment: string): Promise<string | undefined> {
  const [active, queued] = await Promise.all([
    ctx.store.active(service, environment),
    ctx.store.queued(service, environment),
  ]);
  const now = ctx.clock();
  const due = queued.filter((d) => (d.schedule?.startAt ?? d.requestedAt) <= now);
  if (!active) {
    if (due.length === 0) return undefined;
    const waiting = due.length === 1 ? '1 deployment is' : `${due.length} deployments are`;
    return `:hourglass_flowing_sand: ${escapeText(service)} is free, but ${waiting} already waiting for approval. This deployment will queue behind them and start as soon as it is the first approved one in line.`;
  }
  const link = active.announcementLink ? ` (<${active.announcementLink}|thread>)` : '';
  const ahead = queued.length > 0 ? `, after the ${queued.length} already waiting` : '';
  return `:hourglass_flowing_sand: ${escapeText(service)} is busy: ${escapeText(active.version)} by <@${active.requester}> is ${active.phase}${link}. This deployment will queue behind it${ahead} and start when it ends, once approved.`;
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

/** Who may deploy the service there, with which strategy; the refusal's sentence, if not. */
async function deployerRefusal(
  ctx: AppContext,
  name: string,
  service: ServiceConfig,
  strategy: Strategy,
  user: string,
  checkMembership: (user: string) => Promise<{ member: boolean; because?: string }>,
): Promise<string | undefined> {
  const right = deployRight(ctx.catalog, service, user);
  if (!right) return `you are not a deployer of ${name}; ask one of its deployers or a release manager`;
  const mismatch = strategyMismatch(name, service, strategy);
  if (mismatch) return mismatch;
  if (right === 'anyone') {
    const membership = await checkMembership(user);
    if (!membership.member) return `you may not deploy ${name}: ${membership.because}`;
  }
  return undefined;
}

export function registerDeploy(app: App, ctx: AppContext): void {
  app.command('/deploy', async ({ command, ack, respond, client, context }) => {
    const parsed = parseDeployText(decodeSlackText(command.text), ctx.catalog, ctx.clock());
    if (!parsed.ok) {
      await ack(ephemeral(`:warning: ${parsed.error}`));
      return;
    }
    const cmd = parsed.command;
    if (cmd.kind === 'help') {
      const environments = ctx.catalog.environments
        ? `\nEnvironments: ${environmentNames(ctx.catalog).join(', ')} (default ${targetEnvironment(ctx.catalog, undefined)})`
        : '';
      await ack(ephemeral(`${DEPLOY_USAGE}${environments}`));
      return;
    }
    if (cmd.kind === 'cancel') {
      // A few Redis reads and one write: answered in the ack itself.
      const text = await cancelDeployment(ctx, cmd, command.user_id).catch(
        (error: unknown) => `:warning: could not cancel: ${describeError(error)}`,
      );
      await ack(ephemeral(text));
      return;
    }
    if (cmd.kind !== 'deploy' && cmd.kind !== 'promote') {
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
    if (cmd.kind === 'promote') {
      // Reading the records takes longer than Slack waits for the ack; the trigger_id lasts 3 s.
      await ack();
      await afterPendingAcks();
      try {
        const target = await promoteTarget(ctx, cmd.service, cmd.environment);
        if ('refusal' in target) {
          await respond(ephemeral(`:no_entry: ${target.refusal}`));
          return;
        }
        const service = settingsIn(ctx.catalog, cmd.service, target.environment);
        const refusal = await deployerRefusal(ctx, cmd.service, service, service.strategy, command.user_id, (user) =>
          membersOf(context).check(user),
        );
        if (refusal) {
          await respond(ephemeral(`:no_entry: ${refusal}`));
          return;
        }
        await openChecklist(ctx, client, {
          service: cmd.service,
          version: target.version,
          environment: target.environment,
          strategy: service.strategy,
          hotfix: false,
          origin: command.channel_id,
          triggerId: command.trigger_id,
          respond: (text) => respond(ephemeral(text)),
        });
      } catch (error) {
        ctx.log.error({ err: error, service: cmd.service }, 'could not promote');
        await respond(ephemeral(`:warning: could not promote ${cmd.service}: ${describeError(error)}`));
      }
      return;
    }
    const environment = targetEnvironment(ctx.catalog, cmd.environment);
    const service = settingsIn(ctx.catalog, cmd.service, environment);
    const strategy = cmd.strategy ?? service.strategy;
    const refusal = await deployerRefusal(ctx, cmd.service, service, strategy, command.user_id, (user) =>
      membersOf(context).check(user),
    );
    if (refusal) {
      await ack(ephemeral(`:no_entry: ${refusal}`));
      return;
    }
    if (cmd.dryRun) {
      await ack({
        response_type: 'in_channel',
        text: planReport(dryRun(cmd.service, service, strategy, cmd.version, ctx.catalog, environment)),
      });
      return;
    }
    // Slack needs the ack within 3 s and the trigger_id expires 3 s after the command: ack first.
    await ack();
    await afterPendingAcks();
    await openChecklist(ctx, client, {
      service: cmd.service,
      version: cmd.version,
      environment,
      strategy,
      hotfix: cmd.hotfix,
      origin: command.channel_id,
      triggerId: command.trigger_id,
      startAt: cmd.startAt,
      respond: (text) => respond(ephemeral(text)),
    });
  });
}

interface ChecklistOpening {
  service: string;
  version: string;
  environment: string;
  strategy: Strategy;
  hotfix: boolean;
  origin: string;
  triggerId: string;
  /** `at <time>`: the scheduled start. */
  startAt?: number;
  respond: (text: string) => Promise<unknown>;
}

/** The checks that need Redis, then the checklist modal; a refusal or failure is told to the user. */
async function openChecklist(ctx: AppContext, client: WebClient, opening: ChecklistOpening): Promise<void> {
  const { service: name, version, environment, strategy, hotfix } = opening;
  try {
    const stateRefused = await deployRefusal(ctx, name, version, hotfix, environment, opening.startAt);
    if (stateRefused) {
      await opening.respond(`:no_entry: ${stateRefused}`);
      return;
    }
    // A scheduled deployment queues by its start time, not behind what runs now.
    const queue = opening.startAt === undefined ? await queueNote(ctx, name, environment) : undefined;
    const startsAt =
      opening.startAt === undefined
        ? undefined
        : formatStartTime(opening.startAt, ctx.catalog.window?.timezone ?? 'UTC', ctx.clock());
    // Building and sending the modal is the heaviest step: again behind any acks that are waiting.
    await afterPendingAcks();
    await client.views.open({
      trigger_id: opening.triggerId,
      view: checklistModal(
        { service: name, version, strategy, hotfix, origin: opening.origin, environment, startAt: opening.startAt },
        checklistOf(ctx.catalog, settingsIn(ctx.catalog, name, environment)),
        { queue, startsAt },
      ),
    });
  } catch (error) {
    ctx.log.error({ err: error, service: name }, 'could not open the checklist');
    await opening.respond(`:warning: could not open the checklist: ${describeError(error)}`);
  }
}
