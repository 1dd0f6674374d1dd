import { liveColorOf } from '../../../src/domain/color.js';
import type { Deployment, DeploymentEvent } from '../../../src/domain/deployment.js';
import { isTerminal } from '../../../src/domain/deployment.js';
import { describeStep } from '../../../src/domain/steps.js';
import { CHANNELS, INITIAL_VERSION, SANDBOX_IMAGE } from '../../../sandbox/sandbox.js';
import type { SlackMessage } from '../../../sandbox/slack.js';
import type { Harness } from '../harness.js';
import { ROLLING_DEPLOYMENT } from './plans.js';

/**
 * What went wrong in one run, by the suite's bar: nothing lost (a terminal phase, the lock
 * released, traffic not split, the plan's changes made), nothing done twice (a Slack message, an
 * ALB stage, an image patch, a hook Job, a step in the event log), and everybody told.
 */
export interface Findings {
  lost: string[];
  duplicated: string[];
  untold: string[];
}

/** How the run must have ended, and what it must have done on the way. */
export interface Expectations {
  phase: 'succeeded' | 'rolled-back';
  /** The new colour's weight after each ALB change (blue-green and canary). */
  weights?: number[];
  /** Hook names and how many Jobs each must have (0 when the run never got to it). */
  jobs: Record<string, number>;
}

const countBy = <T>(items: readonly T[], key: (item: T) => string): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
};

const twice = (counts: Map<string, number>, what: (key: string, n: number) => string): string[] =>
  [...counts].filter(([, n]) => n > 1).map(([key, n]) => what(key, n));

/** A message's identity: the key the worker tagged it with, else where it is and what it says. */
const messageKey = (m: SlackMessage): string => {
  const payload = (m.metadata as { event_payload?: { deployment_id?: string; key?: string } } | undefined)
    ?.event_payload;
  if (payload?.key) return `${payload.deployment_id ?? '?'} ${payload.key}`;
  return `${m.channel} ${m.thread_ts ?? 'top'} ${m.text.slice(0, 80)}`;
};

/** The deployment's own messages: its thread (announcement left out) and its top-level posts after the announcement. */
export function deploymentMessages(h: Harness, d: Deployment): SlackMessage[] {
  const ts = d.announcementTs;
  if (!ts) return [];
  const thread = h.sandbox.slack.thread(d.channel, ts).filter((m) => m.ts !== ts);
  const later = (m: SlackMessage) => !m.thread_ts && Number(m.ts) > Number(ts);
  const top = [
    ...h.sandbox.slack.messages(CHANNELS.deployments),
    ...h.sandbox.slack.messages(CHANNELS.incidents),
  ].filter(later);
  return [...thread, ...top];
}

/** The sentences everyone must have been told, each with where to look for it. */
export function expectedMessages(
  d: Deployment,
  events: DeploymentEvent[],
): { what: string; found: (ms: SlackMessage[]) => boolean }[] {
  const inThread = (pattern: string) => (ms: SlackMessage[]) =>
    ms.some((m) => m.thread_ts === d.announcementTs && m.text.includes(pattern));
  const topLevel = (channel: string, pattern: string) => (ms: SlackMessage[]) =>
    ms.some((m) => m.channel === channel && !m.thread_ts && m.text.includes(pattern));
  const succeeded = new Set(events.filter((e) => e.type === 'step-succeeded').map((e) => JSON.stringify(e.data?.step)));
  const stepLines = d.steps
    .filter((step) => succeeded.has(JSON.stringify(step)) && step.kind !== 'complete')
    .map((step) =>
      step.kind === 'bake'
        ? { what: `the bake at ${step.weight}% starting`, found: inThread(`Baking at ${step.weight}%`) }
        : { what: `${describeStep(step)} done`, found: inThread(`*${describeStep(step)}* done`) },
    );
  const outcome =
    d.phase === 'succeeded'
      ? [{ what: 'the success message', found: inThread('Deployment Complete') }]
      : [
          { what: 'the rollback message in the thread', found: inThread('Rolled Back') },
          { what: 'the rollback message in #deployments', found: topLevel(CHANNELS.deployments, 'Rolled Back') },
          { what: 'the rollback message in #incidents', found: topLevel(CHANNELS.incidents, 'Rolled Back') },
        ];
  return [...stepLines, ...outcome];
}

/** Checks one finished (or given-up-on) run against the bar; every problem is one line. */
export async function check(h: Harness, d: Deployment, expect: Expectations): Promise<Findings> {
  const lost: string[] = [];
  const duplicated: string[] = [];
  const untold: string[] = [];
  const events = await h.app.store.events(d.id);

  if (!isTerminal(d.phase))
    lost.push(`still ${d.phase} at step ${d.stepIndex} (${d.steps[d.stepIndex]?.kind ?? 'none'})`);
  else if (d.phase !== expect.phase)
    lost.push(`ended ${d.phase}${d.failureReason ? ` (${d.failureReason})` : ''}, expected ${expect.phase}`);
  const holder = await h.app.store.activeId(d.service);
  if (holder) lost.push(`the ${d.service} lock is still held by ${holder}`);

  if (d.newColor) {
    const weights = h.sandbox.weights();
    if (!liveColorOf(weights)) lost.push(`traffic left split: blue ${weights.blue}% / green ${weights.green}%`);
    const group = h.sandbox.targetGroups[d.newColor];
    const history = h.sandbox.elbv2.changes.map((c) => c.weights[group] ?? 0);
    const applied = twice(
      countBy(history, String),
      (w, n) => `ALB stage ${w}% applied ${n} times (${history.join(' → ')})`,
    );
    duplicated.push(...applied);
    const wanted = expect.weights ?? [];
    if (history.join() !== wanted.join() && applied.length === 0)
      lost.push(`ALB history ${history.join(' → ')} instead of ${wanted.join(' → ')}`);
  }

  const deployment = d.newColor ? `acme-api-${d.newColor}` : ROLLING_DEPLOYMENT;
  const imagePatches = h.sandbox.kubernetes.patches.filter(
    (p) => p.name === deployment && JSON.stringify(p.body).includes(`:${d.version}`),
  );
  if (imagePatches.length > 1) duplicated.push(`${deployment} patched to ${d.version} ${imagePatches.length} times`);
  if (imagePatches.length === 0) lost.push(`${deployment} was never patched to ${d.version}`);
  const image = h.sandbox.kubernetes.imageOf('prod', deployment, 'api');
  const wantedImage = `${SANDBOX_IMAGE}:${!d.newColor && expect.phase === 'rolled-back' ? INITIAL_VERSION : d.version}`;
  if (image !== wantedImage) lost.push(`${deployment} runs ${image ?? 'nothing'} instead of ${wantedImage}`);

  const jobs = countBy(h.sandbox.kubernetes.jobs(), (j) => j.name.split('-')[0] ?? j.name);
  for (const [hook, wanted] of Object.entries(expect.jobs)) {
    const made = jobs.get(hook) ?? 0;
    if (made > wanted) duplicated.push(`hook ${hook} ran as ${made} Jobs`);
    if (made < wanted) lost.push(`hook ${hook} never ran`);
  }

  const started = countBy(
    events.filter((e) => e.type === 'step-started'),
    (e) => String(e.data?.index),
  );
  duplicated.push(...twice(started, (i, n) => `event log: step ${i} started ${n} times`));
  const ended = countBy(
    events.filter((e) => e.type === 'step-succeeded'),
    (e) => JSON.stringify(e.data?.step),
  );
  duplicated.push(...twice(ended, (step, n) => `event log: ${step} succeeded ${n} times`));
  if (d.phase === 'succeeded' && ended.size !== d.steps.length)
    lost.push(`event log: ${ended.size} of ${d.steps.length} steps recorded as succeeded`);
  const rolledBack = events.filter((e) => e.type === 'rolled-back').length;
  if (d.phase === 'rolled-back' && rolledBack > 1) duplicated.push(`event log: ${rolledBack} rolled-back events`);
  if (d.phase === 'rolled-back' && rolledBack === 0) lost.push('event log: no rolled-back event');

  const messages = deploymentMessages(h, d);
  duplicated.push(...twice(countBy(messages, messageKey), (key, n) => `Slack: "${key}" posted ${n} times`));
  for (const expected of expectedMessages(d, events))
    if (!expected.found(messages)) untold.push(`Slack: never told ${expected.what}`);
  return { lost, duplicated, untold };
}
