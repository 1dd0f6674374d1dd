import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubernetesWorkload } from '../../../src/providers/workload/kubernetes.js';
import type { JobSpec, JobState } from '../../../src/providers/workload/workload.js';
import { kubernetesStatus, startKubernetesStandIn, type KubernetesStandIn } from '../../../sandbox/kubernetes.js';
import { rejection } from '../../support/rejection.js';

const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/acme-api';
const migrate: JobSpec = {
  namespace: 'prod',
  name: 'acme-api-migrate-d41',
  image: `${IMAGE}:v2`,
  command: ['/app/migrate', 'up'],
  env: { DATABASE_URL: 'postgres://db/acme' },
  labels: { 'switchyard/deployment': 'd41', 'switchyard/hook': 'migrate' },
};

let k8s: KubernetesStandIn;
let workload: KubernetesWorkload;

const start = async (jobDurationMs: number): Promise<void> => {
  await k8s?.close();
  k8s = await startKubernetesStandIn({ rolloutStepMs: 20, jobDurationMs });
  workload = new KubernetesWorkload(k8s.kubeConfig());
};

beforeEach(() => start(300));

afterEach(async () => {
  await k8s.close();
});

/** Polls like the worker does, and keeps every state it saw. */
const followJob = async (name = migrate.name, timeoutMs = 5_000): Promise<JobState[]> => {
  const seen: JobState[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const state = await workload.jobStatus('prod', name);
    seen.push(state);
    if (state.phase !== 'running') return seen;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`job still running after ${timeoutMs} ms: ${seen.at(-1)?.message}`);
};

describe('KubernetesWorkload hooks as Jobs against the stand-in API server', () => {
  it('runs a Job to success and returns the last 20 lines of its log', async () => {
    k8s.setJobLogs(
      'migrate',
      Array.from({ length: 25 }, (_, i) => `migration step ${i + 1}`),
    );

    expect(await workload.runJob(migrate)).toEqual({ created: true });
    const states = await followJob();

    expect(states[0]).toMatchObject({ phase: 'running', logTail: [] });
    expect(states[0]?.message).toContain('job prod/acme-api-migrate-d41 is running');
    const last = states.at(-1);
    expect(last).toMatchObject({ phase: 'succeeded', message: 'job prod/acme-api-migrate-d41 succeeded' });
    expect(last?.logTail).toEqual(Array.from({ length: 20 }, (_, i) => `migration step ${i + 6}`));
    const logRequest = k8s.requests.find((r) => r.path.endsWith('/log'));
    expect(logRequest?.path).toMatch(/^\/api\/v1\/namespaces\/prod\/pods\/acme-api-migrate-d41-[a-z0-9]{5}\/log$/);
    expect(Object.fromEntries(logRequest?.query ?? [])).toMatchObject({ tailLines: '20', container: 'hook' });
  });

  it('creates the Job the way a hook needs: one try, no restarts, cleaned up after a day', async () => {
    await workload.runJob({ ...migrate, activeDeadlineSeconds: 600 });

    const [job] = k8s.jobs();
    expect(job).toMatchObject({
      namespace: 'prod',
      name: 'acme-api-migrate-d41',
      image: `${IMAGE}:v2`,
      command: ['/app/migrate', 'up'],
      env: { DATABASE_URL: 'postgres://db/acme' },
      labels: migrate.labels,
      phase: 'running',
    });
    expect(job?.object.spec).toMatchObject({
      backoffLimit: 0,
      ttlSecondsAfterFinished: 86_400,
      activeDeadlineSeconds: 600,
    });
    expect(job?.object.spec.template.spec.restartPolicy).toBe('Never');
    expect(job?.object.spec.template.metadata.labels).toMatchObject({
      ...migrate.labels,
      'job-name': 'acme-api-migrate-d41',
    });
    expect(k8s.requests.find((r) => r.method === 'POST')?.path).toBe('/apis/batch/v1/namespaces/prod/jobs');
  });

  it('reports a failed Job with the reason and the lines its pod logged', async () => {
    const logs = ['applying 0042_add_orders_index', 'ERROR: relation "orders_idx" already exists'];
    k8s.failJob('migrate', { logs });

    await workload.runJob(migrate);
    const last = (await followJob()).at(-1);

    expect(last).toMatchObject({ phase: 'failed', reason: 'BackoffLimitExceeded', logTail: logs });
    expect(last?.message).toBe(
      'job prod/acme-api-migrate-d41 failed (BackoffLimitExceeded): Job has reached the specified backoff limit',
    );
  });

  it('reports a Job stopped at its deadline as failed, without a log once its pod is gone', async () => {
    await start(3_000);

    await workload.runJob({ ...migrate, activeDeadlineSeconds: 1 });
    const last = (await followJob()).at(-1);

    expect(last).toMatchObject({ phase: 'failed', reason: 'DeadlineExceeded', logTail: [] });
    expect(last?.message).toContain('Job was active longer than specified deadline');
    expect(last?.message).toContain('no pod left');
  });

  it('creates one Job for two runJob calls, as after a crash between creating and recording it', async () => {
    expect(await workload.runJob(migrate)).toEqual({ created: true });
    expect(await workload.runJob(migrate)).toEqual({ created: false });

    expect(k8s.jobs()).toHaveLength(1);
    expect(k8s.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
    expect((await followJob()).at(-1)?.phase).toBe('succeeded');
  });

  it('answers a duplicate name with 409 AlreadyExists, as the real API server does', async () => {
    await workload.runJob(migrate);
    const body = k8s.jobs()[0]?.object;

    const response = await fetch(`${k8s.url}/apis/batch/v1/namespaces/prod/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer switchyard-sandbox-token' },
      body: JSON.stringify({ ...body, status: undefined }),
    });

    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({
      kind: 'Status',
      reason: 'AlreadyExists',
      code: 409,
      message: 'jobs.batch "acme-api-migrate-d41" already exists',
    });
  });

  it('refuses to count a Job of the same name that runs something else as this one', async () => {
    await workload.runJob(migrate);

    const error = await rejection(workload.runJob({ ...migrate, image: `${IMAGE}:v3` }));

    expect(error.retriable).toBe(false);
    expect(error.message).toContain('already exists and runs something else');
  });

  it('still reports the outcome when the log cannot be read', async () => {
    k8s.faults.inject({
      status: 500,
      body: JSON.stringify(kubernetesStatus(500, 'InternalError', 'kubelet unreachable')),
      match: '/log',
    });
    await workload.runJob(migrate);

    const last = (await followJob()).at(-1);

    expect(last).toMatchObject({ phase: 'succeeded', logTail: [] });
    expect(last?.message).toContain('log unavailable');
    expect(last?.message).toContain('kubelet unreachable');
  });

  it('turns a name the API server refuses into a failure not worth retrying', async () => {
    const error = await rejection(workload.runJob({ ...migrate, name: `acme-api-migrate-${'x'.repeat(60)}` }));

    expect(error.retriable).toBe(false);
    expect(error.message).toContain('HTTP 422');
    expect(error.message).toContain('must be no more than 63 characters');
    expect(k8s.jobs()).toHaveLength(0);
  });

  it('names a Job that does not exist', async () => {
    const error = await rejection(workload.jobStatus('prod', 'acme-api-e2e-nope'));

    expect(error.retriable).toBe(false);
    expect(error.message).toContain('job prod/acme-api-e2e-nope');
    expect(error.message).toContain('jobs.batch "acme-api-e2e-nope" not found');
  });

  it('stops the clock of a running Job while the controllers are paused', async () => {
    await workload.runJob(migrate);
    k8s.pauseRollouts(true);
    await new Promise((r) => setTimeout(r, 400));

    expect(await workload.jobStatus('prod', migrate.name)).toMatchObject({ phase: 'running' });

    k8s.pauseRollouts(false);
    expect(await workload.jobStatus('prod', migrate.name)).toMatchObject({ phase: 'running' });
    expect((await followJob()).at(-1)?.phase).toBe('succeeded');
  });
});
