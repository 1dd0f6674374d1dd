import type { App } from '@slack/bolt';
import type { AppContext } from '../src/app/context.js';
import { membersOf } from '../src/app/workspace-guard.js';
import { isTerminal, type Deployment, type RollbackIntent } from '../src/domain/deployment.js';
import { describeError } from '../src/errors.js';
import { decodeSlackText, escapeText } from '../views/text.js';
import { environmentNames } from '../src/runbook/environments.js';
import { unknownService, type Parsed } from './deploy-text.js';
import { inEnvironment, settingsIn, targetEnvironment } from './environments.js';
import { rollbackPermission, type OnCallDirectory } from './on-call.js';
import { ephemeral } from './ephemeral.js';

const USAGE = 'Usage: `/rollback &lt;service&gt; [&lt;environment&gt;] [reason…]`';

/** Longest reason kept; the rest of a pasted log is not what the thread needs. */
const MAX_REASON = 500;

export interface RollbackCommand {
  service: string;
  reason: string;
  /** The environment named as the first word after the service; none: the catalog's default. */
  environment?: string;
}

/**
 * Parses `/rollback` text; the error names what was wrong and what is accepted. A first word
 * after the service that is one of `environments` names the environment; any other is the reason.
 */
export function parseRollback(
  text: string,
  services: readonly string[],
  environments: readonly string[] = [],
): Parsed<RollbackCommand> {
  const [name, ...words] = text.trim().split(/\s+/).filter(Boolean);
  if (!name || !services.includes(name)) {
    return {
      ok: false,
      error: `${unknownService(services, name)}. ${USAGE}`,
    };
  }
  const environment = words[0] !== undefined && environments.includes(words[0]) ? words[0] : undefined;
  const reason = environment === undefined ? words : words.slice(1);
  return {
    ok: true,
    command: {
      service: name,
      reason: [...reason.join(' ')].slice(0, MAX_REASON).join('') || 'manual rollback',
      environment,
    },
  };
}

/**
 * Records a rollback of the service's active deployment in `environment`, or of its most recent
 * one there when that one completed, and wakes the worker; the worker preempts whatever step is
 * running. Returns the sentence to tell the person who asked.
 */
export async function requestRollback(
  ctx: AppContext,
  service: string,
  user: string,
  reason: string,
  environment = targetEnvironment(ctx.catalog, undefined),
): Promise<string> {
  const intent = { by: user, at: ctx.clock(), reason };
  const where = inEnvironment(ctx.catalog, environment);
  let latest: Deployment | undefined;
  // A second look when the latest took the lock between the two reads (another /rollback
  // reopened it after completion, a queued one started): then it is the active one to ask.
  for (let look = 0; look < 2; look += 1) {
    const active = await ctx.store.active(service, environment);
    if (active) {
      const asked = await rollBackActive(ctx, active, intent);
      if (asked !== undefined) return asked;
    }
    latest = await ctx.store.latestStarted(service, environment);
    if (!latest || isTerminal(latest.phase)) break;
  }
  if (!latest) return `${service} has no deployment${where} to roll back.`;
  if (latest.phase !== 'succeeded')
    return `${service} has nothing${where} to roll back: its last deployment (${latest.version}) ${latest.phase === 'rolled-back' ? 'was already rolled back' : `ended ${latest.phase}`}.`;
  return reopen(ctx, latest, intent);
}

/**
 * Why a button on `d`'s messages may no longer act on it: the deployment is over (ended other
 * than by succeeding) or superseded (a newer deployment of the service exists). Undefined while
 * `d` is the service's active deployment, or its most recent one and succeeded.
 */
export async function notCurrent(ctx: AppContext, d: Deployment): Promise<string | undefined> {
  const latest = await ctx.store.latestStarted(d.service, d.environment);
  const activeId = await ctx.store.activeId(d.service, d.environment);
  const newer = latest && latest.id !== d.id ? latest : undefined;
  if (activeId === d.id) return undefined;
  if (newer || (activeId !== undefined && activeId !== d.id)) {
    const by = newer ?? (activeId ? await ctx.store.get(activeId) : undefined);
    return `${d.service} ${d.version} has been superseded${by ? ` by ${by.version} (${by.phase})` : ''}; this button acts on ${d.version} only, so nothing was changed. \`/rollback ${d.service}\` acts on what is deployed now.`;
  }
  if (d.phase === 'succeeded' || !isTerminal(d.phase)) return undefined;
  return `${d.service} ${d.version} is over (${d.phase}); nothing was changed.`;
}

/**
 * Rolls back this deployment and no other (a button names it): refused with a sentence when it
 * is over or superseded, or still awaiting approval.
 */
export async function rollBackDeployment(
  ctx: AppContext,
  d: Deployment,
  user: string,
  reason: string,
): Promise<string> {
  const intent = { by: user, at: ctx.clock(), reason };
  const stale = await notCurrent(ctx, d);
  if (stale) return stale;
  const current = (await ctx.store.get(d.id)) ?? d;
  if (!isTerminal(current.phase)) {
    const asked = await rollBackActive(ctx, current, intent);
    if (asked !== undefined) return asked;
  }
  // It finished meanwhile: roll it back only if it is still the service's latest and succeeded.
  const finished = (await ctx.store.get(d.id)) ?? current;
  const stillCurrent = await notCurrent(ctx, finished);
  if (stillCurrent) return stillCurrent;
  if (finished.phase !== 'succeeded')
    return `${d.service} ${d.version} is over (${finished.phase}); nothing was changed.`;
  return reopen(ctx, finished, intent);
}

/** The rollback intent on a deployment that holds its service; undefined when it finished meanwhile. */
async function rollBackActive(
  ctx: AppContext,
  active: Deployment,
  intent: RollbackIntent,
): Promise<string | undefined> {
  const { service } = active;
  if (active.phase === 'awaiting-approval') {
    return `${service} ${active.version} is still awaiting approval, so nothing was deployed; a release manager can Reject it.`;
  }
  const { won, finished, decision } = await ctx.store.requestRollback(active, intent);
  if (finished) return undefined;
  if (!won) return `${service} ${active.version} is already being rolled back (asked by <@${decision.by}>).`;
  await ctx.store.appendEvent(active.id, {
    at: intent.at,
    actor: intent.by,
    type: 'rollback-requested',
    detail: intent.reason,
  });
  await ctx.queue.wake(active.id);
  return `↩️ Rolling back ${service} ${active.version}${inEnvironment(ctx.catalog, active.environment)}: ${escapeText(intent.reason)}`;
}

/** Takes the service's lock again for a deployment that succeeded, and queues its rollback. */
async function reopen(ctx: AppContext, latest: Deployment, intent: RollbackIntent): Promise<string> {
  const { service } = latest;
  const reopened = await ctx.store.reopenForRollback(latest, intent);
  if (!reopened)
    return `${service} ${latest.version} is already being rolled back, or another deployment just started.`;
  await ctx.store.appendEvent(latest.id, {
    at: intent.at,
    actor: intent.by,
    type: 'rollback-requested',
    detail: intent.reason,
  });
  await ctx.queue.addRollback(latest.id, reopened.fence);
  return `↩️ Rolling back ${service} ${latest.version}${inEnvironment(ctx.catalog, latest.environment)} to ${latest.previousVersion ?? 'the previous version'}: ${escapeText(intent.reason)}`;
}

export function registerRollback(app: App, ctx: AppContext, onCall: OnCallDirectory): void {
  app.command('/rollback', async ({ command, ack, respond, context }) => {
    // A catalog without environments reads every word after the service as the reason, as it always did.
    const parsed = parseRollback(
      decodeSlackText(command.text),
      Object.keys(ctx.catalog.services),
      ctx.catalog.environments ? environmentNames(ctx.catalog) : [],
    );
    if (!parsed.ok) {
      await ack(ephemeral(`:warning: ${parsed.error}`));
      return;
    }
    const { service: name, reason } = parsed.command;
    const environment = targetEnvironment(ctx.catalog, parsed.command.environment);
    const service = settingsIn(ctx.catalog, name, environment);
    const permission = await rollbackPermission(ctx, onCall, service, command.user_id, membersOf(context));
    if (!permission.allowed) {
      const because = permission.because ? ` (${permission.because})` : '';
      await ack(
        ephemeral(
          `:no_entry: you may not roll back ${name}: its deployers, release managers and on-call may${because}`,
        ),
      );
      return;
    }
    await ack();
    try {
      await respond(ephemeral(await requestRollback(ctx, name, command.user_id, reason, environment)));
    } catch (error) {
      ctx.log.error({ err: error, service: name }, 'rollback request failed');
      await respond(ephemeral(`:warning: could not request the rollback of ${name}: ${describeError(error)}`));
    }
  });
}
