import type { App } from '@slack/bolt';
import { z } from 'zod';
import type { AppContext } from '../src/app/context.js';
import { approvalRulesFor } from '../src/domain/approval.js';
import type { Decision, Deployment } from '../src/domain/deployment.js';
import { mayDeploy } from '../src/domain/policy.js';
import { describeError } from '../src/errors.js';
import { formatStartTime, scheduleExpired } from '../src/domain/schedule-time.js';
import { versionProblem } from '../src/domain/version.js';
import { checklistOf, StrategySchema, type Catalog, type ServiceConfig } from '../src/runbook/catalog.js';
import { defaultEnvironmentOf, environmentOf, serviceIn } from '../src/runbook/environments.js';
import { planSteps } from '../src/runbook/plan.js';
import { ANNOUNCEMENT_MESSAGE } from '../src/store/deployment-store.js';
import { currentAnnouncement } from '../views/announcement.js';
import {
  CHECKLIST_CALLBACK,
  CONFIRM_ACTION,
  ITEM_BLOCK_PREFIX,
  JUSTIFICATION_BLOCK,
  STRATEGY_BLOCK,
  SUMMARY_BLOCK,
  TICKET_BLOCK,
  VALUE_ACTION,
} from '../views/checklist-modal.js';
import { statusLine } from '../views/status-line.js';
import { announceChanges } from './change-list.js';
import { deployRefusal, newDeploymentId, strategyMismatch } from './deploy.js';
import { promotionRefusal } from './promotion.js';
import { tellUser } from './tell-user.js';

const RequestSchema = z.object({
  service: z.string(),
  version: z.string(),
  strategy: StrategySchema,
  hotfix: z.boolean(),
  origin: z.string(),
  // A modal opened before environments existed carries none: the catalog's default.
  environment: z.string().optional(),
  startAt: z.number().int().optional(),
});

export const TICKET_PATTERN = /^DEPLOY-\d{1,9}$/;

/**
 * How long the handler waits to learn whether the outbox posted the announcement. One Slack
 * refuses for good is reported and nothing is kept; one still being retried after this goes
 * out when Slack lets it.
 */
const ANNOUNCE_WAIT_MS = 10_000;

export interface ChecklistAnswers {
  summary: string;
  ticket: string;
  strategy: string;
  justification?: string;
  confirmed: boolean[];
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string => (typeof value === 'string' ? value.trim() : '');

/**
 * Reads `view.state.values` as Slack sends it (block id → action id → element value). Any field
 * of another shape than Slack's counts as not filled in, so the modal reports it instead of
 * the handler failing.
 */
export function readAnswers(values: unknown, itemCount: number): ChecklistAnswers {
  const element = (block: string, action = VALUE_ACTION): Record<string, unknown> => {
    const inBlock = isRecord(values) && Object.hasOwn(values, block) ? values[block] : undefined;
    const value = isRecord(inBlock) && Object.hasOwn(inBlock, action) ? inBlock[action] : undefined;
    return isRecord(value) ? value : {};
  };
  const strategy = element(STRATEGY_BLOCK).selected_option;
  return {
    summary: text(element(SUMMARY_BLOCK).value),
    ticket: text(element(TICKET_BLOCK).value),
    strategy: isRecord(strategy) ? text(strategy.value) : '',
    justification: text(element(JUSTIFICATION_BLOCK).value) || undefined,
    confirmed: Array.from({ length: itemCount }, (_, i) => {
      const options = element(`${ITEM_BLOCK_PREFIX}${i}`, CONFIRM_ACTION).selected_options;
      return Array.isArray(options) && options.some((o) => isRecord(o) && o.value === 'confirmed');
    }),
  };
}

/**
 * The request the modal carries in `private_metadata`: undefined when it is not one of ours, or
 * names a service or a version the catalog (perhaps reloaded since the modal opened) refuses.
 */
export function readRequest(metadata: string, catalog: Catalog): z.infer<typeof RequestSchema> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(metadata);
  } catch {
    return undefined;
  }
  const request = RequestSchema.safeParse(parsed);
  if (!request.success || !Object.hasOwn(catalog.services, request.data.service)) return undefined;
  const service = catalog.services[request.data.service];
  return service && versionProblem(request.data.version, service.versionPattern) === undefined
    ? request.data
    : undefined;
}

/** Inline errors for the modal (`response_action: errors`), keyed by block id. */
export function answerErrors(
  answers: ChecklistAnswers,
  hotfix: boolean,
  name: string,
  service: ServiceConfig,
): Record<string, string> {
  const errors: Record<string, string> = {};
  answers.confirmed.forEach((ok, i) => {
    if (!ok) errors[`${ITEM_BLOCK_PREFIX}${i}`] = 'Confirm this item before deploying';
  });
  if (!answers.summary) errors[SUMMARY_BLOCK] = 'Describe what changes';
  if (!TICKET_PATTERN.test(answers.ticket))
    errors[TICKET_BLOCK] = 'Give the approved change ticket as DEPLOY-<number>, e.g. DEPLOY-123';
  const strategy = StrategySchema.safeParse(answers.strategy);
  if (!strategy.success) errors[STRATEGY_BLOCK] = 'Choose blue-green, canary or rolling';
  else {
    const mismatch = strategyMismatch(name, service, strategy.data);
    if (mismatch) errors[STRATEGY_BLOCK] = mismatch;
  }
  if (hotfix && !answers.justification) errors[JUSTIFICATION_BLOCK] = 'A hotfix needs a justification';
  return errors;
}

export function registerChecklistSubmission(app: App, ctx: AppContext): void {
  app.view(CHECKLIST_CALLBACK, async ({ ack, body, view, client }) => {
    const user = body.user.id;
    const request = readRequest(view.private_metadata, ctx.catalog);
    const environment = request?.environment ?? defaultEnvironmentOf(ctx.catalog);
    const service =
      request && Object.hasOwn(ctx.catalog.services, request.service)
        ? serviceIn(ctx.catalog, request.service, environment)
        : undefined;
    if (!request || !service) {
      await ack({
        response_action: 'errors',
        errors: { [SUMMARY_BLOCK]: 'This form is out of date; run /deploy again' },
      });
      return;
    }
    const { service: name, version, hotfix, origin, startAt } = request;
    const items = checklistOf(ctx.catalog, service);
    const answers = readAnswers(view.state.values, items.length);
    const errors = answerErrors(answers, hotfix, name, service);
    if (!mayDeploy(ctx.catalog, service, user)) errors[SUMMARY_BLOCK] = `You are not a deployer of ${name}`;
    if (Object.keys(errors).length > 0) {
      await ack({ response_action: 'errors', errors });
      return;
    }
    const strategy = StrategySchema.parse(answers.strategy);
    const now = ctx.clock();
    const draft: Deployment = {
      id: newDeploymentId(name, now),
      service: name,
      environment,
      version,
      image: `${service.workload.image}:${version}`,
      strategy,
      hotfix,
      requester: user,
      requestedAt: now,
      checklist: items.map((item) => ({ item, confirmedBy: user, confirmedAt: now })),
      ticket: answers.ticket,
      changeSummary: answers.summary,
      justification: answers.justification,
      channel: environmentOf(ctx.catalog, environment)?.channel ?? ctx.catalog.slack.channel,
      approvalRules: approvalRulesFor(ctx.catalog, name, environment),
      ...(startAt === undefined ? {} : { schedule: { startAt, timezone: ctx.catalog.window?.timezone ?? 'UTC' } }),
      phase: 'awaiting-approval',
      steps: planSteps(service, strategy),
      stepIndex: 0,
      stepRecords: [],
      fence: 0,
    };
    draft.statusLine = statusLine(draft, now);
    // The modal may have stayed open a while: a freeze, a rollback or the window may have come since.
    const refusal =
      startAt !== undefined && scheduleExpired(startAt, ctx.catalog.scheduleGraceSeconds, now)
        ? `the scheduled start (${formatStartTime(startAt, draft.schedule?.timezone ?? 'UTC', now)}) has passed; run /deploy again with another time`
        : await deployRefusal(ctx, name, version, hotfix, environment, startAt);
    if (refusal) {
      await ack({
        response_action: 'errors',
        errors: {
          [SUMMARY_BLOCK]: refusal
            .replace(/<[^>]*\|([^>]*)>/g, '$1')
            .replace(/<@(\w+)>/g, '@$1')
            .slice(0, 2000),
        },
      });
      return;
    }
    // A hotfix may go without the promotion its environment asks for; the announcement says so.
    if (hotfix) draft.promotionSkipped = await promotionRefusal(ctx, name, version, environment);
    const created = await ctx.store.request(
      draft,
      {
        at: now,
        actor: user,
        type: 'requested',
        detail: `${name} ${version} (${strategy}${hotfix ? ', HOTFIX' : ''}) ${answers.ticket}`,
        data: {
          checklist: draft.checklist,
          hotfix,
          justification: answers.justification,
          environment,
          promotionSkipped: draft.promotionSkipped,
          startAt,
        },
      },
      { viewId: view.id },
    );
    // The same modal submitted twice (a double click): the first submission made the deployment.
    if (created.kind === 'duplicate') {
      await ack({
        response_action: 'errors',
        errors: { [SUMMARY_BLOCK]: 'This checklist was already submitted; its deployment is announced in the channel' },
      });
      return;
    }
    await ack();
    const d = created.deployment;
    // Read after the ack and awaited by nothing: a slow or failing GitHub delays no one.
    announceChanges(ctx, d).catch((error: unknown) =>
      ctx.log.warn({ err: error, deploymentId: d.id }, 'could not add the commit list to the announcement'),
    );
    // The announcement goes out through the outbox, its one writer (edits included), which also
    // logs it as announced; this handler waits to learn how it went.
    let failure: unknown;
    try {
      // `approval: none`: approved on submission, so the worker starts it once it is announced.
      const decision: Decision | undefined =
        d.approvalRules?.length === 0 ? { kind: 'approve', by: 'switchyard', at: now } : undefined;
      if (decision) await ctx.store.decide(d.id, decision);
      const message = currentAnnouncement(d, ctx.catalog.slack.onCall, now, { decision });
      await ctx.outbox.send({
        deploymentId: d.id,
        key: ANNOUNCEMENT_MESSAGE,
        channel: d.channel,
        text: message.text,
        blocks: message.blocks,
      });
      const delivery = await ctx.outbox.delivery(d.id, ANNOUNCEMENT_MESSAGE, ANNOUNCE_WAIT_MS);
      if (delivery.state === 'failed') failure = new Error(delivery.reason);
      else {
        if (delivery.state === 'pending')
          ctx.log.warn({ deploymentId: d.id }, 'the announcement is not out yet; the outbox keeps trying');
        await ctx.queue.add(d.id);
      }
    } catch (error) {
      failure = error;
    }
    if (failure !== undefined) {
      const error = failure;
      ctx.log.error({ err: error, deploymentId: d.id }, 'could not announce the deployment');
      const handedTo = await ctx.store.discard(d, ctx.clock());
      if (handedTo) await ctx.queue.wake(handedTo);
      // The modal is closed by now: an ephemeral in the channel, or a DM where the bot is not a member.
      await tellUser(client, ctx.log, {
        channel: origin,
        user,
        text: `:warning: ${name} ${version} was not requested: the announcement could not be posted (${describeError(error)}). Nothing was created; try again.`,
      });
    }
  });
}
