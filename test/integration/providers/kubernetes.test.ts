import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubernetesWorkload } from '../../../src/providers/workload/kubernetes.js';
import type { RolloutState, WorkloadRef } from '../../../src/providers/workload/workload.js';
import { kubernetesStatus, startKubernetesStandIn, type KubernetesStandIn } from '../../../sandbox/kubernetes.js';
import { rejection } from '../../support/rejection.js';

const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/acme-api';
const ref: WorkloadRef = { namespace: 'prod', deployment: 'acme-api-green', container: 'api' };
const POD_NAME = /^acme-api-green-[a-z0-9]{10}-[a-z0-9]{5}$/;

let k8s: KubernetesStandIn;
let workload: KubernetesWorkload;

beforeEach(async () => {
  k8s = await startKubernetesStandIn({ rolloutStepMs: 20 });
  k8s.addDeployment({ namespace: 'prod', name: 'acme-api-green', container: 'api', image: `${IMAGE}:v1`, replicas: 3 });
  workload = new KubernetesWorkload(k8s.kubeConfig());
});

afterEach(async () => {
  await k8s.close();
});

/** Polls like the worker does, and keeps every state it saw. */
const followRollout = async (timeoutMs = 5_000): Promise<RolloutState[]> => {
  const seen: RolloutState[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const state = await workload.rolloutStatus(ref);
    seen.push(state);
    if (state.phase !== 'progressing') return seen;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`rollout still progressing after ${timeoutMs} ms: ${seen.at(-1)?.message}`);
};

const rawPatch = (contentType: string, body: unknown): Promise<Response> =>
  fetch(`${k8s.url}/apis/apps/v1/namespaces/prod/deployments/acme-api-green`, {
    method: 'PATCH',
    headers: { 'content-type': contentType, authorization: 'Bearer switchyard-sandbox-token' },
    body: JSON.stringify(body),
  });

interface ReplicaSetItem {
  metadata: { name: string; annotations: Record<string, string> };
  spec: { template: { metadata: { labels: Record<string, string> } } };
}

const listReplicaSets = async (): Promise<ReplicaSetItem[]> => {
  const response = await fetch(
    `${k8s.url}/apis/apps/v1/namespaces/prod/replicasets?labelSelector=app%3Dacme-api-green`,
    {
      headers: { authorization: 'Bearer switchyard-sandbox-token' },
    },
  );
  return ((await response.json()) as { items: ReplicaSetItem[] }).items;
};

describe('KubernetesWorkload against the stand-in API server', () => {
  it('reads the image, sets it, and follows the rollout from progressing to complete', async () => {
    expect(await workload.readImage(ref)).toBe(`${IMAGE}:v1`);
    expect(await workload.rolloutStatus(ref)).toMatchObject({ phase: 'complete' });

    expect(await workload.setImage(ref, `${IMAGE}:v2`)).toEqual({ changed: true });
    const states = await followRollout();

    expect(states[0]?.phase).toBe('progressing');
    expect(states.at(-1)).toMatchObject({
      phase: 'complete',
      message: 'deployment prod/acme-api-green successfully rolled out',
    });
    expect(k8s.imageOf('prod', 'acme-api-green', 'api')).toBe(`${IMAGE}:v2`);
    const deployment = k8s.deployment('prod', 'acme-api-green');
    expect(deployment?.metadata.generation).toBe(2);
    expect(deployment?.status).toMatchObject({
      observedGeneration: 2,
      replicas: 3,
      updatedReplicas: 3,
      availableReplicas: 3,
    });
    expect(deployment?.status.conditions.find((c) => c.type === 'Progressing')?.reason).toBe('NewReplicaSetAvailable');
  });

  it('sends one strategic-merge PATCH for two identical setImage calls', async () => {
    await workload.setImage(ref, `${IMAGE}:v2`);
    expect(await workload.setImage(ref, `${IMAGE}:v2`)).toEqual({ changed: false });

    expect(k8s.patches).toHaveLength(1);
    expect(k8s.patches[0]).toMatchObject({
      ns: 'prod',
      name: 'acme-api-green',
      contentType: 'application/strategic-merge-patch+json',
      body: { spec: { template: { spec: { containers: [{ name: 'api', image: `${IMAGE}:v2` }] } } } },
    });
  });

  it('leaves the other containers of the pod template alone', async () => {
    const sidecar = { name: 'envoy', image: 'envoyproxy/envoy:v1.31' };
    const added = await rawPatch('application/json-patch+json', [
      { op: 'add', path: '/spec/template/spec/containers/-', value: sidecar },
    ]);
    expect(added.status).toBe(200);

    await workload.setImage(ref, `${IMAGE}:v2`);

    expect(k8s.deployment('prod', 'acme-api-green')?.spec.template.spec.containers).toEqual([
      { name: 'api', image: `${IMAGE}:v2` },
      sidecar,
    ]);
  });

  it('answers a PATCH sent as plain application/json with 415, as the real API server does', async () => {
    const response = await rawPatch('application/json', {
      spec: { template: { spec: { containers: [{ name: 'api', image: 'x:y' }] } } },
    });

    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'UnsupportedMediaType',
      code: 415,
    });
    expect(k8s.imageOf('prod', 'acme-api-green', 'api')).toBe(`${IMAGE}:v1`);
  });

  it('fails fast on a crash-looping pod, naming the pod and the reason', async () => {
    k8s.failImage(':v2-broken', 'CrashLoopBackOff');
    await workload.setImage(ref, `${IMAGE}:v2-broken`);

    const state = (await followRollout()).at(-1);

    expect(state).toMatchObject({ phase: 'failed', reason: 'CrashLoopBackOff', pod: expect.stringMatching(POD_NAME) });
    expect(state?.message).toContain((state as { pod: string }).pod);
    expect(state?.message).toContain('CrashLoopBackOff');
  });

  it('fails fast on an image that cannot be pulled', async () => {
    k8s.failImage(/:does-not-exist$/, 'ImagePullBackOff');
    await workload.setImage(ref, `${IMAGE}:does-not-exist`);

    expect((await followRollout()).at(-1)).toMatchObject({
      phase: 'failed',
      reason: 'ImagePullBackOff',
      pod: expect.stringMatching(POD_NAME),
    });
  });

  it('completes a rollback to the previous image while the broken pods are still around', async () => {
    k8s.failImage(':v2-broken', 'CrashLoopBackOff');
    await workload.setImage(ref, `${IMAGE}:v2-broken`);
    expect((await followRollout()).at(-1)?.phase).toBe('failed');

    await workload.setImage(ref, `${IMAGE}:v1`);

    expect((await followRollout()).at(-1)?.phase).toBe('complete');
  });

  it('reports a rollout past its progress deadline as failed', async () => {
    k8s.pauseRollouts(true);
    await workload.setImage(ref, `${IMAGE}:v2`);
    expect(await workload.rolloutStatus(ref)).toMatchObject({ phase: 'progressing' });

    k8s.progressDeadlineExceeded('prod', 'acme-api-green');

    expect(await workload.rolloutStatus(ref)).toMatchObject({ phase: 'failed', reason: 'ProgressDeadlineExceeded' });
  });

  it('names a missing deployment and does not retry', async () => {
    const missing = { ...ref, deployment: 'acme-api-nope' };

    const error = await rejection(workload.setImage(missing, `${IMAGE}:v2`));

    expect(error.retriable).toBe(false);
    expect(error.message).toContain('prod/acme-api-nope');
    expect(error.message).toContain('deployments.apps "acme-api-nope" not found');
    expect(k8s.patches).toHaveLength(0);
  });

  it('turns a 500 from the API server into a retriable failure', async () => {
    k8s.faults.inject({
      status: 500,
      body: JSON.stringify(kubernetesStatus(500, 'InternalError', 'etcdserver: request timed out')),
      match: '/deployments/',
    });

    const error = await rejection(workload.readImage(ref));

    expect(error.retriable).toBe(true);
    expect(error.message).toContain('prod/acme-api-green');
    expect(error.message).toContain('etcdserver: request timed out');
  });

  it('gives up on an API server that stops answering, as a retriable failure', async () => {
    const impatient = new KubernetesWorkload(k8s.kubeConfig(), { timeoutMs: 200 });
    k8s.faults.inject({ status: 0, hang: true });

    const error = await rejection(impatient.readImage(ref));

    expect(error.retriable).toBe(true);
    expect(error.message).toContain('no answer within 200 ms');
  });

  it('rolls back to the newest template that ran an image, whole, and does nothing the second time', async () => {
    // The v1 that preflight recorded carries an env var and a label that later templates dropped.
    const first = {
      spec: {
        template: {
          metadata: { labels: { release: 'first' } },
          spec: { containers: [{ name: 'api', env: [{ name: 'FEATURE_X', value: 'on' }] }] },
        },
      },
    };
    expect((await rawPatch('application/strategic-merge-patch+json', first)).status).toBe(200);
    await followRollout();
    const firstTemplate = k8s.deployment('prod', 'acme-api-green')?.spec.template;
    const second = [
      { op: 'replace', path: '/spec/template/spec/containers/0', value: { name: 'api', image: `${IMAGE}:v2` } },
      { op: 'remove', path: '/spec/template/metadata/labels/release' },
      { op: 'add', path: '/spec/template/metadata/labels/added-later', value: 'yes' },
    ];
    expect((await rawPatch('application/json-patch+json', second)).status).toBe(200);
    await followRollout();
    await workload.setImage(ref, `${IMAGE}:v3`);
    await followRollout();
    const patchesBefore = k8s.patches.length;

    expect(await workload.rollbackToImage(ref, `${IMAGE}:v1`)).toEqual({ changed: true });

    const restored = k8s.deployment('prod', 'acme-api-green')?.spec.template;
    expect(restored).toEqual(firstTemplate);
    expect(restored?.metadata.labels).toEqual({ app: 'acme-api-green', release: 'first' });
    expect(restored?.spec.containers).toEqual([
      { name: 'api', image: `${IMAGE}:v1`, env: [{ name: 'FEATURE_X', value: 'on' }] },
    ]);
    expect(k8s.patches.slice(patchesBefore)).toMatchObject([
      { contentType: 'application/json-patch+json', body: [{ op: 'replace', path: '/spec/template' }] },
    ]);
    expect((await followRollout()).at(-1)?.phase).toBe('complete');

    // The controller reuses the old ReplicaSet under a new revision, as for `kubectl rollout undo`.
    const replicaSets = await listReplicaSets();
    expect(replicaSets).toHaveLength(4);
    const reused = replicaSets.find((rs) => rs.spec.template.metadata.labels.release === 'first');
    expect(reused?.metadata.annotations['deployment.kubernetes.io/revision']).toBe('5');
    expect(k8s.deployment('prod', 'acme-api-green')?.metadata.annotations['deployment.kubernetes.io/revision']).toBe(
      '5',
    );

    expect(await workload.rollbackToImage(ref, `${IMAGE}:v1`)).toEqual({ changed: false });
    expect(k8s.patches).toHaveLength(patchesBefore + 1);
  });

  it('sends nothing for a rollback the crashed worker already made, even before the controller saw it', async () => {
    await workload.setImage(ref, `${IMAGE}:v2`);
    await followRollout();
    k8s.pauseRollouts(true);
    await workload.rollbackToImage(ref, `${IMAGE}:v1`);

    expect(await workload.rollbackToImage(ref, `${IMAGE}:v1`)).toEqual({ changed: false });
    expect(k8s.patches).toHaveLength(2);
  });

  it('falls back to setting the image when no ReplicaSet of the deployment ever ran it', async () => {
    // Another Deployment whose pods the selector also matches: its ReplicaSets are not this one's history.
    k8s.addDeployment({
      namespace: 'prod',
      name: 'acme-api-canary',
      container: 'api',
      image: `${IMAGE}:v0`,
      labels: { app: 'acme-api-green', track: 'canary' },
    });
    await workload.setImage(ref, `${IMAGE}:v2`);
    await followRollout();

    expect(await workload.rollbackToImage(ref, `${IMAGE}:v0`)).toEqual({ changed: true });

    expect(k8s.patches.at(-1)).toMatchObject({ contentType: 'application/strategic-merge-patch+json' });
    expect(k8s.deployment('prod', 'acme-api-green')?.spec.template.metadata.labels).toEqual({ app: 'acme-api-green' });
    expect(k8s.imageOf('prod', 'acme-api-green', 'api')).toBe(`${IMAGE}:v0`);
  });

  it('writes a kubeconfig a child process can use', () => {
    const yaml = k8s.kubeconfigYaml();

    expect(yaml).toContain(`server: ${k8s.url}`);
    expect(yaml).toContain('insecure-skip-tls-verify: true');
    expect(yaml).toContain('token: switchyard-sandbox-token');
  });
});
