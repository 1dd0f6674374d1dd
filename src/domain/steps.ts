/**
 * One deployment is a list of steps walked in order; progress is the index of the current
 * step (Argo Rollouts' CurrentStepIndex). Exactly one kind per step.
 */
export type Step =
  /** Learn the live colour and version from the load balancer and the Deployments. */
  | { kind: 'preflight' }
  /** Run one of the catalog's hook Jobs (migrations before, e2e after) and wait for it to succeed. */
  | { kind: 'hook'; when: 'preDeploy' | 'postDeploy'; index: number; name: string }
  /** Set the idle (or, rolling, the only) Deployment's image and follow its rollout. */
  | { kind: 'deployIdle' }
  /** The new environment's /healthz answers 200 with the new version. */
  | { kind: 'health' }
  /** Every smoke check answers its status within its latency bound. */
  | { kind: 'smoke' }
  /** Put `weight` percent of traffic on the new colour and verify the load balancer holds it. */
  | { kind: 'setWeight'; weight: number }
  /** Hold the current weight for `seconds`, running the gates every interval. */
  | { kind: 'bake'; seconds: number; weight: number }
  /** After 100%: keep watching the gates for `seconds`. */
  | { kind: 'monitor'; seconds: number }
  /** Post the success message and release the service. */
  | { kind: 'complete' };

export type StepKind = Step['kind'];

/** How a step reads in the thread and the status line. */
export const describeStep = (step: Step): string => {
  switch (step.kind) {
    case 'preflight':
      return 'preflight';
    case 'hook':
      return `${step.when} hook ${step.name}`;
    case 'deployIdle':
      return 'deploy new version';
    case 'health':
      return 'health check';
    case 'smoke':
      return 'smoke tests';
    case 'setWeight':
      return `shift traffic to ${step.weight}%`;
    case 'bake':
      return `bake at ${step.weight}% for ${formatDuration(step.seconds * 1000)}`;
    case 'monitor':
      return `monitor for ${formatDuration(step.seconds * 1000)}`;
    case 'complete':
      return 'complete';
  }
};

export const formatDuration = (ms: number): string => {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h) return m ? `${h}h${m}m` : `${h}h`;
  if (m) return s ? `${m}m${s}s` : `${m}m`;
  return `${s}s`;
};

/** Seconds a plan is expected to take, counting only the waits it is made of. */
export const expectedSeconds = (steps: readonly Step[]): number =>
  steps.reduce((sum, step) => sum + (step.kind === 'bake' || step.kind === 'monitor' ? step.seconds : 0), 0);
