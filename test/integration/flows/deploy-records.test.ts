import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment } from '../../../src/domain/deployment.js';
import { CHANNELS, INITIAL_VERSION } from '../../../sandbox/sandbox.js';
import { startHarness, until, type Harness } from '../../support/harness.js';

/**
 * What a deployment records outside Slack, through the durable effect queue: GitHub's
 * deployment and its statuses, Datadog deploy markers (events) and DORA records. None of it
 * holds up a step: a Datadog events outage changes nothing else.
 */

const REPO = 'acme/acme-api';
const P99 = { name: 'p99 latency', query: 'p99:trace.http.request.duration{service:acme-api,env:prod}', max: 0.8 };
let h: Harness;

const tagsOf = (d: Deployment) => [
  'service:acme-api',
  'env:production',
  `version:${d.version}`,
  `deployment_id:${d.id}`,
];
const eventsOf = (d: Deployment) =>
  h.sandbox.datadog.deployRecords.events.filter((e) => e.tags.includes(`deployment_id:${d.id}`));

/** Requests `version` through Slack, approves its own announcement, and waits for the end. */
async function deploy(version: string): Promise<Deployment> {
  const { view } = await h.requester.requestDeploy(`acme-api ${version}`);
  const submitted = await h.requester.submitChecklist(view);
  expect(submitted.body).toBe('');
  const announcement = await until(
    () =>
      h.sandbox.slack
        .messages(CHANNELS.deployments)
        .find(
          (m) =>
            !m.thread_ts &&
            m.text.includes(`Production Deployment Scheduled: acme-api ${version}`) &&
            JSON.stringify(m.blocks ?? []).includes('approve_deployment'),
        ),
    10_000,
    `the announcement of ${version}`,
  );
  await h.releaseManager.press(announcement, 'approve_deployment');
  return until(
    async () => {
      const [d] = await h.app.store.history('acme-api', 1);
      return d?.version === version && ['succeeded', 'rolled-back', 'failed'].includes(d.phase) ? d : undefined;
    },
    30_000,
    `${version} to finish`,
  );
}

beforeAll(async () => {
  h = await startHarness({
    bakeSeconds: 1,
    service: {
      github: { repo: REPO },
      gates: { intervalSeconds: 0.3, failureLimit: 0, inconclusiveLimit: 3, metrics: [P99] },
    },
  });
  h.sandbox.github.setHistory(
    REPO,
    [{ message: 'Release' }, { message: 'Two' }, { message: 'Three' }, { message: 'Four' }],
    { [INITIAL_VERSION]: 0, 'v1.5.0': 1, 'v1.6.0': 2, 'v1.7.0': 3 },
  );
}, 60_000);
afterAll(async () => h?.close());

describe('deploy records', () => {
  it('a completed deployment: GitHub in_progress then success; Datadog start, 100 %, completion; a DORA deployment', async () => {
    const d = await deploy('v1.5.0');
    expect(d.phase).toBe('succeeded');
    await until(() => h.sandbox.github.statesOf(REPO, 'v1.5.0').length === 2, 10_000, 'two GitHub statuses');
    expect(h.sandbox.github.statesOf(REPO, 'v1.5.0')).toEqual(['in_progress', 'success']);
    const [created] = h.sandbox.github.deployments;
    expect(created).toMatchObject({ ref: 'v1.5.0', environment: 'production', autoMerge: false, requiredContexts: [] });
    await until(() => eventsOf(d).length === 3, 10_000, 'three deploy markers');
    expect(eventsOf(d).map((e) => [e.title, e.alert_type])).toEqual([
      ['acme-api v1.5.0: deployment started', 'info'],
      ['acme-api v1.5.0: all traffic on the new version', 'info'],
      ['acme-api v1.5.0: deployment completed', 'success'],
    ]);
    for (const event of eventsOf(d)) expect(event.tags).toEqual(tagsOf(d));
    await until(() => h.sandbox.datadog.deployRecords.doraDeployments.some((r) => r.id === d.id), 10_000, 'DORA');
    expect(h.sandbox.datadog.deployRecords.doraDeployments.find((r) => r.id === d.id)).toMatchObject({
      service: 'acme-api',
      env: 'production',
      version: 'v1.5.0',
    });
  }, 60_000);

  it('a rolled-back deployment: GitHub in_progress then failure, the live one untouched; a rollback marker, DORA deployment and failure', async () => {
    h.sandbox.datadog.setMetric(/p99/, 1.7);
    const d = await deploy('v1.6.0');
    h.sandbox.datadog.setMetric(/p99/, 0.35);
    expect(d.phase).toBe('rolled-back');
    await until(() => h.sandbox.github.statesOf(REPO, 'v1.6.0').length === 2, 10_000, 'two GitHub statuses');
    expect(h.sandbox.github.statesOf(REPO, 'v1.6.0')).toEqual(['in_progress', 'failure']);
    // It never completed, so it replaced nothing: v1.5.0 stays as it was.
    expect(h.sandbox.github.statesOf(REPO, 'v1.5.0')).toEqual(['in_progress', 'success']);
    await until(() => eventsOf(d).some((e) => e.alert_type === 'error'), 10_000, 'the rollback marker');
    expect(eventsOf(d).find((e) => e.alert_type === 'error')).toMatchObject({
      title: 'acme-api v1.6.0: rolled back',
      tags: tagsOf(d),
    });
    await until(
      () => h.sandbox.datadog.deployRecords.doraFailures.some((r) => r.id === `${d.id}-rollback`),
      10_000,
      'DORA failure',
    );
    expect(h.sandbox.datadog.deployRecords.doraFailures.find((r) => r.id === `${d.id}-rollback`)).toMatchObject({
      services: ['acme-api'],
      env: 'production',
      version: 'v1.6.0',
    });
    expect(h.sandbox.datadog.deployRecords.doraDeployments.some((r) => r.id === d.id)).toBe(true);
  }, 60_000);

  it('a Datadog events outage changes nothing else: the deployment, its steps, GitHub and DORA go on', async () => {
    h.sandbox.datadog.faults.inject({ status: 503, match: '/api/v1/events', times: Infinity });
    const d = await deploy('v1.7.0');
    expect(d.phase).toBe('succeeded');
    expect(d.stepRecords.every((r) => r.outcome === 'ok')).toBe(true);
    await until(() => h.sandbox.github.statesOf(REPO, 'v1.7.0').length === 2, 10_000, 'two GitHub statuses');
    expect(h.sandbox.github.statesOf(REPO, 'v1.7.0')).toEqual(['in_progress', 'success']);
    // The version it replaced is marked inactive on GitHub.
    await until(() => h.sandbox.github.statesOf(REPO, 'v1.5.0').length === 3, 10_000, 'v1.5.0 inactive');
    expect(h.sandbox.github.statesOf(REPO, 'v1.5.0')).toEqual(['in_progress', 'success', 'inactive']);
    await until(() => h.sandbox.datadog.deployRecords.doraDeployments.some((r) => r.id === d.id), 10_000, 'DORA');
    expect(eventsOf(d)).toEqual([]);
    expect(h.sandbox.datadog.requests.filter((r) => r.path === '/api/v1/events').length).toBeGreaterThan(0);
    h.sandbox.datadog.faults.clear();
  }, 60_000);

  it('/rollback after completion: GitHub failure for it, and the version it had replaced is success again', async () => {
    const [completed] = await h.app.store.history('acme-api', 1);
    expect(completed).toMatchObject({ version: 'v1.7.0', phase: 'succeeded' });
    await h.releaseManager.command('/rollback', 'acme-api checkout errors');
    await until(
      async () => (await h.app.store.get(completed?.id ?? ''))?.phase === 'rolled-back',
      20_000,
      'the rollback after completion',
    );
    await until(() => h.sandbox.github.statesOf(REPO, 'v1.5.0').length === 4, 10_000, 'v1.5.0 restored');
    expect(h.sandbox.github.statesOf(REPO, 'v1.7.0')).toEqual(['in_progress', 'success', 'failure']);
    expect(h.sandbox.github.statesOf(REPO, 'v1.5.0')).toEqual(['in_progress', 'success', 'inactive', 'success']);
  }, 60_000);
});
