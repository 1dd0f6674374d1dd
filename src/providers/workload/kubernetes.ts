import {
  AbortError,
  ApiException,
  AppsV1Api,
  CoreV1Api,
  FetchError,
  Observable,
  PatchStrategy,
  setHeaderOptions,
  type ConfigurationOptions,
  type KubeConfig,
  type V1Deployment,
  type V1LabelSelector,
  type V1Pod,
  type V1PodTemplateSpec,
  type V1ReplicaSet,
} from '@kubernetes/client-node';
import { ProviderFailed } from '../../errors.js';
import { KubernetesJobs, type KubernetesRequests } from './kubernetes-jobs.js';
import type { JobSpec, JobState, RolloutState, WorkloadProvider, WorkloadRef } from './workload.js';

/** Waiting reasons that do not clear up by themselves, so waiting out the rollout deadline only delays the bad news. */
const STUCK_REASONS = new Set(['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'InvalidImageName']);

/** Statuses worth another try: conflicts, throttling, timeouts and server-side trouble. */
const isRetriableStatus = (code: number): boolean => code === 408 || code === 409 || code === 429 || code >= 500;

export interface KubernetesWorkloadOptions {
  /** Per request; the client itself never gives up on a server that stops answering. Default 10 s. */
  timeoutMs?: number;
}

const refName = (ref: WorkloadRef): string => `${ref.namespace}/${ref.deployment}`;
const deploymentOf = (ref: WorkloadRef): string => `deployment ${refName(ref)}`;

/** The annotation the Deployment controller numbers its ReplicaSets (and the Deployment) with. */
const REVISION = 'deployment.kubernetes.io/revision';
/** The label the controller adds to a ReplicaSet's template; it is not part of the Deployment's. */
const HASH_LABEL = 'pod-template-hash';

const revisionOf = (object: { metadata?: { annotations?: Record<string, string> } }): number => {
  const revision = Number(object.metadata?.annotations?.[REVISION]);
  return Number.isInteger(revision) ? revision : 0;
};

/** JSON with sorted keys (and undefined fields dropped), so that two templates compare by content. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );

/** A ReplicaSet's template as the Deployment had it: without the label the controller added. */
const deploymentTemplate = (rs: V1ReplicaSet): V1PodTemplateSpec | undefined => {
  const template = rs.spec?.template;
  if (!template) return undefined;
  const labels = Object.fromEntries(
    Object.entries(template.metadata?.labels ?? {}).filter(([key]) => key !== HASH_LABEL),
  );
  return { ...template, metadata: { ...template.metadata, labels } };
};

/** The `message` of the Status document the API server sends with an error, if the body is one. */
const statusMessage = (body: unknown): string | undefined => {
  if (typeof body !== 'string' || body === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && 'message' in parsed && typeof parsed.message === 'string')
      return parsed.message;
  } catch {
    // not JSON: a proxy's HTML page, say
  }
  return body.slice(0, 200);
};

/** `kubectl`'s rendering of a selector, for the pods list query. */
const selectorString = (selector: V1LabelSelector): string => {
  const equal = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`);
  const expressions = (selector.matchExpressions ?? []).map(({ key, operator, values = [] }) => {
    if (operator === 'Exists') return key;
    if (operator === 'DoesNotExist') return `!${key}`;
    return `${key} ${operator.toLowerCase()} (${values.join(',')})`;
  });
  return [...equal, ...expressions].join(',');
};

/** Does the pod run the images of the template (and not an older ReplicaSet's)? */
const runsTemplate = (pod: V1Pod, deployment: V1Deployment): boolean => {
  const wanted = new Map((deployment.spec?.template.spec?.containers ?? []).map((c) => [c.name, c.image]));
  const containers = pod.spec?.containers ?? [];
  return containers.length > 0 && containers.every((c) => wanted.get(c.name) === c.image);
};

/** A Deployment's containers on Kubernetes, through the API server the KubeConfig points at. */
export class KubernetesWorkload implements WorkloadProvider {
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly timeoutMs: number;
  private readonly jobs: KubernetesJobs;

  constructor(kc: KubeConfig, options: KubernetesWorkloadOptions = {}) {
    this.apps = kc.makeApiClient(AppsV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    const requests: KubernetesRequests = { call: (subject, action, request) => this.call(subject, action, request) };
    this.jobs = new KubernetesJobs(kc, requests);
  }

  async readImage(ref: WorkloadRef): Promise<string> {
    return this.imageIn(await this.read(ref), ref);
  }

  async setImage(ref: WorkloadRef, image: string): Promise<{ changed: boolean }> {
    if (this.imageIn(await this.read(ref), ref) === image) return { changed: false };
    // Strategic merge keys containers by name, so the patch names one container and leaves its siblings alone.
    const body = { spec: { template: { spec: { containers: [{ name: ref.container, image }] } } } };
    await this.patch(ref, 'patch', body, PatchStrategy.StrategicMergePatch);
    return { changed: true };
  }

  async rollbackToImage(ref: WorkloadRef, image: string): Promise<{ changed: boolean }> {
    const deployment = await this.read(ref);
    // The rollout being undone changed only the image: when it is back, any other difference from
    // the old template is someone else's later change, not ours to revert.
    if (this.imageIn(deployment, ref) === image) return { changed: false };
    const history = await this.history(deployment, ref);
    const match = history.find((rs) =>
      rs.spec?.template?.spec?.containers.some((c) => c.name === ref.container && c.image === image),
    );
    const template = match && deploymentTemplate(match);
    // No ReplicaSet left with that image (the controller prunes beyond revisionHistoryLimit): the image alone is the best we have.
    if (!template) return this.setImage(ref, image);
    return this.restoreTemplate(deployment, ref, template);
  }

  runJob(spec: JobSpec): Promise<{ created: boolean }> {
    return this.jobs.run(spec);
  }

  jobStatus(namespace: string, name: string): Promise<JobState> {
    return this.jobs.status(namespace, name);
  }

  /** The Deployment's own ReplicaSets, newest revision first: what `kubectl rollout history` lists. */
  private async history(deployment: V1Deployment, ref: WorkloadRef): Promise<V1ReplicaSet[]> {
    const selector = deployment.spec?.selector;
    const uid = deployment.metadata?.uid;
    if (!selector || !uid) return [];
    const list = await this.call(deploymentOf(ref), 'list replica sets of', (options) =>
      this.apps.listNamespacedReplicaSet(
        { namespace: ref.namespace, labelSelector: selectorString(selector) },
        options,
      ),
    );
    // The selector can match another Deployment's ReplicaSets too; the controller reference cannot.
    const owned = list.items.filter((rs) =>
      rs.metadata?.ownerReferences?.some((owner) => owner.controller && owner.uid === uid),
    );
    return owned.sort((a, b) => revisionOf(b) - revisionOf(a));
  }

  /**
   * Replaces the whole pod template, as `kubectl rollout undo` does, with a JSON patch: a merge
   * patch would keep labels, annotations and pod fields the newer template added.
   */
  private async restoreTemplate(
    deployment: V1Deployment,
    ref: WorkloadRef,
    template: V1PodTemplateSpec,
  ): Promise<{ changed: boolean }> {
    if (canonical(deployment.spec?.template) === canonical(template)) return { changed: false };
    // Under a pod template the client's model fields keep their wire names (none is renamed like `_from`), so they serialize as sent.
    const body = [{ op: 'replace', path: '/spec/template', value: JSON.parse(canonical(template)) as unknown }];
    await this.patch(ref, 'roll back', body, PatchStrategy.JsonPatch);
    return { changed: true };
  }

  async rolloutStatus(ref: WorkloadRef): Promise<RolloutState> {
    const deployment = await this.read(ref);
    const state = this.kubectlStatus(deployment, ref);
    if (state.phase !== 'progressing') return state;
    return (await this.stuckPod(deployment, ref)) ?? state;
  }

  /** The checks of `kubectl rollout status`, in its order and with its wording. */
  private kubectlStatus(deployment: V1Deployment, ref: WorkloadRef): RolloutState {
    const name = refName(ref);
    const generation = deployment.metadata?.generation ?? 0;
    const status = deployment.status ?? {};
    if ((status.observedGeneration ?? 0) < generation) {
      return { phase: 'progressing', message: `waiting for deployment ${name} spec update to be observed` };
    }
    const progressing = status.conditions?.find((c) => c.type === 'Progressing');
    if (progressing?.reason === 'ProgressDeadlineExceeded') {
      return {
        phase: 'failed',
        reason: 'ProgressDeadlineExceeded',
        message: `deployment ${name} exceeded its progress deadline`,
      };
    }
    const desired = deployment.spec?.replicas ?? 1;
    const updated = status.updatedReplicas ?? 0;
    const replicas = status.replicas ?? 0;
    const available = status.availableReplicas ?? 0;
    if (updated < desired) {
      return {
        phase: 'progressing',
        message: `deployment ${name}: ${updated} out of ${desired} new replicas have been updated`,
      };
    }
    if (replicas > updated) {
      return {
        phase: 'progressing',
        message: `deployment ${name}: ${replicas - updated} old replicas are pending termination`,
      };
    }
    if (available < updated) {
      return {
        phase: 'progressing',
        message: `deployment ${name}: ${available} of ${updated} updated replicas are available`,
      };
    }
    return { phase: 'complete', message: `deployment ${name} successfully rolled out` };
  }

  /** A pod of the new template whose container waits for a reason that will not go away. */
  private async stuckPod(deployment: V1Deployment, ref: WorkloadRef): Promise<RolloutState | undefined> {
    const selector = deployment.spec?.selector;
    if (!selector) return undefined;
    const pods = await this.call(deploymentOf(ref), 'list pods of', (options) =>
      this.core.listNamespacedPod({ namespace: ref.namespace, labelSelector: selectorString(selector) }, options),
    );
    for (const pod of pods.items.filter((p) => runsTemplate(p, deployment))) {
      const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
      for (const container of statuses) {
        const waiting = container.state?.waiting;
        if (!waiting?.reason || !STUCK_REASONS.has(waiting.reason)) continue;
        const podName = pod.metadata?.name ?? 'unknown';
        const detail = waiting.message ? `: ${waiting.message}` : '';
        return {
          phase: 'failed',
          pod: podName,
          reason: waiting.reason,
          message: `deployment ${refName(ref)}: pod ${podName} container ${container.name} is in ${waiting.reason}${detail}`,
        };
      }
    }
    return undefined;
  }

  private imageIn(deployment: V1Deployment, ref: WorkloadRef): string {
    const containers = deployment.spec?.template.spec?.containers ?? [];
    const image = containers.find((c) => c.name === ref.container)?.image;
    if (image) return image;
    const names = containers.map((c) => c.name).join(', ') || 'none';
    throw new ProviderFailed(
      `deployment ${refName(ref)} has no container "${ref.container}" with an image (containers: ${names})`,
      {
        retriable: false,
      },
    );
  }

  private read(ref: WorkloadRef): Promise<V1Deployment> {
    return this.call(deploymentOf(ref), 'read', (options) =>
      this.apps.readNamespacedDeployment({ namespace: ref.namespace, name: ref.deployment }, options),
    );
  }

  /** Bounds every request with a timeout (see KubernetesWorkloadOptions). */
  private requestOptions(): ConfigurationOptions {
    return {
      middleware: [
        {
          pre: (context) => {
            context.setSignal(AbortSignal.timeout(this.timeoutMs));
            return new Observable(Promise.resolve(context));
          },
          post: (response) => new Observable(Promise.resolve(response)),
        },
      ],
      middlewareMergeStrategy: 'append',
    };
  }

  /** One request, bounded by the timeout, its failure turned into a ProviderFailed naming `subject` ("deployment prod/api"). */
  /** Sends `body` to the Deployment as a patch of `type`. */
  private async patch(ref: WorkloadRef, action: string, body: object, type: PatchStrategy): Promise<void> {
    await this.call(deploymentOf(ref), action, (options) =>
      this.apps.patchNamespacedDeployment(
        { namespace: ref.namespace, name: ref.deployment, body },
        setHeaderOptions('Content-Type', type, options),
      ),
    );
  }

  private async call<T>(
    subject: string,
    action: string,
    request: (options: ConfigurationOptions) => Promise<T>,
  ): Promise<T> {
    try {
      return await request(this.requestOptions());
    } catch (error) {
      throw this.failure(error, subject, action);
    }
  }

  private failure(error: unknown, subject: string, action: string): ProviderFailed {
    const what = `kubernetes: ${action} ${subject}`;
    if (error instanceof ApiException) {
      // 401 arrives without a body: the client drops it for that status.
      const detail = statusMessage(error.body) ?? (error.code === 401 ? 'Unauthorized' : 'no details');
      return new ProviderFailed(`${what} failed with HTTP ${error.code}: ${detail}`, {
        cause: error,
        retriable: isRetriableStatus(error.code),
      });
    }
    if (error instanceof AbortError) {
      return new ProviderFailed(`${what} failed: no answer within ${this.timeoutMs} ms`, {
        cause: error,
        retriable: true,
      });
    }
    if (error instanceof FetchError)
      return new ProviderFailed(`${what} failed: ${error.message}`, { cause: error, retriable: true });
    // Anything else comes from the client or the kubeconfig itself, and would fail the same way again.
    const reason = error instanceof Error ? error.message : String(error);
    return new ProviderFailed(`${what} failed: ${reason}`, { cause: error, retriable: false });
  }
}
