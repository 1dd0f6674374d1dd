import type { ServerResponse } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { FaultControls, sendJson, startHttpStandIn, type RecordedRequest } from './http-server.js';
import { SimulatedCluster } from './kubernetes-cluster.js';
import { SimulatedJobs, type JobFailure, type JobRecord } from './kubernetes-jobs.js';
import { StatusError, type DeploymentObject, type Labels, type PodFailureReason } from './kubernetes-objects.js';
import { applyPatch, isPatchType, PATCH_TYPES, PatchError } from './kubernetes-patch.js';

export type { DeploymentObject, PodFailureReason } from './kubernetes-objects.js';
export type { JobFailure, JobObject, JobRecord } from './kubernetes-jobs.js';

/** The bearer token the stand-in expects; `kubeConfig()` carries it. */
const TOKEN = 'switchyard-sandbox-token';

export interface RecordedPatch {
  at: number;
  ns: string;
  name: string;
  /** As sent, parameters stripped: `application/strategic-merge-patch+json`, … */
  contentType: string;
  /** The parsed patch document (the raw text when it was not JSON). */
  body: unknown;
}

export interface AddDeploymentInput {
  namespace: string;
  name: string;
  container: string;
  image: string;
  /** Default 3. */
  replicas?: number;
  /** Selector and template labels; default `{ app: name }`. */
  labels?: Labels;
}

export interface KubernetesStandIn {
  url: string;
  port: number;
  close(): Promise<void>;
  faults: FaultControls;
  requests: RecordedRequest[];
  /** Every PATCH of a Deployment that reached the server, accepted or not. */
  patches: RecordedPatch[];
  /** A Deployment whose rollout is already complete. */
  addDeployment(input: AddDeploymentInput): DeploymentObject;
  /** A snapshot of the stored Deployment, as GET would return it. */
  deployment(namespace: string, name: string): DeploymentObject | undefined;
  imageOf(namespace: string, name: string, container: string): string | undefined;
  /** Pods of any template with a matching image never become ready and wait with `reason`. */
  failImage(imagePattern: string | RegExp, reason: PodFailureReason): void;
  /** The Progressing condition turns False with ProgressDeadlineExceeded; the rollout stays stuck until the next template change. */
  progressDeadlineExceeded(namespace: string, name: string): void;
  /** Freezes every controller: nothing is observed, no rollout moves and no Job finishes. */
  pauseRollouts(paused: boolean): void;
  /** Jobs whose name matches (a string: contains) fail instead of succeeding when their time is up. */
  failJob(namePattern: string | RegExp, failure?: JobFailure): void;
  /** The log of the pods of matching Jobs (the latest call for a name wins, failJob's `logs` included). */
  setJobLogs(namePattern: string | RegExp, lines: string[]): void;
  /** Every Job created, in order, as it is now. */
  jobs(): JobRecord[];
  kubeConfig(): KubeConfig;
  /** The same configuration as a kubeconfig file, for a child process's KUBECONFIG. */
  kubeconfigYaml(): string;
}

/**
 * One kubeconfig whose contexts point at several stand-ins — `{ staging: a, production: b }`
 * gives contexts `staging` and `production` — as one KUBECONFIG holding two clusters does.
 * The current context is the first unless named.
 */
export function kubeconfigWithContexts(
  standIns: Record<string, Pick<KubernetesStandIn, 'url'>>,
  currentContext: string | undefined = Object.keys(standIns)[0],
): string {
  const names = Object.keys(standIns);
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: names.map((name) => ({
      name,
      cluster: { server: standIns[name]?.url, 'insecure-skip-tls-verify': true },
    })),
    users: names.map((name) => ({ name, user: { token: TOKEN } })),
    contexts: names.map((name) => ({ name, context: { cluster: name, user: name, namespace: 'default' } })),
    'current-context': currentContext,
  });
}

/** A `Status` error document, as the API server returns; also for tests that inject faults. */
export const kubernetesStatus = (code: number, reason: string, message: string, details?: Record<string, unknown>) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  ...(details ? { details } : {}),
  code,
});

const notFound = (name: string): StatusError =>
  new StatusError(404, 'NotFound', `deployments.apps "${name}" not found`, {
    name,
    group: 'apps',
    kind: 'deployments',
  });

const invalid = (name: string, field: string, problem: string): StatusError =>
  new StatusError(422, 'Invalid', `Deployment.apps "${name}" is invalid: ${field}: ${problem}`, {
    name,
    group: 'apps',
    kind: 'Deployment',
  });

/** Equality (`a=b`, `a==b`, `a!=b`), set (`a in (x,y)`, `a notin (x)`) and existence (`a`, `!a`) requirements. */
export const parseLabelSelector = (selector: string): ((labels: Labels) => boolean) => {
  const requirements = selector.match(/[^,(]+(\([^)]*\))?/g) ?? [];
  const tests = requirements.map((raw): ((labels: Labels) => boolean) => {
    const text = raw.trim();
    const set = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(text);
    if (set) {
      const values = (set[3] ?? '').split(',').map((v) => v.trim());
      const key = set[1] ?? '';
      return set[2] === 'in' ? (l) => values.includes(l[key] ?? '\0') : (l) => !values.includes(l[key] ?? '\0');
    }
    const equality = /^([\w./-]+)\s*(!=|==|=)\s*([\w./-]*)$/.exec(text);
    if (equality) {
      const [, key = '', op, value] = equality;
      return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
    }
    const exists = /^(!?)([\w./-]+)$/.exec(text);
    if (exists) return exists[1] ? (l) => !((exists[2] ?? '') in l) : (l) => (exists[2] ?? '') in l;
    throw new StatusError(400, 'BadRequest', `unable to parse requirement: found '${text}', expected: identifier`);
  });
  return (labels) => tests.every((test) => test(labels));
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The checks the API server's validation makes on the fields a patch may break. */
const validate = (before: DeploymentObject, after: unknown): DeploymentObject => {
  const name = before.metadata.name;
  if (!isRecord(after) || !isRecord(after.metadata) || !isRecord(after.spec))
    throw invalid(name, 'spec', 'Required value');
  if (after.metadata.name !== name) throw invalid(name, 'metadata.name', 'field is immutable');
  const { spec } = after;
  spec.replicas ??= 1;
  if (!Number.isInteger(spec.replicas) || (spec.replicas as number) < 0)
    throw invalid(name, 'spec.replicas', 'must be greater than or equal to 0');
  if (JSON.stringify(spec.selector) !== JSON.stringify(before.spec.selector))
    throw invalid(name, 'spec.selector', 'field is immutable');
  const template = spec.template;
  const containers = isRecord(template) && isRecord(template.spec) ? template.spec.containers : undefined;
  if (!Array.isArray(containers) || containers.length === 0)
    throw invalid(name, 'spec.template.spec.containers', 'Required value');
  const names = new Set<string>();
  containers.forEach((container: unknown, i) => {
    const field = `spec.template.spec.containers[${i}]`;
    if (!isRecord(container) || typeof container.name !== 'string' || container.name === '')
      throw invalid(name, `${field}.name`, 'Required value');
    if (typeof container.image !== 'string' || container.image === '')
      throw invalid(name, `${field}.image`, 'Required value');
    if (names.has(container.name)) throw invalid(name, `${field}.name`, `Duplicate value: "${container.name}"`);
    names.add(container.name);
  });
  const labels =
    isRecord(template) && isRecord(template.metadata) && isRecord(template.metadata.labels)
      ? template.metadata.labels
      : {};
  if (Object.entries(before.spec.selector.matchLabels).some(([k, v]) => labels[k] !== v)) {
    throw invalid(name, 'spec.template.metadata.labels', '`selector` does not match template `labels`');
  }
  return after as unknown as DeploymentObject;
};

/** An answer other than 200 with JSON: 201 for a create, text for a log. */
class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly text = false,
  ) {}
}

export interface KubernetesStandInOptions {
  port?: number;
  /** How often each rollout moves one replica; default 200. */
  rolloutStepMs?: number;
  /** How long a Job runs before it finishes; default 200. */
  jobDurationMs?: number;
}

/**
 * Starts a stand-in Kubernetes API server for apps/v1 Deployments and ReplicaSets, batch/v1
 * Jobs and core/v1 Pods (and their logs). A template change starts a simulated rollout that
 * moves one replica every `rolloutStepMs`, and creates (or reuses) the template's ReplicaSet.
 */
export async function startKubernetesStandIn(options: KubernetesStandInOptions = {}): Promise<KubernetesStandIn> {
  const cluster = new SimulatedCluster();
  const jobs = new SimulatedJobs(options.jobDurationMs ?? 200);
  const faults = new FaultControls();
  const requests: RecordedRequest[] = [];
  const patches: RecordedPatch[] = [];

  const patchDeployment = (req: RecordedRequest, ns: string, name: string): DeploymentObject => {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    let body: unknown = req.body;
    try {
      body = JSON.parse(req.body);
    } catch {
      // recorded as text; applyPatch reports the parse error
    }
    patches.push({ at: req.at, ns, name, contentType, body });
    if (!isPatchType(contentType)) {
      const accepted = PATCH_TYPES.join(', ');
      throw new StatusError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: ${accepted}`,
      );
    }
    const current = cluster.get(ns, name);
    if (!current) throw notFound(name);
    try {
      return cluster.replace(ns, name, validate(current, applyPatch(contentType, current, req.body)));
    } catch (error) {
      if (!(error instanceof PatchError)) throw error;
      throw new StatusError(error.code, error.code === 400 ? 'BadRequest' : 'Invalid', error.message);
    }
  };

  const createJob = (req: RecordedRequest, ns: string): Reply => {
    let body: unknown;
    try {
      body = JSON.parse(req.body);
    } catch (error) {
      throw new StatusError(400, 'BadRequest', `json parse error: ${(error as Error).message}`);
    }
    return new Reply(201, jobs.create(ns, body));
  };

  const podLog = (req: RecordedRequest, ns: string, pod: string): Reply => {
    const tail = req.query.get('tailLines');
    const tailLines = tail === null ? undefined : Number(tail);
    if (tailLines !== undefined && (!Number.isInteger(tailLines) || tailLines < 0))
      throw new StatusError(400, 'BadRequest', `invalid tailLines: ${tail}`);
    const log = jobs.log(ns, pod, req.query.get('container'), tailLines);
    if (log !== undefined) return new Reply(200, log, true);
    // A Deployment's pods write nothing worth reading here.
    if (cluster.pods(ns, () => true).some((p) => (p as { metadata: { name: string } }).metadata.name === pod))
      return new Reply(200, '', true);
    throw new StatusError(404, 'NotFound', `pods "${pod}" not found`, { name: pod, kind: 'pods' });
  };

  const route = (req: RecordedRequest): unknown => {
    const selector = parseLabelSelector(req.query.get('labelSelector') ?? '');
    let match = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)$/.exec(req.path);
    if (match) {
      const [, ns = '', name = ''] = match.map(decodeURIComponent);
      if (req.method === 'PATCH') return patchDeployment(req, ns, name);
      const found = req.method === 'GET' ? cluster.get(ns, name) : undefined;
      if (req.method === 'GET' && !found) throw notFound(name);
      if (found) return found;
    }
    if (req.method === 'POST' && (match = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs$/.exec(req.path))) {
      return createJob(req, decodeURIComponent(match[1] ?? ''));
    }
    if (req.method !== 'GET')
      throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    if ((match = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments$/.exec(req.path))) {
      const items = cluster.list(decodeURIComponent(match[1] ?? '')).filter((d) => selector(d.metadata.labels));
      return list('apps/v1', 'DeploymentList', items);
    }
    if ((match = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/replicasets$/.exec(req.path))) {
      return list('apps/v1', 'ReplicaSetList', cluster.replicaSets(decodeURIComponent(match[1] ?? ''), selector));
    }
    if ((match = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(req.path))) {
      const ns = decodeURIComponent(match[1] ?? '');
      return list('v1', 'PodList', [...cluster.pods(ns, selector), ...jobs.pods(ns, selector)]);
    }
    if ((match = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/.exec(req.path))) {
      const [, ns = '', pod = ''] = match.map(decodeURIComponent);
      return podLog(req, ns, pod);
    }
    if ((match = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs\/([^/]+)$/.exec(req.path))) {
      const [, ns = '', name = ''] = match.map(decodeURIComponent);
      return jobs.get(ns, name);
    }
    if ((match = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs$/.exec(req.path))) {
      return list('batch/v1', 'JobList', jobs.list(decodeURIComponent(match[1] ?? ''), selector));
    }
    throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  };
  const list = (apiVersion: string, kind: string, items: unknown[]) => ({
    apiVersion,
    kind,
    metadata: { resourceVersion: String(Date.now()) },
    items,
  });

  const handler = (req: RecordedRequest, res: ServerResponse): void => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      sendJson(res, 401, kubernetesStatus(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    try {
      const reply = route(req);
      if (!(reply instanceof Reply)) sendJson(res, 200, reply);
      else if (!reply.text) sendJson(res, reply.status, reply.body);
      else {
        res.writeHead(reply.status, { 'content-type': 'text/plain' });
        res.end(String(reply.body));
      }
    } catch (error) {
      if (!(error instanceof StatusError)) throw error;
      sendJson(res, error.code, kubernetesStatus(error.code, error.reason, error.message, error.details));
    }
  };

  const server = await startHttpStandIn(handler, { port: options.port, faults, log: requests });
  const ticker = setInterval(() => cluster.tick(), options.rolloutStepMs ?? 200);
  ticker.unref();

  const kubeconfigYaml = (): string =>
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'sandbox', cluster: { server: server.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'switchyard', user: { token: TOKEN } }],
      contexts: [{ name: 'sandbox', context: { cluster: 'sandbox', user: 'switchyard', namespace: 'default' } }],
      'current-context': 'sandbox',
    });

  return {
    url: server.url,
    port: server.port,
    close: async () => {
      clearInterval(ticker);
      await server.close();
    },
    faults,
    requests,
    patches,
    addDeployment: (input) => structuredClone(cluster.add(input)),
    deployment: (ns, name) => {
      const found = cluster.get(ns, name);
      return found && structuredClone(found);
    },
    imageOf: (ns, name, container) =>
      cluster.get(ns, name)?.spec.template.spec.containers.find((c) => c.name === container)?.image,
    failImage: (pattern, reason) => cluster.failImage(pattern, reason),
    progressDeadlineExceeded: (ns, name) => cluster.exceedDeadline(ns, name),
    pauseRollouts: (paused) => {
      cluster.paused = paused;
      jobs.setPaused(paused);
    },
    failJob: (pattern, failure = {}) => jobs.fail(pattern, failure),
    setJobLogs: (pattern, lines) => jobs.setLogs(pattern, lines),
    jobs: () => jobs.records(),
    kubeConfig: () => {
      const kc = new KubeConfig();
      kc.loadFromString(kubeconfigYaml());
      return kc;
    },
    kubeconfigYaml,
  };
}
