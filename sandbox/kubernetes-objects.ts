import { createHash } from 'node:crypto';

/** A request the API server refuses; sent as a `Status` document with this code and reason. */
export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export type PodFailureReason = 'CrashLoopBackOff' | 'ImagePullBackOff';
export type Labels = Record<string, string>;

export interface ContainerSpec {
  name: string;
  image: string;
  [field: string]: unknown;
}

export interface PodTemplate {
  metadata: { labels: Labels; [field: string]: unknown };
  spec: { containers: ContainerSpec[]; [field: string]: unknown };
}

export interface DeploymentCondition {
  type: 'Available' | 'Progressing';
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastUpdateTime: string;
  lastTransitionTime: string;
}

/** A Deployment in wire form; like the real server, zero counts are left out of `status`. */
export interface DeploymentObject {
  apiVersion: 'apps/v1';
  kind: 'Deployment';
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation: number;
    resourceVersion: string;
    creationTimestamp: string;
    labels: Labels;
    annotations: Record<string, string>;
    [field: string]: unknown;
  };
  spec: {
    replicas: number;
    selector: { matchLabels: Labels };
    template: PodTemplate;
    progressDeadlineSeconds: number;
    [field: string]: unknown;
  };
  status: {
    observedGeneration: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    conditions: DeploymentCondition[];
  };
}

export interface PodFailure {
  container: ContainerSpec;
  reason: PodFailureReason;
}

export interface SimPod {
  name: string;
  uid: string;
  ready: boolean;
  restarts: number;
  createdAt: string;
}

export interface SimReplicaSet {
  name: string;
  uid: string;
  hash: string;
  revision: number;
  template: PodTemplate;
  createdAt: string;
  pods: SimPod[];
}

export interface SimDeployment {
  object: DeploymentObject;
  replicaSets: SimReplicaSet[];
  current?: SimReplicaSet;
  deadlineExceeded: boolean;
}

/** The alphabet Kubernetes uses for generated names (no vowels, no look-alike characters). */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
export const encode = (bytes: Uint8Array, length: number): string =>
  Array.from(bytes.subarray(0, length), (b) => ALPHABET[b % ALPHABET.length]).join('');

export const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** JSON with sorted keys, so two templates compare equal whatever order their keys arrived in. */
export const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );

export const templateHash = (template: PodTemplate): string =>
  encode(createHash('sha256').update(canonical(template)).digest(), 10);

/** Compact the counts the way the API server's `omitempty` does. */
export const compact = (counts: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));

/** A Pod as the API lists it; `failure` is what keeps a pod of a failing template from starting. */
export const renderPod = (
  sim: SimDeployment,
  rs: SimReplicaSet,
  pod: SimPod,
  labels: Labels,
  failure: PodFailure | undefined,
): object => {
  const namespace = sim.object.metadata.namespace;
  const containerStatuses = rs.template.spec.containers.map((container) => {
    const base = {
      name: container.name,
      image: container.image,
      imageID: '',
      restartCount: 0,
      ready: false,
      started: false,
    };
    if (pod.ready) {
      const imageID = `${container.image}@sha256:${templateHash(rs.template)}`;
      return { ...base, imageID, ready: true, started: true, state: { running: { startedAt: pod.createdAt } } };
    }
    if (failure?.container.name !== container.name)
      return { ...base, state: { waiting: { reason: 'ContainerCreating' } } };
    if (failure.reason === 'ImagePullBackOff') {
      return {
        ...base,
        state: { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${container.image}"` } },
      };
    }
    const message = `back-off 40s restarting failed container=${container.name} pod=${pod.name}_${namespace}(${pod.uid})`;
    const lastState = { terminated: { exitCode: 1, reason: 'Error', finishedAt: pod.createdAt } };
    return {
      ...base,
      restartCount: pod.restarts,
      state: { waiting: { reason: 'CrashLoopBackOff', message } },
      lastState,
    };
  });
  const running = pod.ready || failure?.reason === 'CrashLoopBackOff';
  return {
    metadata: {
      name: pod.name,
      namespace,
      uid: pod.uid,
      labels,
      creationTimestamp: pod.createdAt,
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: rs.name,
          uid: rs.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: { ...structuredClone(rs.template.spec), nodeName: 'sandbox-node-1' },
    status: {
      phase: running ? 'Running' : 'Pending',
      conditions: [
        {
          type: 'Ready',
          status: pod.ready ? 'True' : 'False',
          lastTransitionTime: pod.createdAt,
          ...(pod.ready ? {} : { reason: 'ContainersNotReady' }),
        },
      ],
      startTime: pod.createdAt,
      containerStatuses,
    },
  };
};

export const renderReplicaSet = (sim: SimDeployment, rs: SimReplicaSet, labels: Labels): object => {
  const ready = rs.pods.filter((pod) => pod.ready).length;
  const desired = rs === sim.current ? sim.object.spec.replicas : rs.pods.length;
  return {
    metadata: {
      name: rs.name,
      namespace: sim.object.metadata.namespace,
      uid: rs.uid,
      labels,
      annotations: {
        'deployment.kubernetes.io/revision': String(rs.revision),
        'deployment.kubernetes.io/desired-replicas': String(sim.object.spec.replicas),
      },
      creationTimestamp: rs.createdAt,
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: sim.object.metadata.name,
          uid: sim.object.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      replicas: desired,
      selector: { matchLabels: { ...sim.object.spec.selector.matchLabels, 'pod-template-hash': rs.hash } },
      template: { ...structuredClone(rs.template), metadata: { ...rs.template.metadata, labels } },
    },
    status: {
      replicas: rs.pods.length,
      fullyLabeledReplicas: rs.pods.length,
      observedGeneration: 1,
      ...compact({ readyReplicas: ready, availableReplicas: ready }),
    },
  };
};

export const setCondition = (
  object: DeploymentObject,
  type: DeploymentCondition['type'],
  ok: boolean,
  reason: string,
  message: string,
): void => {
  const at = now();
  const status = ok ? 'True' : 'False';
  const existing = object.status.conditions.find((c) => c.type === type);
  if (!existing) {
    object.status.conditions.push({ type, status, reason, message, lastUpdateTime: at, lastTransitionTime: at });
    return;
  }
  if (existing.status !== status) existing.lastTransitionTime = at;
  if (existing.status !== status || existing.reason !== reason || existing.message !== message)
    existing.lastUpdateTime = at;
  Object.assign(existing, { status, reason, message });
};
