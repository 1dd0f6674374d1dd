import { describe, expect, it } from 'vitest';
import { weightsFor } from '../../../src/domain/color.js';
import { driftBetween, expectedWeights } from '../../../src/domain/drift.js';
import { deployment, IMAGE, T0 } from '../fixtures.js';

const indexOf = (d: ReturnType<typeof deployment>, kind: string, weight?: number) =>
  d.steps.findIndex((s) => s.kind === kind && (weight === undefined || ('weight' in s && s.weight === weight)));

describe('driftBetween: the record held against what the infrastructure shows', () => {
  const base = deployment();
  const bake50 = indexOf(base, 'bake', 50);
  const set50 = indexOf(base, 'setWeight', 50);
  const baking = deployment({ stepIndex: bake50, weights: weightsFor('green', 50) });

  it('finds nothing when the load balancer and the image are as Switchyard left them', () => {
    expect(driftBetween(baking, {}, { weights: { blue: 50, green: 50 }, image: baking.image })).toBeUndefined();
  });

  it('names the weights seen and the ones Switchyard set when someone moved traffic by hand', () => {
    expect(driftBetween(baking, {}, { weights: { blue: 100, green: 0 }, image: baking.image })).toBe(
      'changed outside Switchyard: the load balancer sends blue 100% / green 0% where Switchyard last set blue 50% / green 50%',
    );
  });

  it('accepts either side of a weight change a killed worker may have been making', () => {
    const setting = deployment({ stepIndex: set50, weights: weightsFor('green', 10) });
    expect(driftBetween(setting, {}, { weights: weightsFor('green', 10) })).toBeUndefined();
    expect(driftBetween(setting, {}, { weights: weightsFor('green', 50) })).toBeUndefined();
    expect(driftBetween(setting, {}, { weights: weightsFor('green', 30) })).toMatch(/blue 70% \/ green 30%/);
  });

  it('accepts the weight of a /shift hold that was recorded but not saved yet', () => {
    const hold = { weight: 25, by: 'U0DEV1', at: T0 };
    expect(expectedWeights(baking, { hold })).toContainEqual(weightsFor('green', 25));
    expect(driftBetween(baking, { hold }, { weights: weightsFor('green', 25) })).toBeUndefined();
  });

  it('expects all traffic on the live colour before the first shift', () => {
    const beforeShift = deployment({ stepIndex: indexOf(base, 'health') });
    expect(driftBetween(beforeShift, {}, { weights: { blue: 100, green: 0 } })).toBeUndefined();
    expect(driftBetween(beforeShift, {}, { weights: { blue: 90, green: 10 } })).toMatch(/blue 90% \/ green 10%/);
  });

  it('names an image changed after the new version was rolled out, not during the rollout', () => {
    expect(driftBetween(baking, {}, { weights: weightsFor('green', 50), image: `${IMAGE}:hotpatch` })).toBe(
      `changed outside Switchyard: the green Deployment runs ${IMAGE}:hotpatch instead of ${baking.image}`,
    );
    const rollingOut = deployment({ stepIndex: indexOf(base, 'deployIdle') });
    expect(driftBetween(rollingOut, {}, { image: `${IMAGE}:old` })).toBeUndefined();
  });

  it('leaves paused and rolling-back deployments alone', () => {
    const seen = { weights: { blue: 100, green: 0 } };
    expect(driftBetween({ ...baking, phase: 'paused' }, {}, seen)).toBeUndefined();
    expect(driftBetween({ ...baking, phase: 'rolling-back' }, {}, seen)).toBeUndefined();
  });
});
