import type { Step } from '../../../src/domain/steps.js';
import { describeStep } from '../../../src/domain/steps.js';
import type { Strategy } from '../../../src/runbook/catalog.js';
import { parseCatalog } from '../../../src/runbook/catalog.js';
import { planSteps } from '../../../src/runbook/plan.js';
import { SANDBOX_IMAGE, type SandboxOptions } from '../../../sandbox/sandbox.js';

/** The stand-ins a step talks to; the one a kill point slows down so the kill lands mid-call. */
export type StandInName = 'elbv2' | 'kubernetes' | 'service' | 'datadog' | 'slack';

export const P99_QUERY = 'p99:trace.http.request.duration{service:acme-api}';

/** Every kind of step in one plan: both hooks, health, smoke, gates with a monitor check, and a monitoring window. */
const COMMON = {
  hooks: {
    preDeploy: [{ name: 'migrate', image: `${SANDBOX_IMAGE}:{version}`, command: ['/app/migrate', 'up'] }],
    postDeploy: [{ name: 'e2e', image: 'registry.example.com/acme/e2e:latest' }],
  },
  gates: {
    intervalSeconds: 0.3,
    failureLimit: 0,
    inconclusiveLimit: 3,
    metrics: [{ name: 'p99 latency', query: P99_QUERY, max: 0.8 }],
    monitors: { tags: ['service:acme-api'], priorities: [1, 2] },
  },
  monitorSeconds: 1.5,
  rollbackWindowSeconds: 60,
};

const STAGES: Record<Exclude<Strategy, 'rolling'>, { weight: number; bakeSeconds: number }[]> = {
  'blue-green': [
    { weight: 10, bakeSeconds: 1 },
    { weight: 50, bakeSeconds: 1 },
    { weight: 100, bakeSeconds: 0 },
  ],
  canary: [
    { weight: 5, bakeSeconds: 1 },
    { weight: 25, bakeSeconds: 1 },
    { weight: 50, bakeSeconds: 1 },
    { weight: 100, bakeSeconds: 0 },
  ],
};

/** The rolling strategy's one Deployment, which the test adds to the Kubernetes stand-in. */
export const ROLLING_DEPLOYMENT = 'acme-api-main';

/** The acme-api entry for a strategy, as the sandbox's `service` option. */
export function scenarioService(strategy: Strategy): NonNullable<SandboxOptions['service']> {
  if (strategy !== 'rolling') return { ...COMMON, strategy, stages: STAGES[strategy] };
  return (serviceUrl: string) => ({
    ...COMMON,
    strategy,
    traffic: undefined,
    stages: undefined,
    workload: {
      provider: 'kubernetes',
      namespace: 'prod',
      deployments: { main: ROLLING_DEPLOYMENT },
      container: 'api',
      image: SANDBOX_IMAGE,
      rolloutTimeoutSeconds: 20,
    },
    health: { urls: { main: `${serviceUrl}/main/healthz` }, versionField: 'sha', timeoutMs: 2000 },
  });
}

/** The stage weights of a strategy, in order (none for rolling). */
export const stageWeights = (strategy: Strategy): number[] =>
  strategy === 'rolling' ? [] : STAGES[strategy].map((s) => s.weight);

/** The steps a deployment of this scenario walks, computed the way the bot computes them. */
export function scenarioSteps(strategy: Strategy): Step[] {
  const service = scenarioService(strategy);
  const entry = typeof service === 'function' ? service('http://127.0.0.1:9') : service;
  const targetGroups = {
    blue: 'arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/b/1',
    green: 'arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/g/2',
  };
  const catalog = parseCatalog({
    slack: { channel: 'C0DEPLOYS', releaseManagers: ['U0RM1'], onCall: 'S0ONCALL' },
    services: {
      'acme-api': {
        traffic: { listenerArn: 'arn:aws:elasticloadbalancing:us-east-1:1:listener/app/a/1/2', targetGroups },
        workload: {
          namespace: 'prod',
          deployments: { blue: 'acme-api-blue', green: 'acme-api-green' },
          container: 'api',
          image: SANDBOX_IMAGE,
        },
        health: { urls: { blue: 'http://127.0.0.1:9/blue/healthz', green: 'http://127.0.0.1:9/green/healthz' } },
        smoke: [{ name: 'auth token', url: 'http://127.0.0.1:9/{color}/api/v2/auth/token' }],
        ...entry,
      },
    },
  });
  const config = catalog.services['acme-api'];
  if (!config) throw new Error('the scenario catalog lost acme-api');
  return planSteps(config, strategy);
}

/** How a deployment is brought to roll back, for the kill points inside a rollback. */
export type RollbackCause =
  /** `/rollback` typed once the bake of the second stage (rolling: the monitoring) starts. */
  | 'command'
  /** The p99 gate breaches during the monitoring window after 100%. */
  | 'breach';

export interface KillPoint {
  /** As it reads in the report: `blue-green · shift traffic to 50%`. */
  name: string;
  strategy: Strategy;
  /** Kill once this step has started (its start is saved before it acts)… */
  stepIndex?: number;
  /** …or once the deployment is rolling back for this cause. */
  rollback?: RollbackCause;
  /** Answers slowly during the run, so the worker dies while waiting for it. */
  slow: StandInName;
  expect: 'succeeded' | 'rolled-back';
}

const slowFor = (step: Step, strategy: Strategy): StandInName => {
  switch (step.kind) {
    case 'preflight':
      return strategy === 'rolling' ? 'kubernetes' : 'elbv2';
    case 'hook':
    case 'deployIdle':
      return 'kubernetes';
    case 'health':
    case 'smoke':
      return 'service';
    case 'setWeight':
      return 'elbv2';
    case 'bake':
    case 'monitor':
      return 'datadog';
    case 'complete':
      return 'slack';
  }
};

/** A kill at the start of every step of the strategy's plan, and two inside a rollback. */
export function killPoints(strategy: Strategy): KillPoint[] {
  const steps = scenarioSteps(strategy);
  const atSteps: KillPoint[] = steps.map((step, stepIndex) => ({
    name: `${strategy} · ${describeStep(step)}`,
    strategy,
    stepIndex,
    slow: slowFor(step, strategy),
    expect: 'succeeded',
  }));
  const undo: StandInName = strategy === 'rolling' ? 'kubernetes' : 'elbv2';
  return [
    ...atSteps,
    {
      name: `${strategy} · rollback asked with /rollback`,
      strategy,
      rollback: 'command',
      slow: undo,
      expect: 'rolled-back',
    },
    {
      name: `${strategy} · rollback after a gate breach`,
      strategy,
      rollback: 'breach',
      slow: undo,
      expect: 'rolled-back',
    },
  ];
}
