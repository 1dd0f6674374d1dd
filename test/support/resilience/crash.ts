import type { ChildProcess } from 'node:child_process';
import type { RunningSwitchyard } from '../../../src/app/bootstrap.js';
import type { Deployment } from '../../../src/domain/deployment.js';
import { isTerminal } from '../../../src/domain/deployment.js';
import { INITIAL_VERSION, SANDBOX_IMAGE } from '../../../sandbox/sandbox.js';
import type { FaultControls, RecordedRequest } from '../../../sandbox/http-server.js';
import { REDIS_URL, startHarness, type Harness } from '../harness.js';
import { killed, spawnWorker } from '../worker-process.js';
import { check, deploymentMessages, expectedMessages, type Findings } from './checks.js';
import {
  P99_QUERY,
  ROLLING_DEPLOYMENT,
  scenarioService,
  scenarioSteps,
  stageWeights,
  type KillPoint,
  type StandInName,
} from './plans.js';
import type { ResilienceRow } from './record.js';
import { jobActivatedAt, jobState, startReplacementWorker } from './workers.js';

/** How long the slowed stand-in holds each answer: long enough that the kill lands before it. */
export const SLOW_MS = 250;

export interface CrashResult extends Findings {
  point: KillPoint;
  deployment: Deployment;
  /** A request to the slowed stand-in had arrived and was not answered yet when the worker died. */
  midCall: boolean;
  /** The job's BullMQ state at the kill: `active` means it had to be found stalled. */
  stateAtKill: string;
  /** From the kill to the replacement worker taking the job. */
  resumeMs?: number;
  /** The killed worker's last output, for a failure message. */
  workerOutput: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const poll = async <T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
  everyMs = 5,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
};

export const standIn = (h: Harness, name: StandInName): { faults: FaultControls; requests: RecordedRequest[] } =>
  h.sandbox[name];

const current = async (h: Harness): Promise<Deployment | undefined> => (await h.app.store.recent(1))[0];

/** Starts the bot with the strategy's scenario (with `service` changes on top); workers come from the test. */
export async function startScenario(
  strategy: KillPoint['strategy'],
  options: {
    redisUrl?: string;
    service?: Record<string, unknown>;
    roles?: { bot: boolean; worker: boolean };
    rolloutStepMs?: number;
    /** Page through the PagerDuty stand-in too. */
    pagerduty?: boolean;
  } = {},
): Promise<Harness> {
  const base = scenarioService(strategy);
  const service = (url: string) => ({ ...(typeof base === 'function' ? base(url) : base), ...options.service });
  const h = await startHarness({
    roles: options.roles ?? { bot: true, worker: false },
    service,
    redisUrl: options.redisUrl,
    rolloutStepMs: options.rolloutStepMs,
    pagerduty: options.pagerduty,
  });
  if (strategy === 'rolling') {
    h.sandbox.kubernetes.addDeployment({
      namespace: 'prod',
      name: ROLLING_DEPLOYMENT,
      container: 'api',
      image: `${SANDBOX_IMAGE}:${INITIAL_VERSION}`,
      replicas: 2,
    });
  }
  return h;
}

/** The step whose start makes a rollback point ask for the rollback: the second bake (rolling: the monitoring). */
const rollbackTriggerIndex = (point: KillPoint): number => {
  const steps = scenarioSteps(point.strategy);
  if (point.rollback === 'breach' || point.strategy === 'rolling') return steps.findIndex((s) => s.kind === 'monitor');
  return steps.map((s, i) => (s.kind === 'bake' ? i : -1)).filter((i) => i >= 0)[1] ?? -1;
};

const reached = (d: Deployment | undefined, index: number): boolean =>
  d !== undefined &&
  (isTerminal(d.phase) ||
    d.stepIndex > index ||
    (d.stepIndex === index && d.stepRecords[index]?.startedAt !== undefined));

/**
 * Waits for the point, doing what brings a rollback point about, and then for the first request
 * the worker sends the slowed stand-in from there: killed then, the worker dies mid-call.
 * Returns the deployment as it was at the point.
 */
async function arrive(h: Harness, point: KillPoint): Promise<Deployment> {
  const slow = standIn(h, point.slow).requests;
  let seen = 0;
  let at: Deployment;
  if (point.stepIndex !== undefined) {
    const index = point.stepIndex;
    at = await poll(
      async () => {
        seen = slow.length;
        const d = await current(h);
        return reached(d, index) ? d : undefined;
      },
      60_000,
      `step ${index} to start`,
    );
  } else {
    const trigger = rollbackTriggerIndex(point);
    await poll(async () => (reached(await current(h), trigger) ? true : undefined), 60_000, `step ${trigger} to start`);
    if (point.rollback === 'command')
      await h.requester.command('/rollback', 'acme-api crash test: rolling back on purpose');
    else h.sandbox.datadog.setMetric(P99_QUERY, 2.5);
    at = await poll(
      async () => {
        seen = slow.length;
        const d = await current(h);
        return d && (d.phase === 'rolling-back' || isTerminal(d.phase)) ? d : undefined;
      },
      30_000,
      'the rollback to start',
    );
  }
  // A step that sends the slowed stand-in nothing more is killed where it is.
  await poll(async () => (slow.length > seen ? true : undefined), 2000, 'a request of the step', 2).catch(
    () => undefined,
  );
  return at;
}

/** What the run must have done, given where the rollback (if any) was asked for. */
function expectations(point: KillPoint) {
  const stages = stageWeights(point.strategy);
  const e2eRan = point.expect === 'succeeded' || point.rollback === 'breach' || point.strategy === 'rolling';
  const weights =
    point.expect === 'succeeded' ? stages : point.rollback === 'breach' ? [...stages, 0] : [...stages.slice(0, 2), 0];
  return { phase: point.expect, weights, jobs: { migrate: 1, e2e: e2eRan ? 1 : 0 } };
}

/** Waits until everyone has been told what happened (the outbox is asynchronous), then a little longer for late duplicates. */
export async function settleMessages(h: Harness, d: Deployment, timeoutMs = 15_000): Promise<void> {
  const events = await h.app.store.events(d.id);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const messages = deploymentMessages(h, d);
    if (expectedMessages(d, events).every((m) => m.found(messages))) break;
    await sleep(50);
  }
  await sleep(500);
}

/**
 * One kill point: a worker process runs the deployment until the point, is killed with SIGKILL
 * while the stand-in the step talks to holds its answer, and a replacement worker finishes.
 */
export async function runCrashPoint(
  point: KillPoint,
  options: {
    workerEnv?: Record<string, string>;
    /** `process`: a new worker process started after the kill, instead of a worker already running. */
    replacement?: 'running' | 'process';
  } = {},
): Promise<CrashResult> {
  const h = await startScenario(point.strategy);
  let first: (ChildProcess & { output: string[] }) | undefined;
  let second: (ChildProcess & { output: string[] }) | undefined;
  let replacement: RunningSwitchyard | undefined;
  try {
    const env = { ...(await h.sandbox.env(REDIS_URL, h.prefix)), PORT: '0', ...options.workerEnv };
    first = spawnWorker(env);
    const slow = standIn(h, point.slow);
    slow.faults.latencyMs = SLOW_MS;
    const arrival = arrive(h, point);
    // Should approval fail, the watcher's later failure (the harness is gone) is not news.
    arrival.catch(() => undefined);
    await h.deployAndApprove('v1.5.0');
    const at = await arrival;
    const killAt = Date.now();
    await killed(first);
    const midCall = slow.requests.some((r) => r.at > killAt - SLOW_MS && r.at <= killAt);
    slow.faults.latencyMs = 0;
    const stateAtKill = await jobState(h, at.id);
    if (options.replacement === 'process') second = spawnWorker(env);
    else replacement = await startReplacementWorker(h, { env: options.workerEnv });
    const resumedAt = await poll(
      async () => {
        const d = await h.app.store.get(at.id);
        const activated = await jobActivatedAt(h, at.id);
        if (activated !== undefined && activated > killAt) return activated;
        return d && isTerminal(d.phase) ? Number.NaN : undefined;
      },
      60_000,
      'a worker to take the job again',
      20,
    ).catch(() => Number.NaN);
    const done = await poll(
      async () => {
        const d = await h.app.store.get(at.id);
        return d && isTerminal(d.phase) ? d : undefined;
      },
      60_000,
      'the deployment to finish',
    ).catch(async () => (await h.app.store.get(at.id)) as Deployment);
    await settleMessages(h, done);
    const findings = await check(h, done, expectations(point));
    return {
      ...findings,
      point,
      deployment: done,
      midCall,
      stateAtKill,
      resumeMs: Number.isNaN(resumedAt) ? undefined : resumedAt - killAt,
      workerOutput: first.output.join('').slice(-2000),
    };
  } catch (error) {
    const said = first?.output.join('').slice(-3000) ?? '(no worker)';
    throw new Error(`${error instanceof Error ? error.message : String(error)}\nkilled worker said:\n${said}`, {
      cause: error,
    });
  } finally {
    if (first) await killed(first);
    if (second) await killed(second);
    await replacement?.close();
    await h.close();
  }
}

/** The table row of a crash run. */
export const crashRow = (run: CrashResult, fault: string): ResilienceRow => ({
  fault,
  point: run.point.name,
  outcome: run.deployment.phase,
  lost: run.lost,
  duplicated: run.duplicated,
  untold: run.untold,
  midCall: run.midCall,
  // A job that was waiting (a bake between gate runs) has nothing to recover: only running ones measure the stall check.
  resumeMs: run.stateAtKill === 'active' ? run.resumeMs : undefined,
});
