import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Deployment } from '../../../src/domain/deployment.js';
import { ProviderFailed } from '../../../src/errors.js';
import { HttpHealth } from '../../../src/providers/health/http.js';
import {
  runStep,
  SMOKE_REMEASURE_MS,
  SMOKE_REMEASURE_WINDOW_MS,
  type StepEnv,
} from '../../../src/queue/step-runners.js';
import { planSteps } from '../../../src/runbook/plan.js';
import { SANDBOX_IMAGE, startSandbox, type Sandbox } from '../../../sandbox/sandbox.js';
import { deployment } from '../../unit/fixtures.js';

let sandbox: Sandbox;
let env: StepEnv;
let d: Deployment;

beforeEach(async () => {
  sandbox = await startSandbox();
  const service = sandbox.catalog.services['acme-api'];
  if (!service) throw new Error('the sandbox has no acme-api');
  env = { service, providers: sandbox.providers(), now: Date.now() };
  const steps = planSteps(service, 'blue-green');
  const deploy = steps.findIndex((s) => s.kind === 'deployIdle');
  d = deployment({
    steps,
    stepIndex: deploy,
    version: 'v1.5.0',
    image: `${SANDBOX_IMAGE}:v1.5.0`,
    stepRecords: steps.map((_, i) =>
      i === deploy
        ? { startedAt: env.now, retries: 4 }
        : i < deploy
          ? { startedAt: env.now, endedAt: env.now, outcome: 'ok' as const }
          : {},
    ),
  });
});
afterEach(() => sandbox.close());

describe('runStep and the count of provider errors in a row', () => {
  it('clears the count once the step got its answers, so blips spread over a long rollout do not add up', async () => {
    const run = await runStep(d, d.steps[d.stepIndex] ?? { kind: 'deployIdle' }, env);
    expect(run.result.kind).toBe('wait');
    expect(run.learned?.stepRecords?.[d.stepIndex]).toEqual({ startedAt: env.now, retries: 0 });
    expect(run.learned?.stepRecords?.slice(0, d.stepIndex)).toEqual(d.stepRecords.slice(0, d.stepIndex));
  });

  it('leaves the count to the caller when the provider fails again', async () => {
    sandbox.kubernetes.faults.inject({ status: 503, match: '/deployments/acme-api-green' });
    await expect(runStep(d, d.steps[d.stepIndex] ?? { kind: 'deployIdle' }, env)).rejects.toBeInstanceOf(
      ProviderFailed,
    );
  });

  it('reports nothing to reset for a step that never failed', async () => {
    const clean = { ...d, stepRecords: d.stepRecords.map((r, i) => (i === d.stepIndex ? { startedAt: env.now } : r)) };
    const run = await runStep(clean, clean.steps[clean.stepIndex] ?? { kind: 'deployIdle' }, env);
    expect(run.learned?.stepRecords).toBeUndefined();
  });
});

describe('smoke tests timed on a busy worker', () => {
  /** A worker whose loop stalls `ms` inside each request, as under a saturating load; the service answers at once. */
  const stallingFetch =
    (ms: number): typeof fetch =>
    async (input, init) => {
      const pending = fetch(input, init);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const until = performance.now() + ms;
      while (performance.now() < until) {
        // spin: nothing else on this loop runs, timers included
      }
      return pending;
    };

  const atSmoke = (startedAt: number): Deployment => {
    const index = d.steps.findIndex((s) => s.kind === 'smoke');
    return {
      ...d,
      newColor: 'green',
      stepIndex: index,
      stepRecords: d.steps.map((_, i) => (i === index ? { startedAt } : i < index ? { outcome: 'ok' as const } : {})),
    };
  };

  it('slow only by the loop’s own stalls: measures again later instead of failing', async () => {
    const busy = { ...env, providers: { ...env.providers, health: new HttpHealth({ fetch: stallingFetch(600) }) } };
    const smoke = atSmoke(env.now);
    const run = await runStep(smoke, { kind: 'smoke' }, busy);

    expect(run.result).toMatchObject({ kind: 'wait', ms: SMOKE_REMEASURE_MS });
    expect(run.result.kind === 'wait' && run.result.detail).toMatch(
      /^measuring again: .*over the 500 ms limit on each of 3 attempts .*event-loop lag up to \d+ ms while measuring/,
    );
  });

  it('still slow that way after the re-measuring window: fails, saying the loop stayed too busy', async () => {
    const busy = { ...env, providers: { ...env.providers, health: new HttpHealth({ fetch: stallingFetch(600) }) } };
    const smoke = atSmoke(env.now - SMOKE_REMEASURE_WINDOW_MS);
    const run = await runStep(smoke, { kind: 'smoke' }, busy);

    expect(run.result.kind).toBe('fail');
    expect(run.result.kind === 'fail' && run.result.reason).toMatch(
      /^smoke tests failed: .*over the 500 ms limit.*\(re-measured for 60 s; this worker's event loop stayed too busy to tell\)$/,
    );
  });

  it('a service slow on an idle loop fails at once, without waiting', async () => {
    // The service takes 700 ms to answer; this loop stays free the whole time.
    const slowService: typeof fetch = async (input, init) => {
      await new Promise((resolve) => setTimeout(resolve, 700));
      return fetch(input, init);
    };
    const slow = { ...env, providers: { ...env.providers, health: new HttpHealth({ fetch: slowService }) } };
    const run = await runStep(atSmoke(env.now), { kind: 'smoke' }, slow);

    expect(run.result.kind).toBe('fail');
    expect(run.result.kind === 'fail' && run.result.reason).not.toContain('re-measured');
  });
});
