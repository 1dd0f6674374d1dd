import { randomBytes, randomUUID } from 'node:crypto';
import { encode, now, StatusError, type ContainerSpec, type Labels } from './kubernetes-objects.js';

export type JobPhase = 'running' | 'succeeded' | 'failed';

interface JobTemplate {
  metadata: { labels: Labels; [field: string]: unknown };
  spec: { restartPolicy: string; containers: ContainerSpec[]; [field: string]: unknown };
}

/** A batch/v1 Job in wire form, as GET returns it. */
export interface JobObject {
  apiVersion: 'batch/v1';
  kind: 'Job';
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation: number;
    resourceVersion: string;
    creationTimestamp: string;
    labels: Labels;
    [field: string]: unknown;
  };
  spec: {
    backoffLimit: number;
    completions: number;
    parallelism: number;
    activeDeadlineSeconds?: number;
    ttlSecondsAfterFinished?: number;
    selector: { matchLabels: Labels };
    template: JobTemplate;
    [field: string]: unknown;
  };
  status: Record<string, unknown>;
}

/** A created Job, flattened for assertions; `object` is what GET returns. */
export interface JobRecord {
  namespace: string;
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env: Record<string, string>;
  labels: Labels;
  phase: JobPhase;
  object: JobObject;
}

export interface JobFailure {
  /** The pod's log. */
  logs?: string[];
  /** The reason of the Failed condition; default BackoffLimitExceeded. DeadlineExceeded deletes the pod, and its log with it, as the real controller does. */
  reason?: string;
}

interface SimJob {
  object: JobObject;
  startedMs: number;
  /** pausedMs() when it started: the time the controller was paused since then does not count. */
  pausedBeforeMs: number;
  /** Gone once the Job passed its deadline: the controller deletes the pods it stops. */
  pod?: { name: string; uid: string; createdAt: string };
  outcome?: { phase: 'succeeded' | 'failed'; reason?: string; at: string };
}

type NamePattern = string | RegExp;
const matches = (pattern: NamePattern, name: string): boolean =>
  typeof pattern === 'string' ? name.includes(pattern) : pattern.test(name);
/** The latest control for the Job, so that a test can change its mind. */
const latest = <T extends { pattern: NamePattern }>(controls: T[], name: string): T | undefined =>
  [...controls].reverse().find(({ pattern }) => matches(pattern, name));

/** Messages of the Job controller for the reasons it sets itself. */
const FAILURE_MESSAGES: Record<string, string> = {
  BackoffLimitExceeded: 'Job has reached the specified backoff limit',
  DeadlineExceeded: 'Job was active longer than specified deadline',
};

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const invalid = (name: string, field: string, problem: string): StatusError =>
  new StatusError(422, 'Invalid', `Job.batch "${name}" is invalid: ${field}: ${problem}`, {
    name,
    group: 'batch',
    kind: 'Job',
  });

/** The checks the API server makes on the fields a hook sets. */
const validate = (
  namespace: string,
  body: unknown,
): { name: string; metadata: Record<string, unknown>; spec: Record<string, unknown>; template: JobTemplate } => {
  if (!isRecord(body) || !isRecord(body.metadata))
    throw new StatusError(400, 'BadRequest', "Object 'metadata' is missing");
  const { metadata } = body;
  const name = typeof metadata.name === 'string' ? metadata.name : '';
  if (name === '') throw invalid(name, 'metadata.name', 'Required value: name or generateName is required');
  if (metadata.namespace !== undefined && metadata.namespace !== namespace) {
    throw new StatusError(
      400,
      'BadRequest',
      'the namespace of the provided object does not match the namespace sent on the request',
    );
  }
  if (!DNS_SUBDOMAIN.test(name) || name.length > 253) {
    throw invalid(
      name,
      'metadata.name',
      `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`,
    );
  }
  // The controller labels the pods with the Job's name, and a label value holds 63 characters.
  if (name.length > 63)
    throw invalid(name, 'spec.template.labels', `Invalid value: "${name}": must be no more than 63 characters`);
  const spec = isRecord(body.spec) ? body.spec : {};
  const template = isRecord(spec.template) ? spec.template : {};
  const podSpec = isRecord(template.spec) ? template.spec : {};
  const containers = podSpec.containers;
  if (!Array.isArray(containers) || containers.length === 0)
    throw invalid(name, 'spec.template.spec.containers', 'Required value');
  containers.forEach((container: unknown, i) => {
    const field = `spec.template.spec.containers[${i}]`;
    if (!isRecord(container) || typeof container.name !== 'string' || container.name === '')
      throw invalid(name, `${field}.name`, 'Required value');
    if (typeof container.image !== 'string' || container.image === '')
      throw invalid(name, `${field}.image`, 'Required value');
  });
  const policy = podSpec.restartPolicy;
  if (policy !== 'Never' && policy !== 'OnFailure') {
    const problem = policy === undefined ? 'Required value' : `Unsupported value: "${String(policy)}"`;
    throw invalid(name, 'spec.template.spec.restartPolicy', `${problem}: supported values: "OnFailure", "Never"`);
  }
  const templateMetadata = isRecord(template.metadata) ? template.metadata : {};
  const labels = isRecord(templateMetadata.labels) ? (templateMetadata.labels as Labels) : {};
  return {
    name,
    metadata,
    spec,
    template: { ...template, metadata: { ...templateMetadata, labels }, spec: podSpec as JobTemplate['spec'] },
  };
};

/**
 * The Job controller, reduced to one pod per Job: it runs for `durationMs` and succeeds, unless
 * a control fails it or the Job's activeDeadlineSeconds comes first. State is worked out when read.
 */
export class SimulatedJobs {
  private readonly jobsByKey = new Map<string, SimJob>();
  private readonly failures: { pattern: NamePattern; reason: string }[] = [];
  private readonly logs: { pattern: NamePattern; lines: string[] }[] = [];
  private resourceVersion = 5000;
  private pausedTotalMs = 0;
  private pausedSince: number | undefined;

  constructor(private readonly durationMs: number) {}

  /** A paused controller finishes nothing, and a Job's running time stops meanwhile. */
  setPaused(paused: boolean): void {
    if (paused && this.pausedSince === undefined) this.pausedSince = Date.now();
    if (!paused && this.pausedSince !== undefined) {
      this.pausedTotalMs += Date.now() - this.pausedSince;
      this.pausedSince = undefined;
    }
  }

  create(namespace: string, body: unknown): JobObject {
    const { name, metadata, spec, template } = validate(namespace, body);
    if (this.jobsByKey.has(`${namespace}/${name}`)) {
      throw new StatusError(409, 'AlreadyExists', `jobs.batch "${name}" already exists`, {
        name,
        group: 'batch',
        kind: 'jobs',
      });
    }
    const uid = randomUUID();
    const generated = {
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': name,
      'controller-uid': uid,
      'job-name': name,
    };
    const podLabels = { ...template.metadata.labels, ...generated };
    const ownLabels =
      isRecord(metadata.labels) && Object.keys(metadata.labels).length > 0 ? (metadata.labels as Labels) : podLabels;
    const createdAt = now();
    const object: JobObject = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        ...metadata,
        name,
        namespace,
        uid,
        generation: 1,
        resourceVersion: this.nextVersion(),
        creationTimestamp: createdAt,
        labels: { ...ownLabels },
      },
      spec: {
        parallelism: 1,
        completions: 1,
        backoffLimit: 6,
        completionMode: 'NonIndexed',
        suspend: false,
        podReplacementPolicy: 'TerminatingOrFailed',
        ...spec,
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
        template: { ...template, metadata: { ...template.metadata, labels: podLabels } },
      },
      status: {},
    };
    const sim: SimJob = {
      object,
      startedMs: Date.now(),
      pausedBeforeMs: this.pausedMs(),
      pod: { name: `${name}-${encode(randomBytes(5), 5)}`, uid: randomUUID(), createdAt },
    };
    this.jobsByKey.set(`${namespace}/${name}`, sim);
    return this.render(sim);
  }

  get(namespace: string, name: string): JobObject {
    const sim = this.jobsByKey.get(`${namespace}/${name}`);
    if (!sim)
      throw new StatusError(404, 'NotFound', `jobs.batch "${name}" not found`, { name, group: 'batch', kind: 'jobs' });
    return this.render(sim);
  }

  list(namespace: string, selector: (labels: Labels) => boolean): JobObject[] {
    return this.inNamespace(namespace)
      .filter((sim) => selector(sim.object.metadata.labels))
      .map((sim) => this.render(sim));
  }

  pods(namespace: string, selector: (labels: Labels) => boolean): object[] {
    return this.inNamespace(namespace)
      .filter((sim) => sim.pod && selector(sim.object.spec.template.metadata.labels))
      .map((sim) => this.renderPod(sim));
  }

  /** The pod's log, or undefined when no Job owns a pod of that name. */
  log(namespace: string, podName: string, container: string | null, tailLines: number | undefined): string | undefined {
    const sim = this.inNamespace(namespace).find((candidate) => candidate.pod?.name === podName);
    if (!sim) return undefined;
    const containers = sim.object.spec.template.spec.containers.map((c) => c.name);
    if (container !== null && !containers.includes(container)) {
      throw new StatusError(400, 'BadRequest', `container ${container} is not valid for pod ${podName}`);
    }
    if (container === null && containers.length > 1) {
      throw new StatusError(
        400,
        'BadRequest',
        `a container name must be specified for pod ${podName}, choose one of: [${containers.join(' ')}]`,
      );
    }
    const name = sim.object.metadata.name;
    const lines = latest(this.logs, name)?.lines ?? [];
    const tail = tailLines === undefined ? lines : lines.slice(-tailLines);
    return tail.map((line) => `${line}\n`).join('');
  }

  fail(pattern: NamePattern, failure: JobFailure): void {
    this.failures.push({ pattern, reason: failure.reason ?? 'BackoffLimitExceeded' });
    if (failure.logs) this.logs.push({ pattern, lines: [...failure.logs] });
  }

  setLogs(pattern: NamePattern, lines: string[]): void {
    this.logs.push({ pattern, lines: [...lines] });
  }

  records(): JobRecord[] {
    return [...this.jobsByKey.values()].map((sim) => {
      const object = this.render(sim);
      const container = object.spec.template.spec.containers[0] as ContainerSpec & {
        command?: string[];
        args?: string[];
        env?: { name: string; value?: string }[];
      };
      return {
        namespace: object.metadata.namespace,
        name: object.metadata.name,
        image: container.image,
        ...(container.command ? { command: container.command } : {}),
        ...(container.args ? { args: container.args } : {}),
        env: Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? ''])),
        labels: object.metadata.labels,
        phase: sim.outcome?.phase ?? 'running',
        object,
      };
    });
  }

  private inNamespace(namespace: string): SimJob[] {
    return [...this.jobsByKey.values()].filter((sim) => sim.object.metadata.namespace === namespace);
  }

  private pausedMs(): number {
    return this.pausedTotalMs + (this.pausedSince === undefined ? 0 : Date.now() - this.pausedSince);
  }

  private nextVersion(): string {
    this.resourceVersion += 1;
    return String(this.resourceVersion);
  }

  /** Decides the Job's outcome once its time is up; a paused controller decides nothing. */
  private advance(sim: SimJob): void {
    if (sim.outcome || this.pausedSince !== undefined) return;
    const elapsed = Date.now() - sim.startedMs - (this.pausedMs() - sim.pausedBeforeMs);
    const deadline = sim.object.spec.activeDeadlineSeconds;
    const deadlineMs = deadline === undefined ? Infinity : deadline * 1000;
    const endsMs = Math.min(deadlineMs, this.durationMs);
    if (elapsed < endsMs) return;
    const name = sim.object.metadata.name;
    const reason = deadlineMs < this.durationMs ? 'DeadlineExceeded' : latest(this.failures, name)?.reason;
    const at = new Date(Date.now() - (elapsed - endsMs)).toISOString().replace(/\.\d{3}Z$/, 'Z');
    sim.outcome = reason === undefined ? { phase: 'succeeded', at } : { phase: 'failed', reason, at };
    if (reason === 'DeadlineExceeded') delete sim.pod;
    sim.object.metadata.resourceVersion = this.nextVersion();
  }

  private render(sim: SimJob): JobObject {
    this.advance(sim);
    const object = structuredClone(sim.object);
    const startTime = object.metadata.creationTimestamp;
    const base = { startTime, terminating: 0, uncountedTerminatedPods: {} };
    const outcome = sim.outcome;
    if (!outcome) {
      object.status = { ...base, active: 1, ready: 1 };
      return object;
    }
    const condition = (type: string, reason: string, message: string) => ({
      type,
      status: 'True',
      reason,
      message,
      lastProbeTime: outcome.at,
      lastTransitionTime: outcome.at,
    });
    if (outcome.phase === 'succeeded') {
      const message = 'Reached expected number of succeeded pods';
      const conditions = [
        condition('SuccessCriteriaMet', 'CompletionsReached', message),
        condition('Complete', 'CompletionsReached', message),
      ];
      object.status = { ...base, ready: 0, succeeded: 1, completionTime: outcome.at, conditions };
      return object;
    }
    const reason = outcome.reason ?? 'BackoffLimitExceeded';
    const message = FAILURE_MESSAGES[reason] ?? `Job failed with reason ${reason}`;
    object.status = {
      ...base,
      ready: 0,
      failed: 1,
      conditions: [condition('FailureTarget', reason, message), condition('Failed', reason, message)],
    };
    return object;
  }

  private renderPod(sim: SimJob): object {
    const pod = sim.pod as NonNullable<SimJob['pod']>;
    const job = sim.object;
    const outcome = sim.outcome;
    const state = () => {
      if (!outcome)
        return { ready: true, started: true, restartCount: 0, state: { running: { startedAt: pod.createdAt } } };
      const ok = outcome.phase === 'succeeded';
      const terminated = {
        exitCode: ok ? 0 : 1,
        reason: ok ? 'Completed' : 'Error',
        startedAt: pod.createdAt,
        finishedAt: outcome.at,
      };
      return { ready: false, started: false, restartCount: 0, state: { terminated } };
    };
    return {
      metadata: {
        name: pod.name,
        namespace: job.metadata.namespace,
        uid: pod.uid,
        labels: { ...job.spec.template.metadata.labels },
        creationTimestamp: pod.createdAt,
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'Job',
            name: job.metadata.name,
            uid: job.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: { ...structuredClone(job.spec.template.spec), nodeName: 'sandbox-node-1' },
      status: {
        phase: !outcome ? 'Running' : outcome.phase === 'succeeded' ? 'Succeeded' : 'Failed',
        startTime: pod.createdAt,
        containerStatuses: job.spec.template.spec.containers.map((container) => ({
          name: container.name,
          image: container.image,
          imageID: '',
          ...state(),
        })),
      },
    };
  }
}
