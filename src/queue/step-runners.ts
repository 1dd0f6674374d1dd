import type { Color } from '../domain/color.js';
import { liveColorOf, otherColor, sameWeights, weightsFor } from '../domain/color.js';
import type { Deployment } from '../domain/deployment.js';
import { describeRun, EMPTY_TALLY, hasAnyGate, tally, type GateRun } from '../domain/gates.js';
import { bakeProgress, type StepResult } from '../domain/machine.js';
import { runGates } from '../providers/metrics/gate-runner.js';
import { gatesFor } from '../runbook/plan.js';
import type { Step } from '../domain/steps.js';
import type { Providers } from '../providers/providers.js';
import type { TrafficTarget } from '../providers/traffic/traffic.js';
import type { WorkloadRef } from '../providers/workload/workload.js';
import type { ServiceConfig } from '../runbook/catalog.js';
import { describeError } from '../errors.js';
import { imageFor, RefusedVersionError } from './image.js';

/** How often a rollout or a failing health check is looked at again. */
export const POLL_MS = 1000;
/** How long the new environment's /healthz may take to report the new version after its rollout. */
export const HEALTH_GRACE_MS = 30_000;
/**
 * A smoke check slow only by the worker's own event-loop lag is measured again after this
 * long, for up to the window below; then the slow readings stand as the failure.
 */
export const SMOKE_REMEASURE_MS = 2000;
export const SMOKE_REMEASURE_WINDOW_MS = 60_000;

export interface StepEnv {
  service: ServiceConfig;
  providers: Providers;
  now: number;
}

/** A step runner may also learn facts the record keeps (live colour, previous version). */
export interface StepRun {
  result: StepResult;
  learned?: Partial<
    Pick<
      Deployment,
      'liveColor' | 'newColor' | 'previousVersion' | 'previousImage' | 'gateTally' | 'lastGateRun' | 'stepRecords'
    >
  >;
  /** A gate breach after the rollback window: page on-call instead of rolling back. */
  alert?: string[];
  /** The gate run of this tick, for the event log. */
  gateRun?: GateRun;
}

export const versionOfImage = (image: string): string => image.slice(image.lastIndexOf(':') + 1);

export const trafficTarget = (service: ServiceConfig): TrafficTarget | undefined => service.traffic;

/** The Deployment of a colour, or the one Deployment of a rolling service. */
export function workloadRef(service: ServiceConfig, color: Color | undefined): WorkloadRef {
  const deployments = service.workload.deployments;
  const deployment = 'main' in deployments ? deployments.main : deployments[color ?? 'blue'];
  return { namespace: service.workload.namespace, deployment, container: service.workload.container };
}

export function healthUrl(service: ServiceConfig, color: Color | undefined): string | undefined {
  const urls = service.health?.urls;
  if (!urls) return undefined;
  return 'main' in urls ? urls.main : urls[color ?? 'blue'];
}

const elapsed = (d: Deployment, now: number): number => now - (d.stepRecords[d.stepIndex]?.startedAt ?? now);

/**
 * Open high-urgency incidents of the service's PagerDuty service refuse a deployment; a hotfix
 * goes ahead and says so. PagerDuty unreadable: a hotfix goes ahead saying so; any other
 * deployment gets the step's retries (the error propagates) and then fails, naming the reason,
 * because the check exists to keep deployments off an incident nobody can rule out.
 */
async function checkIncidents(d: Deployment, env: StepEnv): Promise<{ refusal?: string; note: string }> {
  const serviceId = env.service.pagerduty?.serviceId;
  const paging = env.providers.paging;
  if (!serviceId || !paging?.readsIncidents) return { note: '' };
  let open;
  try {
    open = await paging.openHighUrgencyIncidents(serviceId);
  } catch (error) {
    if (!d.hotfix) throw error;
    return { note: ` · HOTFIX proceeding without the PagerDuty incident check (${describeError(error)})` };
  }
  if (open.length === 0) return { note: '' };
  const named = open.map((i) => `${i.title} (${i.status}, ${i.url})`).join('; ');
  if (!d.hotfix)
    return {
      note: '',
      refusal: `PagerDuty service ${serviceId} has an open high-urgency incident: ${named}; not deploying on top of an incident (a hotfix may)`,
    };
  return { note: ` · HOTFIX proceeding although PagerDuty has an open high-urgency incident: ${named}` };
}

async function preflight(d: Deployment, env: StepEnv): Promise<StepRun> {
  const gates = gatesFor(d.service, env.service, d.strategy);
  if (!env.providers.metrics && hasAnyGate(gates)) {
    // Gates nobody can read would let every stage pass unwatched.
    const reason = `${d.service} is gated on Datadog but this worker has no Datadog credentials: set DD_API_KEY and DD_APP_KEY, or turn the gates off in the catalog (gates.metrics: [] and no logs, slos or monitors)`;
    return { result: { kind: 'fail', reason } };
  }
  const target = trafficTarget(env.service);
  const monitors = env.service.gates.monitors;
  let firingNote = '';
  if (monitors && env.providers.metrics) {
    const firing = await env.providers.metrics.firingMonitors(monitors.tags, monitors.priorities);
    if (firing.length > 0) {
      const names = firing.map((m) => `${m.name}${m.priority ? ` (P${m.priority})` : ''}`).join(', ');
      if (!d.hotfix)
        return {
          result: {
            kind: 'fail',
            reason: `monitors are firing for ${monitors.tags.join(', ')}: ${names}; not deploying on top of an incident (a hotfix may)`,
          },
        };
      firingNote = ` · HOTFIX proceeding although monitors fire: ${names}`;
    }
  }
  const incidents = await checkIncidents(d, env);
  if (incidents.refusal) return { result: { kind: 'fail', reason: incidents.refusal } };
  firingNote += incidents.note;
  if (!target) {
    const previousImage = await env.providers.workload.readImage(workloadRef(env.service, undefined));
    const previousVersion = d.previousVersion ?? versionOfImage(previousImage);
    try {
      // A rolling rollback rebuilds the previous image from this version: it must be one.
      imageFor(env.service, previousVersion, 'previous version');
    } catch (error) {
      if (error instanceof RefusedVersionError)
        return {
          result: {
            kind: 'fail',
            reason: `${error.message} (the Deployment runs ${previousImage}): no rollback target`,
          },
        };
      throw error;
    }
    return {
      result: { kind: 'done', detail: `running ${versionOfImage(previousImage)}${firingNote}` },
      learned: {
        previousImage: d.previousImage ?? previousImage,
        previousVersion,
      },
    };
  }
  const weights = await env.providers.traffic.readWeights(target);
  // After a crash the record already knows the colours; the load balancer may by now hold them at 10/90.
  const live = d.liveColor ?? liveColorOf(weights);
  if (!live) {
    return {
      result: {
        kind: 'fail',
        reason: `traffic is split (blue ${weights.blue}% / green ${weights.green}%): finish or roll back that change before deploying`,
      },
    };
  }
  const previousImage = await env.providers.workload.readImage(workloadRef(env.service, live));
  const previousVersion = versionOfImage(previousImage);
  return {
    result: {
      kind: 'done',
      detail: `${live} is live with ${previousVersion}; deploying to ${otherColor(live)}${firingNote}`,
    },
    learned: { liveColor: live, newColor: otherColor(live), previousImage, previousVersion },
  };
}

async function deployIdle(d: Deployment, env: StepEnv): Promise<StepRun> {
  const ref = workloadRef(env.service, d.newColor);
  let image: string;
  try {
    image = imageFor(env.service, d.version);
  } catch (error) {
    if (error instanceof RefusedVersionError) return { result: { kind: 'fail', reason: error.message } };
    throw error;
  }
  await env.providers.workload.setImage(ref, image);
  const status = await env.providers.workload.rolloutStatus(ref);
  if (status.phase === 'complete') return { result: { kind: 'done', detail: `${ref.deployment} runs ${d.version}` } };
  if (status.phase === 'failed') {
    return {
      result: { kind: 'fail', reason: `rollout of ${ref.namespace}/${ref.deployment} failed: ${status.message}` },
    };
  }
  const timeoutMs = env.service.workload.rolloutTimeoutSeconds * 1000;
  if (elapsed(d, env.now) >= timeoutMs) {
    return {
      result: {
        kind: 'fail',
        reason: `rollout of ${ref.namespace}/${ref.deployment} did not finish within ${env.service.workload.rolloutTimeoutSeconds}s: ${status.message}`,
      },
    };
  }
  return { result: { kind: 'wait', ms: POLL_MS, detail: status.message } };
}

async function health(d: Deployment, env: StepEnv): Promise<StepRun> {
  const url = healthUrl(env.service, d.newColor);
  const config = env.service.health;
  if (!url || !config) return { result: { kind: 'done' } };
  const check = await env.providers.health.checkVersion(url, config.versionField, d.version, config.timeoutMs);
  if (check.ok) return { result: { kind: 'done', detail: check.message } };
  if (elapsed(d, env.now) >= HEALTH_GRACE_MS)
    return { result: { kind: 'fail', reason: `health check failed: ${check.message}` } };
  return { result: { kind: 'wait', ms: POLL_MS, detail: check.message } };
}

async function smoke(d: Deployment, env: StepEnv): Promise<StepRun> {
  const color = d.newColor ?? 'main';
  const results = await Promise.all(
    env.service.smoke.map((check) =>
      env.providers.health.smoke(
        { ...check, url: check.url.replaceAll('{color}', color) },
        env.service.health?.timeoutMs ?? 5000,
      ),
    ),
  );
  const failed = results.filter((r) => !r.ok);
  const evidence = failed.map((r) => r.message).join('; ');
  if (failed.length === 0) return { result: { kind: 'done', detail: results.map((r) => r.message).join('; ') } };
  // Slow only by this worker's own lag: measure again once the loop is quieter, for a while.
  if (failed.every((r) => r.inconclusive)) {
    if (elapsed(d, env.now) < SMOKE_REMEASURE_WINDOW_MS) {
      return { result: { kind: 'wait', ms: SMOKE_REMEASURE_MS, detail: `measuring again: ${evidence}` } };
    }
    return {
      result: {
        kind: 'fail',
        reason: `smoke tests failed: ${evidence} (re-measured for ${SMOKE_REMEASURE_WINDOW_MS / 1000} s; this worker's event loop stayed too busy to tell)`,
      },
    };
  }
  return { result: { kind: 'fail', reason: `smoke tests failed: ${evidence}` } };
}

/** A Job name unique to this deployment and hook, within Kubernetes' 63 characters. */
export const hookJobName = (d: Deployment, hookName: string): string =>
  `${hookName.slice(0, 40)}-${d.id.split('-').slice(-2).join('-')}`.toLowerCase();

async function hook(d: Deployment, step: Extract<Step, { kind: 'hook' }>, env: StepEnv): Promise<StepRun> {
  const spec = env.service.hooks[step.when][step.index];
  if (!spec) return { result: { kind: 'fail', reason: `hook ${step.name} is no longer in the catalog` } };
  const withVersion = (text: string) => text.replaceAll('{version}', d.version);
  const namespace = env.service.workload.namespace;
  const name = hookJobName(d, spec.name);
  await env.providers.workload.runJob({
    namespace,
    name,
    image: withVersion(spec.image),
    command: spec.command?.map(withVersion),
    args: spec.args?.map(withVersion),
    env: spec.env && Object.fromEntries(Object.entries(spec.env).map(([key, value]) => [key, withVersion(value)])),
    labels: { 'app.kubernetes.io/managed-by': 'switchyard', 'switchyard.dev/hook': spec.name.slice(0, 63) },
    activeDeadlineSeconds: spec.timeoutSeconds,
  });
  const status = await env.providers.workload.jobStatus(namespace, name);
  const tail = status.logTail.slice(-5);
  const logs = tail.length ? `\n\`\`\`${tail.join('\n')}\`\`\`` : '';
  if (status.phase === 'succeeded')
    return { result: { kind: 'done', detail: `Job ${namespace}/${name}: ${status.message}${logs}` } };
  if (status.phase === 'failed')
    return {
      result: {
        kind: 'fail',
        reason: `${step.when} hook ${spec.name} (Job ${namespace}/${name}) failed: ${status.message}${logs}`,
      },
    };
  if (elapsed(d, env.now) >= spec.timeoutSeconds * 1000) {
    return {
      result: {
        kind: 'fail',
        reason: `${step.when} hook ${spec.name} (Job ${namespace}/${name}) did not finish within ${spec.timeoutSeconds}s`,
      },
    };
  }
  return { result: { kind: 'wait', ms: POLL_MS, detail: status.message } };
}

async function setWeight(d: Deployment, step: Extract<Step, { kind: 'setWeight' }>, env: StepEnv): Promise<StepRun> {
  const target = trafficTarget(env.service);
  if (!target || !d.newColor) return { result: { kind: 'fail', reason: 'no traffic target for a weighted step' } };
  const wanted = weightsFor(d.newColor, step.weight);
  await env.providers.traffic.setWeights(target, wanted);
  // Argo's VerifyWeight: the step is done only when the load balancer reports the weights.
  const seen = await env.providers.traffic.readWeights(target);
  if (!sameWeights(seen, wanted)) {
    return {
      result: {
        kind: 'wait',
        ms: POLL_MS,
        detail: `waiting for the load balancer to report ${step.weight}% (sees blue ${seen.blue} / green ${seen.green})`,
      },
    };
  }
  return {
    result: {
      kind: 'done',
      detail: `${d.newColor} ${wanted[d.newColor]}% · ${d.liveColor} ${d.liveColor ? wanted[d.liveColor] : 0}%`,
    },
  };
}

interface GateCheck {
  run: GateRun;
  learned: NonNullable<StepRun['learned']>;
  /** Set when the gates say to stop: roll back (fail) or pause. */
  stop?: StepResult;
}

/** Runs the gates once and counts the outcome against failureLimit / inconclusiveLimit. */
async function checkGates(d: Deployment, env: StepEnv): Promise<GateCheck | undefined> {
  const metrics = env.providers.metrics;
  const gates = gatesFor(d.service, env.service, d.strategy);
  if (!hasAnyGate(gates) || !metrics) return undefined;
  const run = await runGates(metrics, gates, d.newColor, d.liveColor, env.now, d.version);
  const counted = tally(d.gateTally ?? EMPTY_TALLY, run, gates);
  const learned = { gateTally: counted.tally, lastGateRun: run };
  if (counted.verdict === 'rollback') {
    const breached = run.readings
      .filter((r) => r.outcome === 'breach')
      .map((r) => r.name)
      .concat(run.firingMonitors.map((m) => m.name));
    const reason = `gate breach at ${d.weights && d.newColor ? d.weights[d.newColor] : 0}%: ${breached.join(', ')}`;
    return { run, learned, stop: { kind: 'fail', reason, evidence: describeRun(run, { evidence: true }) } };
  }
  if (counted.verdict === 'pause') {
    return {
      run,
      learned,
      stop: { kind: 'pause', reason: `gates inconclusive ${counted.tally.consecutiveInconclusive} times in a row` },
    };
  }
  return { run, learned };
}

/**
 * A bake or the post-100% monitoring: run the gates, then roll back, pause, page (a breach
 * after the rollback window), or wait for the next interval.
 */
async function watch(d: Deployment, step: Extract<Step, { kind: 'bake' | 'monitor' }>, env: StepEnv): Promise<StepRun> {
  const intervalMs = env.service.gates.intervalSeconds * 1000;
  const check = await checkGates(d, env);
  if (!check) return { result: bakeProgress(d, step.seconds, env.now, intervalMs) };
  const { run, learned, stop } = check;
  if (stop?.kind === 'fail') {
    const windowEnds = (d.fullTrafficAt ?? env.now) + env.service.rollbackWindowSeconds * 1000;
    if (step.kind === 'monitor' && env.now > windowEnds) {
      return {
        result: bakeProgress(d, step.seconds, env.now, intervalMs),
        learned,
        gateRun: run,
        alert: describeRun(run, { evidence: true }),
      };
    }
  }
  return { result: stop ?? bakeProgress(d, step.seconds, env.now, intervalMs, run.outcome), learned, gateRun: run };
}

/** One tick of a `/shift` hold: the weight stays where it was put and the gates keep running. */
export async function holdAt(d: Deployment, weight: number, env: StepEnv): Promise<StepRun & { changed: boolean }> {
  const target = trafficTarget(env.service);
  if (!target || !d.newColor) return { result: { kind: 'fail', reason: 'no traffic target to hold' }, changed: false };
  const { changed } = await env.providers.traffic.setWeights(target, weightsFor(d.newColor, weight));
  const check = await checkGates({ ...d, weights: weightsFor(d.newColor, weight) }, env);
  const wait: StepResult = { kind: 'wait', ms: env.service.gates.intervalSeconds * 1000 };
  return { result: check?.stop ?? wait, learned: check?.learned, gateRun: check?.run, changed };
}

/**
 * Runs the current step once. A run that got its answers clears the step's count of provider
 * errors: MAX_STEP_RETRIES counts errors in a row, so a long rollout poll or bake does not fail
 * on blips spread over its whole length.
 */
export async function runStep(d: Deployment, step: Step, env: StepEnv): Promise<StepRun> {
  const run = await runStepOnce(d, step, env);
  const record = d.stepRecords[d.stepIndex];
  if (!record?.retries) return run;
  const stepRecords = d.stepRecords.map((r, i) => (i === d.stepIndex ? { ...r, retries: 0 } : r));
  return { ...run, learned: { ...run.learned, stepRecords } };
}

async function runStepOnce(d: Deployment, step: Step, env: StepEnv): Promise<StepRun> {
  switch (step.kind) {
    case 'preflight':
      return preflight(d, env);
    case 'hook':
      return hook(d, step, env);
    case 'deployIdle':
      return deployIdle(d, env);
    case 'health':
      return health(d, env);
    case 'smoke':
      return smoke(d, env);
    case 'setWeight':
      return setWeight(d, step, env);
    case 'bake':
    case 'monitor':
      return watch(d, step, env);
    case 'complete':
      return { result: { kind: 'done' } };
  }
}
