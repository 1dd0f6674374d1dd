import { hasAnyGate } from '../domain/gates.js';
import type { Step } from '../domain/steps.js';
import { stagesOf, type MetricGate, type ServiceConfig, type Strategy } from './catalog.js';

/**
 * Seed 004's canary gate, used when a canary service names no metrics of its own: 98% of the
 * new colour's requests succeed.
 */
export const canarySuccessRateGate = (name: string): MetricGate => {
  const hits = `sum:trace.http.request.hits{service:${name},color:{color}}.as_count()`;
  const errors = `sum:trace.http.request.errors{service:${name},color:{color}}.as_count()`;
  return { name: 'success rate', query: `(${hits} - ${errors}) / ${hits}`, min: 0.98 };
};

/** The gates that apply to one deployment: the catalog's, or seed 004's default for canary. */
export function gatesFor(name: string, service: ServiceConfig, strategy: Strategy): ServiceConfig['gates'] {
  if (strategy === 'canary' && service.gates.metrics.length === 0)
    return { ...service.gates, metrics: [canarySuccessRateGate(name)] };
  return service.gates;
}

const hasGates = (service: ServiceConfig, strategy: Strategy): boolean =>
  hasAnyGate(service.gates) || strategy === 'canary';

/**
 * The steps of one deployment. Blue-green and canary shift traffic stage by stage;
 * rolling has no traffic step. Monitoring after 100% exists only when there is something to
 * watch.
 */
export function planSteps(service: ServiceConfig, strategy: Strategy): Step[] {
  const hooks = (when: 'preDeploy' | 'postDeploy'): Step[] =>
    service.hooks[when].map((hook, index) => ({ kind: 'hook', when, index, name: hook.name }));
  const steps: Step[] = [{ kind: 'preflight' }, ...hooks('preDeploy'), { kind: 'deployIdle' }];
  if (service.health) steps.push({ kind: 'health' });
  if (service.smoke.length > 0) steps.push({ kind: 'smoke' });
  if (strategy !== 'rolling') {
    for (const stage of stagesOf(service, strategy)) {
      steps.push({ kind: 'setWeight', weight: stage.weight });
      if (stage.bakeSeconds > 0) steps.push({ kind: 'bake', seconds: stage.bakeSeconds, weight: stage.weight });
    }
  }
  steps.push(...hooks('postDeploy'));
  if (hasGates(service, strategy) && service.monitorSeconds > 0)
    steps.push({ kind: 'monitor', seconds: service.monitorSeconds });
  steps.push({ kind: 'complete' });
  return steps;
}

export { expectedSeconds } from '../domain/steps.js';
