import { describeWeights, sameWeights, weightsFor, type Weights } from './color.js';
import type { Deployment, Intents } from './deployment.js';

/** What the infrastructure showed when the worker looked before acting. */
export interface ObservedState {
  weights?: Weights;
  /** The image of the Deployment the new version went to. */
  image?: string;
}

/**
 * The weights the load balancer may show with nobody but Switchyard having touched it: what the
 * worker last set, plus what a step it may have been killed in the middle of was setting.
 */
export function expectedWeights(d: Deployment, intents: Intents): Weights[] {
  if (!d.newColor) return [];
  const step = d.steps[d.stepIndex];
  const expected = [d.weights ?? weightsFor(d.newColor, 0)];
  if (step?.kind === 'setWeight') expected.push(weightsFor(d.newColor, step.weight));
  if (intents.hold) expected.push(weightsFor(d.newColor, intents.hold.weight));
  return expected;
}

/** True once the new image has been rolled out, so the Deployment must keep running it. */
const imageSettled = (d: Deployment): boolean => {
  const deployStep = d.steps.findIndex((step) => step.kind === 'deployIdle');
  return deployStep >= 0 && d.stepIndex > deployStep;
};

/**
 * Why the real state no longer matches the record (someone changed a weight in the console or
 * an image with kubectl), or undefined when it matches. Only running deployments are checked:
 * a rollback sets everything itself.
 */
export function driftBetween(d: Deployment, intents: Intents, seen: ObservedState): string | undefined {
  if (d.phase !== 'running') return undefined;
  const problems: string[] = [];
  const expected = expectedWeights(d, intents);
  if (seen.weights && expected.length > 0 && !expected.some((w) => sameWeights(w, seen.weights as Weights))) {
    problems.push(
      `the load balancer sends ${describeWeights(seen.weights)} where Switchyard last set ${describeWeights(expected[0] as Weights)}`,
    );
  }
  if (seen.image !== undefined && imageSettled(d) && seen.image !== d.image) {
    problems.push(`the ${d.newColor ?? 'service'} Deployment runs ${seen.image} instead of ${d.image}`);
  }
  return problems.length > 0 ? `changed outside Switchyard: ${problems.join('; ')}` : undefined;
}
