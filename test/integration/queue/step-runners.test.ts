import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Deployment } from '../../../src/domain/deployment.js';
import { ProviderFailed } from '../../../src/errors.js';
import { runStep, type StepEnv } from '../../../src/queue/step-runners.js';
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
