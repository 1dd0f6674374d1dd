import { elbv2ErrorXml } from '../../../sandbox/elbv2.js';
import { kubernetesStatus } from '../../../sandbox/kubernetes.js';
import type { Step } from '../../../src/domain/steps.js';
import type { Harness } from '../harness.js';
import type { Deployment } from '../../../src/domain/deployment.js';
import type { Findings } from './checks.js';
import { pausesThenResumes, waitFor, type FaultCase } from './faults.js';

const XML = { 'content-type': 'text/xml' };
const throttling = { status: 400, headers: XML, body: elbv2ErrorXml('Throttling', 'Rate exceeded') };
const awsDown = { status: 503, headers: XML, body: elbv2ErrorXml('InternalFailure', 'Service Unavailable') };
const conflict = (what: string) => ({
  status: 409,
  body: JSON.stringify(
    kubernetesStatus(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${what}: the object has been modified; please apply your changes to the latest version and try again`,
    ),
  ),
});
const GREEN = '/apis/apps/v1/namespaces/prod/deployments/acme-api-green';

const bakeAt = (weight: number) => (step: Step) => step.kind === 'bake' && step.weight === weight;
const first = (kind: Step['kind']) => (step: Step) => step.kind === kind;

/** Every injected answer was given: the run really met the fault. */
const consumed = (faults: (h: Harness) => { pending(): number }) => (h: Harness) => {
  const left = faults(h).pending();
  return left === 0 ? [] : [`the fault was not met (${left} injected answers left)`];
};
const sentTimes = (h: Harness, action: string) =>
  h.sandbox.elbv2.requests.filter((r) => new URLSearchParams(r.body).get('Action') === action).length;

export const ALB_CASES: FaultCase[] = [
  {
    fault: 'ALB Throttling (400)',
    point: 'on the 50% shift, fewer than the provider tries',
    inject: (h) => h.sandbox.elbv2.faults.inject({ ...throttling, match: 'ModifyListener', skip: 1, times: 2 }),
    expect: 'succeeded',
    verify: consumed((h) => h.sandbox.elbv2.faults),
  },
  {
    fault: 'ALB Throttling (400)',
    point: 'on the 50% shift, past the provider tries (the step retries)',
    inject: (h) => h.sandbox.elbv2.faults.inject({ ...throttling, match: 'ModifyListener', skip: 1, times: 5 }),
    expect: 'succeeded',
    verify: consumed((h) => h.sandbox.elbv2.faults),
  },
  {
    fault: 'ALB 5xx',
    point: 'four reads of the weights in a row failing mid-deployment',
    inject: (h) => h.sandbox.elbv2.faults.inject({ ...awsDown, match: 'DescribeListeners', skip: 3, times: 4 }),
    expect: 'succeeded',
    verify: consumed((h) => h.sandbox.elbv2.faults),
  },
  {
    fault: 'ALB answer lost',
    point: 'the 50% shift applied, its answer dropped',
    inject: (h) => h.sandbox.elbv2.faults.inject({ dropAnswer: true, match: 'ModifyListener', skip: 1 }),
    expect: 'succeeded',
    verify: (h) =>
      sentTimes(h, 'ModifyListener') === 3
        ? []
        : [`${sentTimes(h, 'ModifyListener')} ModifyListener calls for 3 stages`],
  },
  {
    fault: 'ALB hung request',
    point: 'the 50% shift never answered',
    inject: (h) => h.sandbox.elbv2.faults.inject({ hang: true, match: 'ModifyListener', skip: 1 }),
    expect: 'succeeded',
    verify: consumed((h) => h.sandbox.elbv2.faults),
  },
  {
    fault: 'ALB 5xx',
    point: 'down from the 50% shift on: rolls back once it answers',
    inject: (h) => h.sandbox.elbv2.faults.inject({ ...awsDown, match: 'ModifyListener', skip: 1, times: Infinity }),
    async during(h) {
      const rolling = await waitFor(h, (d) => d.phase !== 'running', 90_000);
      h.sandbox.elbv2.faults.clear();
      return rolling?.phase === 'rolling-back'
        ? {}
        : { lost: [`${rolling?.phase ?? 'still running'} instead of rolling back`] };
    },
    expect: 'rolled-back',
    weights: [10, 0],
    jobs: { migrate: 1, e2e: 0 },
  },
];

export const KUBERNETES_CASES: FaultCase[] = [
  {
    fault: 'Kubernetes 409 Conflict',
    point: 'patching the new image',
    inject: (h) =>
      h.sandbox.kubernetes.faults.inject({
        ...conflict('deployments.apps "acme-api-green"'),
        match: GREEN,
        method: 'PATCH',
        times: 2,
      }),
    expect: 'succeeded',
    verify: consumed((h) => h.sandbox.kubernetes.faults),
  },
  {
    fault: 'Kubernetes 409 Conflict',
    point: 'creating the migrate Job',
    inject: (h) =>
      h.sandbox.kubernetes.faults.inject({ ...conflict('jobs.batch'), match: '/jobs', method: 'POST', times: 2 }),
    expect: 'succeeded',
    verify: consumed((h) => h.sandbox.kubernetes.faults),
  },
  {
    fault: 'Kubernetes 5xx',
    point: 'during the rollout poll',
    inject: (h) =>
      h.sandbox.kubernetes.faults.inject({
        status: 503,
        body: JSON.stringify(kubernetesStatus(503, 'ServiceUnavailable', 'etcdserver: leader changed')),
        match: GREEN,
        method: 'GET',
        skip: 1,
        times: 3,
      }),
    expect: 'succeeded',
    verify: consumed((h) => h.sandbox.kubernetes.faults),
  },
  {
    fault: 'Kubernetes connection reset',
    point: 'during the rollout poll (a dropped watch)',
    inject: (h) => h.sandbox.kubernetes.faults.inject({ reset: true, match: GREEN, method: 'GET', skip: 1, times: 2 }),
    expect: 'succeeded',
    verify: consumed((h) => h.sandbox.kubernetes.faults),
  },
  {
    fault: 'Kubernetes hung request',
    point: 'a rollout poll never answered',
    inject: (h) => h.sandbox.kubernetes.faults.inject({ hang: true, match: GREEN, method: 'GET', skip: 1 }),
    expect: 'succeeded',
    verify: consumed((h) => h.sandbox.kubernetes.faults),
  },
];

const pagedAt50 = (h: Harness) =>
  h.sandbox.weights().green === 50
    ? []
    : [`shifted on while the gates were unreadable: green at ${h.sandbox.weights().green}%`];

export const DATADOG_CASES: FaultCase[] = [
  {
    fault: 'Datadog 429',
    point: 'a burst during the 10% bake',
    at: bakeAt(10),
    inject: (h) =>
      h.sandbox.datadog.faults.inject({
        status: 429,
        headers: { 'x-ratelimit-reset': '0' },
        body: '{"errors":["Rate limit reached"]}',
        match: '/api/v1/query',
        times: 4,
      }),
    expect: 'succeeded',
    verify: consumed((h) => h.sandbox.datadog.faults),
  },
  {
    fault: 'Datadog 5xx',
    point: 'reading monitors in preflight',
    inject: (h) => h.sandbox.datadog.faults.inject({ status: 502, match: '/api/v1/monitor', times: 4 }),
    expect: 'succeeded',
    verify: consumed((h) => h.sandbox.datadog.faults),
  },
  {
    fault: 'Datadog 5xx',
    point: 'an outage during the 50% bake: pause, page, resume',
    at: bakeAt(50),
    inject: (h) =>
      h.sandbox.datadog.faults.inject({
        status: 500,
        body: '{"errors":["Internal Server Error"]}',
        match: '/api/v1/query',
        times: Infinity,
      }),
    during: (h) => pausesThenResumes(h, () => h.sandbox.datadog.faults.clear()),
    expect: 'succeeded',
  },
  {
    fault: 'Datadog timeouts',
    point: 'hanging during the 50% bake: pause, page, resume',
    at: bakeAt(50),
    inject: (h) => h.sandbox.datadog.faults.inject({ hang: true, match: '/api/v1/query', times: Infinity }),
    async during(h) {
      const paused = await waitFor(h, (d) => d.phase !== 'running', 60_000);
      const held = pagedAt50(h);
      const seen = await pausesThenResumes(h, () => h.sandbox.datadog.faults.clear());
      return { ...seen, lost: [...(seen.lost ?? []), ...held, ...(paused ? [] : ['never stopped running'])] };
    },
    expect: 'succeeded',
  },
];

const messagesOut = (h: Harness) => h.sandbox.slack.requests.filter((r) => r.path === '/api/chat.postMessage').length;

export const SLACK_CASES: FaultCase[] = [
  {
    fault: 'Slack 429 Retry-After',
    point: 'on the worker’s posts from preflight on',
    at: first('preflight'),
    inject: (h) => h.sandbox.slack.rateLimit('chat.postMessage', 1, 3),
    expect: 'succeeded',
    verify: consumed((h) => h.sandbox.slack.faults),
  },
  {
    fault: 'Slack 429 Retry-After',
    point: 'on announcement edits',
    at: first('preflight'),
    inject: (h) => h.sandbox.slack.rateLimit('chat.update', 1, 3),
    expect: 'succeeded',
    verify: consumed((h) => h.sandbox.slack.faults),
  },
  {
    fault: 'Slack 5xx',
    point: 'on the worker’s posts from preflight on',
    at: first('preflight'),
    inject: (h) =>
      h.sandbox.slack.faults.inject({
        status: 503,
        body: 'upstream connect error',
        match: '/api/chat.postMessage',
        times: 3,
      }),
    expect: 'succeeded',
    verify: consumed((h) => h.sandbox.slack.faults),
  },
  {
    fault: 'Slack answer lost',
    point: 'posts made, their answers dropped',
    at: first('preflight'),
    inject: (h) => h.sandbox.slack.faults.inject({ dropAnswer: true, match: '/api/chat.postMessage', times: 2 }),
    expect: 'succeeded',
    verify: (h) => (messagesOut(h) > 0 ? consumed((x) => x.sandbox.slack.faults)(h) : ['nothing was posted']),
  },
  {
    fault: 'Slack 5xx',
    point: 'down for 5 s from the 50% shift',
    at: (step) => step.kind === 'setWeight' && step.weight === 50,
    inject: (h) => {
      h.sandbox.slack.faults.inject({ status: 503, match: '/api/chat', times: Infinity });
      setTimeout(() => h.sandbox.slack.faults.clear(), 5000).unref();
    },
    expect: 'succeeded',
  },
];

/** The failed step that started the rollback → rolled back, from the deployment's event log. */
const rollbackTime = async (h: Harness, d: Deployment): Promise<string> => {
  const events = await h.app.store.events(d.id);
  const from = events.find((e) => e.type === 'rollback-started' || e.type === 'step-failed')?.at;
  const to = events.find((e) => e.type === 'rolled-back')?.at;
  return from !== undefined && to !== undefined ? `rollback took ${to - from} ms` : 'rollback times not recorded';
};

/** The ALB refuses from the 50% shift on, so the rollback's first calls fail too and page `critical`. */
const albDownFromTheShift = (h: Harness) =>
  h.sandbox.elbv2.faults.inject({ ...awsDown, match: 'ModifyListener', skip: 1, times: Infinity });

async function rollsBackOnceTheAlbAnswers(h: Harness): Promise<Partial<Findings>> {
  const rolling = await waitFor(h, (d) => d.phase !== 'running', 90_000);
  // Let a rollback call fail (and page) before the ALB answers again.
  await waitFor(h, () => h.sandbox.pagerduty.requests.length > 0, 30_000);
  h.sandbox.elbv2.faults.clear();
  return rolling?.phase === 'rolling-back'
    ? {}
    : { lost: [`${rolling?.phase ?? 'still running'} instead of rolling back`] };
}

const pagerDutyAsked = (h: Harness): string[] =>
  h.sandbox.pagerduty.requests.some((r) => r.path === '/v2/enqueue') ? [] : ['PagerDuty was never called'];

export const PAGERDUTY_CASES: FaultCase[] = [
  {
    fault: 'PagerDuty 5xx',
    point: 'down through a rollback whose first ALB calls fail',
    pagerduty: true,
    inject: (h) => {
      h.sandbox.pagerduty.faults.inject({ status: 503, body: '{"status":"unavailable"}', times: Infinity });
      albDownFromTheShift(h);
    },
    during: rollsBackOnceTheAlbAnswers,
    expect: 'rolled-back',
    weights: [10, 0],
    verify: pagerDutyAsked,
    note: rollbackTime,
  },
  {
    fault: 'PagerDuty hung request',
    point: 'never answering through a rollback whose first ALB calls fail',
    pagerduty: true,
    inject: (h) => {
      h.sandbox.pagerduty.faults.inject({ hang: true, times: Infinity });
      albDownFromTheShift(h);
    },
    during: rollsBackOnceTheAlbAnswers,
    expect: 'rolled-back',
    weights: [10, 0],
    verify: pagerDutyAsked,
    note: rollbackTime,
  },
];
