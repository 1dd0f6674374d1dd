import type { Deployment, Intents } from '../domain/deployment.js';
import { driftBetween, type ObservedState } from '../domain/drift.js';
import { imageFor } from './image.js';
import type { StepEnv } from './step-runners.js';
import { trafficTarget, workloadRef } from './step-runners.js';

/** Reads the weights and the new version's image, the facts a record can fall behind on. */
async function observe(d: Deployment, env: StepEnv): Promise<ObservedState> {
  const target = trafficTarget(env.service);
  const weights = target && d.newColor ? await env.providers.traffic.readWeights(target) : undefined;
  const image = await env.providers.workload.readImage(workloadRef(env.service, d.newColor));
  return { weights, image };
}

/**
 * Before a worker acts on a deployment it looks at the infrastructure (the
 * infrastructure, not the record, is the truth). Returns why it no longer matches the record,
 * if it does not.
 */
export async function findDrift(d: Deployment, intents: Intents, env: StepEnv): Promise<string | undefined> {
  if (d.phase !== 'running' || (!d.newColor && d.strategy !== 'rolling')) return undefined;
  // Held against the image the catalog builds for the version, not an image the record holds.
  const expected = { ...d, image: imageFor(env.service, d.version) };
  return driftBetween(expected, intents, await observe(d, env));
}

/** What `resume` does after a drift: put back what Switchyard last set (weights, image). */
export async function reapply(d: Deployment, env: StepEnv): Promise<void> {
  const target = trafficTarget(env.service);
  if (target && d.weights) await env.providers.traffic.setWeights(target, d.weights);
  const deployStep = d.steps.findIndex((step) => step.kind === 'deployIdle');
  if (deployStep >= 0 && d.stepIndex > deployStep)
    await env.providers.workload.setImage(workloadRef(env.service, d.newColor), imageFor(env.service, d.version));
}
