import { afterEach, describe, expect, it } from 'vitest';
import { CHANNELS, INITIAL_VERSION, SANDBOX_IMAGE } from '../../../sandbox/sandbox.js';
import { startHarness, until, type Harness } from '../../support/harness.js';

const WORKER = {
  strategy: 'rolling',
  deployers: ['U0DEV1'],
  workload: {
    provider: 'kubernetes',
    namespace: 'prod',
    deployments: { main: 'acme-api-main' },
    container: 'api',
    image: SANDBOX_IMAGE,
    rolloutTimeoutSeconds: 20,
  },
  gates: { intervalSeconds: 0.3, failureLimit: 0, inconclusiveLimit: 3, metrics: [] },
  monitorSeconds: 0,
};

const threadText = (h: Harness, ts: string) =>
  h.sandbox.slack
    .thread(CHANNELS.deployments, ts)
    .map((m) => m.text)
    .join('\n');

describe('rolling deployments', () => {
  let h: Harness;
  afterEach(async () => h.close());

  const startRolling = async () => {
    h = await startHarness({ catalog: { services: { 'acme-worker': WORKER } } });
    h.sandbox.kubernetes.addDeployment({
      namespace: 'prod',
      name: 'acme-api-main',
      container: 'api',
      image: `${SANDBOX_IMAGE}:${INITIAL_VERSION}`,
      replicas: 3,
    });
  };

  it('rolls the one Deployment out to the new image without touching the load balancer', async () => {
    await startRolling();
    await h.deployAndApprove('v1.5.0', 'acme-worker v1.5.0');
    const done = await h.waitForPhase(['succeeded', 'failed', 'rolled-back']);
    expect(done.phase).toBe('succeeded');
    expect(done.previousVersion).toBe(INITIAL_VERSION);
    expect(h.sandbox.kubernetes.imageOf('prod', 'acme-api-main', 'api')).toBe(`${SANDBOX_IMAGE}:v1.5.0`);
    expect(h.sandbox.kubernetes.deployment('prod', 'acme-api-main')?.status.updatedReplicas).toBe(3);
    expect(h.sandbox.elbv2.changes).toHaveLength(0);
  });

  it('rolls a crash-looping rollout back to the previous template, naming the pod and the reason', async () => {
    await startRolling();
    h.sandbox.kubernetes.failImage(':v1.6.0', 'CrashLoopBackOff');
    await h.deployAndApprove('v1.6.0', 'acme-worker v1.6.0');
    const done = await h.waitForPhase(['rolled-back', 'failed', 'succeeded']);
    expect(done.phase).toBe('rolled-back');
    expect(done.rollbackReason).toMatch(/acme-api-main-[a-z0-9]+-[a-z0-9]{5}/);
    expect(done.rollbackReason).toContain('CrashLoopBackOff');
    expect(h.sandbox.kubernetes.imageOf('prod', 'acme-api-main', 'api')).toBe(`${SANDBOX_IMAGE}:${INITIAL_VERSION}`);
    const text = await until(
      () => {
        const t = threadText(h, done.announcementTs as string);
        return t.includes('Deployment Rolled Back') ? t : undefined;
      },
      3000,
      'the rollback message',
    );
    expect(text).toContain('CrashLoopBackOff');
    expect(text).toMatch(/acme-api-main-[a-z0-9]+-[a-z0-9]{5}/);
  });
});

describe('hook Jobs', () => {
  let h: Harness;
  afterEach(async () => h.close());

  const hooks = {
    hooks: {
      preDeploy: [
        {
          name: 'migrate',
          image: `${SANDBOX_IMAGE}:{version}`,
          command: ['/app/migrate', 'up'],
          env: { TARGET: '{version}' },
        },
      ],
      postDeploy: [{ name: 'e2e', image: 'registry/e2e:latest' }],
    },
  };

  it('runs preDeploy before the deploy and postDeploy after 100%, with {version} substituted', async () => {
    h = await startHarness({ service: hooks });
    await h.deployAndApprove('v1.5.0');
    const done = await h.waitForPhase(['succeeded', 'failed', 'rolled-back']);
    expect(done.phase).toBe('succeeded');
    const jobs = h.sandbox.kubernetes.jobs();
    expect(jobs.map((j) => j.name.split('-')[0])).toEqual(['migrate', 'e2e']);
    expect(jobs[0]?.image).toBe(`${SANDBOX_IMAGE}:v1.5.0`);
    expect(jobs[0]?.env).toMatchObject({ TARGET: 'v1.5.0' });
    const kinds = done.steps.map((s) => s.kind);
    expect(kinds.indexOf('hook')).toBeLessThan(kinds.indexOf('deployIdle'));
    expect(kinds.lastIndexOf('hook')).toBeGreaterThan(kinds.lastIndexOf('setWeight'));
  });

  it('a failing preDeploy Job fails the deployment and leaves the ALB and the Deployments untouched, with its logs in the thread', async () => {
    h = await startHarness({ service: hooks });
    h.sandbox.kubernetes.failJob('migrate', {
      logs: ['applying 0042_add_index', 'ERROR: relation "users" does not exist'],
      reason: 'BackoffLimitExceeded',
    });
    await h.deployAndApprove('v1.5.0');
    const done = await h.waitForPhase(['failed', 'succeeded', 'rolled-back']);
    expect(done.phase).toBe('failed');
    expect(h.sandbox.elbv2.changes).toHaveLength(0);
    expect(h.sandbox.kubernetes.patches).toHaveLength(0);
    expect(h.sandbox.kubernetes.imageOf('prod', 'acme-api-green', 'api')).toBe(`${SANDBOX_IMAGE}:${INITIAL_VERSION}`);
    const text = await until(
      () => {
        const t = threadText(h, done.announcementTs as string);
        return t.includes('Deployment Failed') ? t : undefined;
      },
      3000,
      'the failure message',
    );
    expect(text).toContain('relation "users" does not exist');
    expect(text).toContain('migrate');
  });

  it('a failing postDeploy Job rolls back', async () => {
    h = await startHarness({ service: hooks });
    h.sandbox.kubernetes.failJob('e2e', { logs: ['checkout flow: expected 200, got 500'] });
    await h.deployAndApprove('v1.5.0');
    const done = await h.waitForPhase(['rolled-back', 'failed', 'succeeded']);
    expect(done.phase).toBe('rolled-back');
    expect(h.sandbox.weights()).toEqual({ blue: 100, green: 0 });
  });
});
