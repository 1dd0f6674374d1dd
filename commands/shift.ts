import type { App } from '@slack/bolt';
import type { AppContext } from '../src/app/context.js';
import { firstShiftIndex } from '../src/domain/deployment.js';
import { describeStep } from '../src/domain/steps.js';
import { deployRight } from '../src/domain/policy.js';
import { membersOf } from '../src/app/workspace-guard.js';
import { describeError } from '../src/errors.js';
import { decodeSlackText, echo } from '../views/text.js';
import { environmentNames } from '../src/runbook/environments.js';
import { unknownEnvironment, unknownService } from './deploy-text.js';
import { ephemeral } from './ephemeral.js';
import { inEnvironment, settingsIn, targetEnvironment } from './environments.js';

const USAGE =
  'Usage: `/shift &lt;service&gt; [&lt;environment&gt;] &lt;percent 0-100&gt;` or `/shift &lt;service&gt; [&lt;environment&gt;] resume`';

/** `environment`: the one named before the percentage; none: the catalog's default. */
export type ShiftCommand = ({ service: string; weight: number } | { service: string; resume: true }) & {
  environment?: string;
};

/** Parses `/shift` text; errors name what was wrong and what is accepted. */
export function parseShift(
  text: string,
  services: readonly string[],
  environments: readonly string[] = [],
): { ok: true; command: ShiftCommand } | { ok: false; error: string } {
  const [service, ...rest] = text.trim().split(/\s+/).filter(Boolean);
  if (!service || !services.includes(service)) {
    return {
      ok: false,
      error: `${unknownService(services, service)}. ${USAGE}`,
    };
  }
  const environment = rest.length === 2 ? rest[0] : undefined;
  const value = rest.length === 2 ? rest[1] : rest[0];
  if (rest.length > 2 || value === undefined) return { ok: false, error: USAGE };
  if (environment !== undefined && !environments.includes(environment))
    return { ok: false, error: `${unknownEnvironment(environments, environment)}. ${USAGE}` };
  if (value === 'resume') return { ok: true, command: { service, resume: true, environment } };
  const weight = Number(value.replace(/%$/, ''));
  if (!/^\d{1,3}%?$/.test(value) || !Number.isInteger(weight) || weight < 0 || weight > 100) {
    return {
      ok: false,
      error: `\`${echo(value, 20)}\` is not a percentage; give a whole number from 0 to 100, or resume`,
    };
  }
  return { ok: true, command: { service, weight, environment } };
}

/** `/shift`: records a hold (or its end) for the worker; the worker moves the weights. */
export function registerShift(app: App, ctx: AppContext): void {
  app.command('/shift', async ({ command, ack, respond, context }) => {
    const parsed = parseShift(
      decodeSlackText(command.text),
      Object.keys(ctx.catalog.services),
      environmentNames(ctx.catalog),
    );
    if (!parsed.ok) {
      await ack(ephemeral(`:warning: ${parsed.error}`));
      return;
    }
    const { service } = parsed.command;
    const config = settingsIn(ctx.catalog, service, targetEnvironment(ctx.catalog, parsed.command.environment));
    const right = config ? deployRight(ctx.catalog, config, command.user_id) : undefined;
    const membership = right === 'anyone' ? await membersOf(context).check(command.user_id) : undefined;
    if (!right || (membership && !membership.member)) {
      await ack(
        ephemeral(
          `:no_entry: you may not shift ${service}'s traffic: its deployers and release managers may${membership && !membership.member ? ` (${membership.because})` : ''}`,
        ),
      );
      return;
    }
    await ack();
    try {
      await respond(ephemeral(await shift(ctx, parsed.command, command.user_id)));
    } catch (error) {
      ctx.log.error({ err: error, service }, 'shift failed');
      await respond(ephemeral(`:warning: could not shift ${service}: ${describeError(error)}`));
    }
  });
}

async function shift(ctx: AppContext, command: ShiftCommand, user: string): Promise<string> {
  const environment = targetEnvironment(ctx.catalog, command.environment);
  const d = await ctx.store.active(command.service, environment);
  if (!d) return `${command.service} has no active deployment${inEnvironment(ctx.catalog, environment)} to shift.`;
  if (d.strategy === 'rolling')
    return `${command.service} ${d.version} is a rolling deployment; it has no traffic weights to shift.`;
  if (d.phase === 'rolling-back')
    return `${command.service} ${d.version} is being rolled back; its traffic is going back to ${d.liveColor ?? 'the previous colour'}.`;
  if (d.phase !== 'running' && d.phase !== 'paused')
    return `${command.service} ${d.version} is ${d.phase}; nothing to shift yet.`;
  const first = firstShiftIndex(d);
  if (first < 0 || d.stepIndex < first) {
    const step = d.steps[d.stepIndex];
    return `${command.service} ${d.version} has not reached the traffic shift yet (now: ${step ? describeStep(step) : d.phase}).`;
  }
  const now = ctx.clock();
  if ('resume' in command) {
    const cleared = await ctx.store.clearHold(d.id);
    if (!cleared) return `${command.service} ${d.version} is not held; it progresses by itself.`;
    await ctx.store.appendEvent(d.id, { at: now, actor: user, type: 'hold-released' });
    await ctx.queue.wake(d.id);
    return `▶️ ${command.service} ${d.version} continues from where it is held.`;
  }
  await ctx.store.requestHold(d.id, { weight: command.weight, by: user, at: now });
  await ctx.store.appendEvent(d.id, { at: now, actor: user, type: 'hold-requested', detail: `${command.weight}%` });
  await ctx.queue.wake(d.id);
  const resume = `/shift ${command.service}${ctx.catalog.environments ? ` ${environment}` : ''} resume`;
  return `🎚️ ${command.service} ${d.version}${inEnvironment(ctx.catalog, environment)}: ${command.weight}% on ${d.newColor}, held there until \`${resume}\`.`;
}
