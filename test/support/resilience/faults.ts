import type { Deployment } from '../../../src/domain/deployment.js';
import { isTerminal } from '../../../src/domain/deployment.js';
import type { Step } from '../../../src/domain/steps.js';
import type { Strategy } from '../../../src/runbook/catalog.js';
import type { SlackMessage } from '../../../sandbox/slack.js';
import { RESUME_ACTION } from '../../../views/alerts.js';
import type { Harness } from '../harness.js';
import { check, type Expectations, type Findings } from './checks.js';
import { settleMessages, startScenario } from './crash.js';
import { stageWeights } from './plans.js';
import type { ResilienceRow } from './record.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One provider fault at one place of a deployment run by a worker in this process. */
export interface FaultCase {
  /** The table row: `ALB Throttling`, `Slack 5xx`, … */
  fault: string;
  /** Where it hits: `on the 50% shift`. */
  point: string;
  strategy?: Strategy;
  /** Page through the PagerDuty stand-in too. */
  pagerduty?: boolean;
  /** Inject once this step has started; before the deployment when absent (faults then pick their request with match and skip). */
  at?: (step: Step) => boolean;
  inject(h: Harness): void;
  expect: Expectations['phase'];
  /** The new colour's weights the ALB must have gone through; the strategy's stages when it succeeds. */
  weights?: number[];
  jobs?: Expectations['jobs'];
  /** Acts on the running deployment (clear the fault once it rolls back, resume it once paused); returns problems found. */
  during?(h: Harness): Promise<Partial<Findings>>;
  /** More checks once it finished, e.g. that the fault was met at all; returns problems found. */
  verify?(h: Harness, d: Deployment): string[] | Promise<string[]>;
  /** Something measured on the way, printed under the table. */
  note?(h: Harness, d: Deployment): Promise<string>;
}

const current = async (h: Harness): Promise<Deployment | undefined> => (await h.app.store.recent(1))[0];

/** Polls the newest deployment until `predicate` holds; undefined after `timeoutMs`. */
export async function waitFor(
  h: Harness,
  predicate: (d: Deployment) => boolean,
  timeoutMs: number,
): Promise<Deployment | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await current(h);
    if (d && predicate(d)) return d;
    if (Date.now() > deadline) return undefined;
    await sleep(10);
  }
}

const started = (at: (step: Step) => boolean) => (d: Deployment) =>
  isTerminal(d.phase) || d.steps.some((step, i) => at(step) && d.stepRecords[i]?.startedAt !== undefined);

/** The paging message of a pause, once it is in the thread. */
export async function pageOf(h: Harness, d: Deployment, timeoutMs = 10_000): Promise<SlackMessage | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const page = h.sandbox.slack.thread(d.channel, d.announcementTs ?? '').find((m) => m.text.includes('is paused at'));
    if (page || Date.now() > deadline) return page;
    await sleep(50);
  }
}

/**
 * For faults that outlast every retry of a gate run: the deployment must pause (not shift on
 * missing data), page on-call, and finish once someone presses Resume after the fault is gone.
 */
export async function pausesThenResumes(h: Harness, clear: () => void): Promise<Partial<Findings>> {
  const paused = await waitFor(h, (d) => d.phase === 'paused' || isTerminal(d.phase), 60_000);
  clear();
  if (!paused || paused.phase !== 'paused')
    return { lost: [`went on instead of pausing: ${paused?.phase ?? 'still running'}`] };
  const page = await pageOf(h, paused);
  if (!page) return { untold: ['Slack: paused without paging anyone in the thread'] };
  const untold = page.text.includes('S0ONCALL') ? [] : [`Slack: the page does not mention on-call: ${page.text}`];
  await h.user('U0DEV1').press(page, RESUME_ACTION);
  return { untold };
}

/** Runs one fault case and measures it against the bar; the row says how it came out. */
export async function runFaultCase(c: FaultCase): Promise<{ row: ResilienceRow; deployment?: Deployment }> {
  const strategy = c.strategy ?? 'blue-green';
  const h = await startScenario(strategy, { roles: { bot: true, worker: true }, pagerduty: c.pagerduty });
  const row: ResilienceRow = {
    fault: c.fault,
    point: c.point,
    outcome: 'unknown',
    lost: [],
    duplicated: [],
    untold: [],
  };
  try {
    const injected = c.at ? waitFor(h, started(c.at), 60_000).then(() => c.inject(h)) : Promise.resolve(c.inject(h));
    await h.deployAndApprove('v1.5.0');
    await injected;
    const seen = c.during ? await c.during(h) : {};
    const done = (await waitFor(h, (d) => isTerminal(d.phase), 90_000)) ?? (await current(h));
    if (!done) throw new Error('no deployment was recorded');
    await settleMessages(h, done);
    const expectations: Expectations = {
      phase: c.expect,
      weights: c.weights ?? (c.expect === 'succeeded' ? stageWeights(strategy) : undefined),
      jobs: c.jobs ?? { migrate: 1, e2e: c.expect === 'succeeded' ? 1 : 0 },
    };
    const findings = await check(h, done, expectations);
    const verified = c.verify ? await c.verify(h, done) : [];
    const note = c.note ? await c.note(h, done) : undefined;
    Object.assign(row, {
      ...(note ? { note } : {}),
      outcome: done.phase,
      lost: [...findings.lost, ...(seen.lost ?? []), ...verified],
      duplicated: [...findings.duplicated, ...(seen.duplicated ?? [])],
      untold: [...findings.untold, ...(seen.untold ?? [])],
    });
    return { row, deployment: done };
  } finally {
    await h.close();
  }
}
