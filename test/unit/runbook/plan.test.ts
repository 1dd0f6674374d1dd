import { describe, expect, it } from 'vitest';
import type { Step } from '../../../src/domain/steps.js';
import { parseCatalog, type ServiceConfig } from '../../../src/runbook/catalog.js';
import { expectedSeconds, planSteps } from '../../../src/runbook/plan.js';
import { bareService, specCatalog, specCatalogInput } from '../fixtures.js';

const service = (name: string): ServiceConfig => {
  const s = specCatalog().services[name];
  if (!s) throw new Error(`no ${name}`);
  return s;
};

describe('planSteps', () => {
  it('blue-green (the catalog example): preflight, preDeploy hook, deploy, health, smoke, then each stage and its bake, postDeploy hook, monitor, complete', () => {
    expect(planSteps(service('acme-api'), 'blue-green')).toEqual<Step[]>([
      { kind: 'preflight' },
      { kind: 'hook', when: 'preDeploy', index: 0, name: 'migrate' },
      { kind: 'deployIdle' },
      { kind: 'health' },
      { kind: 'smoke' },
      { kind: 'setWeight', weight: 10 },
      { kind: 'bake', seconds: 300, weight: 10 },
      { kind: 'setWeight', weight: 50 },
      { kind: 'bake', seconds: 300, weight: 50 },
      { kind: 'setWeight', weight: 100 },
      { kind: 'hook', when: 'postDeploy', index: 0, name: 'e2e' },
      { kind: 'monitor', seconds: 1800 },
      { kind: 'complete' },
    ]);
  });

  it('canary with default stages bakes 5/25/50/100, including at 100', () => {
    const input = specCatalogInput();
    delete input.services['acme-api'].stages;
    const s = parseCatalog(input).services['acme-api']!;
    const steps = planSteps(s, 'canary');
    expect(steps.filter((x) => x.kind === 'setWeight').map((x) => x.weight)).toEqual([5, 25, 50, 100]);
    expect(steps.filter((x) => x.kind === 'bake')).toEqual([
      { kind: 'bake', seconds: 600, weight: 5 },
      { kind: 'bake', seconds: 900, weight: 25 },
      { kind: 'bake', seconds: 900, weight: 50 },
      { kind: 'bake', seconds: 600, weight: 100 },
    ]);
    expect(expectedSeconds(steps)).toBe(600 + 900 + 900 + 600 + 1800);
  });

  it('rolling has no setWeight nor bake step; seed 000 default gates watch it after the rollout', () => {
    const steps = planSteps(service('acme-worker'), 'rolling');
    expect(steps.some((s) => s.kind === 'setWeight' || s.kind === 'bake')).toBe(false);
    expect(steps).toEqual([
      { kind: 'preflight' },
      { kind: 'deployIdle' },
      { kind: 'monitor', seconds: 1800 },
      { kind: 'complete' },
    ]);
  });

  it('rolling with gates turned off (metrics: []) ends right after the rollout', () => {
    const input = specCatalogInput();
    input.services['acme-worker'].gates = { metrics: [] };
    expect(planSteps(parseCatalog(input).services['acme-worker']!, 'rolling')).toEqual([
      { kind: 'preflight' },
      { kind: 'deployIdle' },
      { kind: 'complete' },
    ]);
  });

  it('rolling with gates: monitors after the rollout', () => {
    const input = specCatalogInput();
    input.services['acme-worker'].gates = { monitors: { tags: ['service:acme-worker'] } };
    const steps = planSteps(parseCatalog(input).services['acme-worker']!, 'rolling');
    expect(steps).toEqual([
      { kind: 'preflight' },
      { kind: 'deployIdle' },
      { kind: 'monitor', seconds: 1800 },
      { kind: 'complete' },
    ]);
  });

  it('no health step when health is unset, no smoke step without smoke checks, no monitor without gates', () => {
    const steps = planSteps(bareService(), 'blue-green');
    expect(steps.map((s) => s.kind)).toEqual([
      'preflight',
      'deployIdle',
      'setWeight',
      'bake',
      'setWeight',
      'bake',
      'setWeight',
      'complete',
    ]);
  });

  it('no monitor step when monitorSeconds is 0', () => {
    const input = specCatalogInput();
    input.services['acme-api'].monitorSeconds = 0;
    const steps = planSteps(parseCatalog(input).services['acme-api']!, 'blue-green');
    expect(steps.some((s) => s.kind === 'monitor')).toBe(false);
    expect(steps.at(-1)).toEqual({ kind: 'complete' });
  });

  it('a zero-second stage gets no bake step', () => {
    const steps = planSteps(bareService(), 'blue-green');
    const last = steps.findIndex((s) => s.kind === 'setWeight' && s.weight === 100);
    expect(steps[last + 1]).toEqual({ kind: 'complete' });
  });

  it('always starts with preflight and ends with complete', () => {
    for (const [name, strategy] of [
      ['acme-api', 'blue-green'],
      ['acme-api', 'canary'],
      ['acme-worker', 'rolling'],
    ] as const) {
      const steps = planSteps(service(name), strategy);
      expect(steps[0]).toEqual({ kind: 'preflight' });
      expect(steps.at(-1)).toEqual({ kind: 'complete' });
      expect(steps.filter((s) => s.kind === 'complete')).toHaveLength(1);
    }
  });

  // "hooks.preDeploy — run each Job; a failed Job fails the deployment
  // (nothing shifted yet)". The catalog accepts hooks but the plan has no step that runs them.
  it('runs hooks.preDeploy before deploying, and hooks.postDeploy after the shift', () => {
    // Whatever the step is called (`hook` here), one runs before deployIdle and one after the shift.
    const kinds = planSteps(service('acme-api'), 'blue-green').map((s) => s.kind as string);
    const hooks = kinds.flatMap((kind, i) => (/hook/i.test(kind) ? [i] : []));
    expect(hooks.length).toBeGreaterThanOrEqual(2);
    expect(Math.min(...hooks)).toBeLessThan(kinds.indexOf('deployIdle'));
    expect(Math.max(...hooks)).toBeGreaterThan(kinds.lastIndexOf('setWeight'));
    // A service without hooks gets no hook step.
    expect(planSteps(bareService(), 'blue-green').some((s) => /hook/i.test(s.kind))).toBe(false);
  });
});

describe('expectedSeconds', () => {
  it('sums bakes and monitoring only', () => {
    expect(expectedSeconds(planSteps(service('acme-api'), 'blue-green'))).toBe(300 + 300 + 1800);
    expect(expectedSeconds(planSteps(bareService(), 'blue-green'))).toBe(600);
    expect(expectedSeconds(planSteps(service('acme-worker'), 'rolling'))).toBe(1800);
    expect(expectedSeconds([])).toBe(0);
    expect(
      expectedSeconds([
        { kind: 'setWeight', weight: 10 },
        { kind: 'bake', seconds: 7, weight: 10 },
        { kind: 'monitor', seconds: 5 },
      ]),
    ).toBe(12);
  });
});
