import {
  ApiException,
  BatchV1Api,
  CoreV1Api,
  type ConfigurationOptions,
  type KubeConfig,
  type V1Container,
  type V1Job,
} from '@kubernetes/client-node';
import { ProviderFailed } from '../../errors.js';
import type { JobSpec, JobState } from './workload.js';

/** The name of the Job's one container, so its log can be asked for by name even when a mesh injects a sidecar. */
const CONTAINER = 'hook';
/** Lines of the pod's log kept in a JobState. */
const LOG_LINES = 20;
/** A finished Job stays a day for anyone who wants to look at it, then the cluster deletes it. */
const TTL_SECONDS = 86_400;

/** How KubernetesWorkload makes requests: bounded by its timeout, failures turned into ProviderFailed naming `subject`. */
export interface KubernetesRequests {
  call<T>(subject: string, action: string, request: (options: ConfigurationOptions) => Promise<T>): Promise<T>;
}

const jobName = (namespace: string, name: string): string => `job ${namespace}/${name}`;

/** The `reason` of the Status document that came with a failed request. */
const statusReason = (error: unknown): string | undefined => {
  if (!(error instanceof ApiException) || typeof error.body !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(error.body);
    if (typeof parsed === 'object' && parsed !== null && 'reason' in parsed && typeof parsed.reason === 'string')
      return parsed.reason;
  } catch {
    // not a Status document
  }
  return undefined;
};

const hookContainer = (spec: JobSpec): V1Container => ({
  name: CONTAINER,
  image: spec.image,
  ...(spec.command ? { command: spec.command } : {}),
  ...(spec.args ? { args: spec.args } : {}),
  ...(spec.env ? { env: Object.entries(spec.env).map(([name, value]) => ({ name, value })) } : {}),
});

/** What makes two runs of a hook the same run: what the container runs, not the labels or the deadline. */
const runKey = (container: V1Container | undefined): string =>
  JSON.stringify([
    container?.image,
    container?.command ?? [],
    container?.args ?? [],
    (container?.env ?? []).map((e) => [e.name, e.value ?? '']),
  ]);

const lastLines = (log: string): string[] => {
  const lines = log.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(-LOG_LINES);
};

/** Catalog hooks as Kubernetes Jobs; KubernetesWorkload's runJob and jobStatus. */
export class KubernetesJobs {
  private readonly batch: BatchV1Api;
  private readonly core: CoreV1Api;

  constructor(
    kc: KubeConfig,
    private readonly requests: KubernetesRequests,
  ) {
    this.batch = kc.makeApiClient(BatchV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async run(spec: JobSpec): Promise<{ created: boolean }> {
    const labels = spec.labels ?? {};
    const container = hookContainer(spec);
    const body: V1Job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: spec.name, namespace: spec.namespace, labels },
      spec: {
        // A hook that fails once fails the deployment: a second try of a half-applied migration is for a human to decide.
        backoffLimit: 0,
        ttlSecondsAfterFinished: TTL_SECONDS,
        ...(spec.activeDeadlineSeconds === undefined ? {} : { activeDeadlineSeconds: spec.activeDeadlineSeconds }),
        template: { metadata: { labels }, spec: { restartPolicy: 'Never', containers: [container] } },
      },
    };
    const subject = jobName(spec.namespace, spec.name);
    const created = await this.requests.call(subject, 'create', async (options) => {
      try {
        await this.batch.createNamespacedJob({ namespace: spec.namespace, body }, options);
        return true;
      } catch (error) {
        // Created by an earlier try that crashed before it could record it.
        if (error instanceof ApiException && error.code === 409 && statusReason(error) === 'AlreadyExists')
          return false;
        throw error;
      }
    });
    if (created) return { created: true };
    const existing = await this.read(spec.namespace, spec.name);
    const theirs = existing.spec?.template.spec?.containers.find((c) => c.name === CONTAINER);
    // Reporting another run's result as this one's would pass a hook that never ran.
    if (runKey(theirs) !== runKey(container)) {
      throw new ProviderFailed(
        `kubernetes: ${subject} already exists and runs something else (image ${theirs?.image ?? 'unknown'}); a hook run needs a name of its own`,
        {
          retriable: false,
        },
      );
    }
    return { created: false };
  }

  async status(namespace: string, name: string): Promise<JobState> {
    const job = await this.read(namespace, name);
    const subject = jobName(namespace, name);
    const conditions = (job.status?.conditions ?? []).filter((c) => c.status === 'True');
    // Since Kubernetes 1.31 the *Target / SuccessCriteriaMet conditions come first and the final ones once the pods are gone; the outcome is known at the first.
    const failed = conditions.find((c) => c.type === 'Failed') ?? conditions.find((c) => c.type === 'FailureTarget');
    if (failed) {
      const reason = failed.reason ?? 'Failed';
      const detail = failed.message ? `: ${failed.message}` : '';
      return this.finished(job, {
        phase: 'failed',
        reason,
        message: `${subject} failed (${reason})${detail}`,
        logTail: [],
      });
    }
    const succeeded = conditions.some((c) => c.type === 'Complete' || c.type === 'SuccessCriteriaMet');
    if (succeeded || (job.status?.succeeded ?? 0) >= (job.spec?.completions ?? 1)) {
      return this.finished(job, { phase: 'succeeded', message: `${subject} succeeded`, logTail: [] });
    }
    const active = job.status?.active ?? 0;
    const message =
      active > 0
        ? `${subject} is running (${job.status?.ready ?? 0} of ${active} pods ready)`
        : `${subject} is waiting for its pod`;
    return { phase: 'running', message, logTail: [] };
  }

  /** Adds the log tail; a log that cannot be read is mentioned, never a reason to fail the status. */
  private async finished(job: V1Job, state: JobState): Promise<JobState> {
    const namespace = job.metadata?.namespace ?? '';
    const name = job.metadata?.name ?? '';
    try {
      const pods = await this.requests.call(jobName(namespace, name), 'list pods of', (options) =>
        this.core.listNamespacedPod({ namespace, labelSelector: `job-name=${name}` }, options),
      );
      // backoffLimit 0 means one pod, unless it was evicted and replaced: the newest has the story.
      const pod = pods.items.sort(
        (a, b) => (b.metadata?.creationTimestamp?.getTime() ?? 0) - (a.metadata?.creationTimestamp?.getTime() ?? 0),
      )[0];
      const podName = pod?.metadata?.name;
      if (!podName) return { ...state, message: `${state.message} (no pod left to read the log of)` };
      const log = await this.requests.call(`pod ${namespace}/${podName}`, 'read the log of', (options) =>
        this.core.readNamespacedPodLog(
          { namespace, name: podName, container: CONTAINER, tailLines: LOG_LINES },
          options,
        ),
      );
      return { ...state, logTail: lastLines(log) };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { ...state, message: `${state.message} (log unavailable: ${reason})` };
    }
  }

  private read(namespace: string, name: string): Promise<V1Job> {
    return this.requests.call(jobName(namespace, name), 'read', (options) =>
      this.batch.readNamespacedJob({ namespace, name }, options),
    );
  }
}
