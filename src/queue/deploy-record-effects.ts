import type { Deployment } from '../domain/deployment.js';
import { isProductionChange } from '../domain/dora.js';
import { environmentOf } from '../domain/environment-of.js';
import { ProviderFailed } from '../errors.js';
import type { DeployMarker, DoraDeployment, DoraFailure } from '../providers/deploy-records/deploy-records.js';
import type { Providers } from '../providers/providers.js';
import type { DeploymentRequest, DeploymentState } from '../providers/source-control/source-control.js';
import type { Effect, EffectContext, EffectHandlers } from './effect-outbox.js';

/** Which outside records a deployment keeps: GitHub's (a service with `github.repo` and a token) and Datadog's (API key). */
export interface DeployRecordTargets {
  repo?: string;
  datadog: boolean;
}

/** The handler kinds below; each makes one call and throws when it did not go through. */
const KIND = {
  marker: 'datadog-marker',
  doraDeployment: 'dora-deployment',
  doraFailure: 'dora-failure',
  githubCreate: 'github-create',
  githubStatus: 'github-status',
  githubStatusOfRef: 'github-status-of-ref',
} as const;

const GITHUB_CREATE = 'github:create';
const GITHUB_REPLACED = 'github:inactive-replaced';

interface GitHubCreate {
  repo: string;
  request: DeploymentRequest;
}
interface GitHubStatus {
  repo: string;
  state: DeploymentState;
  description: string;
}
/** A status for the GitHub deployments of another version (the one this deployment replaced). */
interface GitHubStatusOfRef extends GitHubStatus {
  ref: string;
  environment: string;
  /** `newest`: only the newest deployment of the ref (restored after a rollback); `all`: every one (replaced). */
  which: 'newest' | 'all';
  /** Only when this deployment marked them inactive (it had completed before it was rolled back). */
  onlyIfReplaced?: boolean;
}

const stepStarted = (before: Deployment, after: Deployment, kind: string): boolean =>
  after.steps.some(
    (step, i) =>
      step.kind === kind &&
      before.stepRecords[i]?.startedAt === undefined &&
      after.stepRecords[i]?.startedAt !== undefined,
  );
const entered = (before: Deployment, after: Deployment, phase: Deployment['phase']): boolean =>
  before.phase !== phase && after.phase === phase;

/**
 * The deploy records a tick's write calls for, from the record before and after it: Datadog
 * deploy markers (start, 100 %, rollback, completion), DORA (a production change that ended,
 * and a rollback as a failure) and GitHub's deployment and its statuses. Pure; each effect has
 * a key of its own, so a tick run again asks for nothing twice.
 */
export function deployRecordEffects(
  before: Deployment,
  after: Deployment,
  targets: DeployRecordTargets,
  at: number,
): Effect[] {
  const effects: Effect[] = [];
  const environment = environmentOf(after);
  const ids = { deploymentId: after.id, service: after.service, environment, version: after.version };
  const marker = (key: string, kind: DeployMarker['kind'], title: string, text: string) => {
    if (!targets.datadog) return;
    const payload: DeployMarker = { ...ids, kind, title: `${after.service} ${after.version}: ${title}`, text, at };
    effects.push({ deploymentId: after.id, key: `datadog:${key}`, lane: 'datadog', kind: KIND.marker, payload });
  };
  const github = (key: string, kind: string, payload: unknown) => {
    if (targets.repo) effects.push({ deploymentId: after.id, key, lane: 'github', kind, payload });
  };
  const status = (state: DeploymentState, description: string) =>
    github(`github:status:${state}`, KIND.githubStatus, { repo: targets.repo, state, description } as GitHubStatus);

  if (stepStarted(before, after, 'preflight')) {
    const previous = after.previousVersion ? ` (replacing ${after.previousVersion})` : '';
    marker(
      'start',
      'info',
      'deployment started',
      `Switchyard started deploying ${after.version} to ${environment}${previous}.`,
    );
    github(GITHUB_CREATE, KIND.githubCreate, {
      repo: targets.repo,
      request: {
        ref: after.version,
        environment,
        description: `Switchyard ${after.strategy} deployment ${after.id}`,
        payload: { switchyardDeploymentId: after.id, service: after.service },
      },
    } as GitHubCreate);
    status('in_progress', `Deploying ${after.version} (${after.strategy})`);
  }
  if (before.fullTrafficAt === undefined && after.fullTrafficAt !== undefined)
    marker(
      'full-traffic',
      'info',
      'all traffic on the new version',
      `${after.version} serves 100 % of ${environment}.`,
    );
  if (entered(before, after, 'succeeded')) {
    marker('complete', 'success', 'deployment completed', `${after.version} is live in ${environment}.`);
    status('success', `${after.version} is live`);
    if (after.previousVersion && after.previousVersion !== after.version)
      github(GITHUB_REPLACED, KIND.githubStatusOfRef, {
        repo: targets.repo,
        ref: after.previousVersion,
        environment,
        which: 'all',
        state: 'inactive',
        description: `Replaced by ${after.version}`,
      } as GitHubStatusOfRef);
  }
  if (entered(before, after, 'rolled-back')) {
    const reason = after.rollbackReason ?? 'rolled back';
    marker('rollback', 'error', 'rolled back', `Back on ${after.previousVersion ?? 'the previous version'}: ${reason}`);
    status('failure', `Rolled back: ${reason}`);
    // Rolled back after it completed: the version it replaced (marked inactive then) serves again.
    if (after.previousVersion && after.previousVersion !== after.version)
      github('github:restore-replaced', KIND.githubStatusOfRef, {
        repo: targets.repo,
        ref: after.previousVersion,
        environment,
        which: 'newest',
        onlyIfReplaced: true,
        state: 'success',
        description: `Serving again after the rollback of ${after.version}`,
      } as GitHubStatusOfRef);
  }
  if (entered(before, after, 'failed'))
    status('failure', `Stopped before any traffic moved: ${after.failureReason ?? ''}`);
  const ended = entered(before, after, 'succeeded') || entered(before, after, 'rolled-back');
  if (targets.datadog && ended && isProductionChange(after)) {
    const payload: DoraDeployment = { ...ids, startedAt: after.approvedAt ?? after.requestedAt, finishedAt: at };
    effects.push({ deploymentId: after.id, key: 'dora:deployment', lane: 'dora', kind: KIND.doraDeployment, payload });
  }
  if (targets.datadog && entered(before, after, 'rolled-back')) {
    const payload: DoraFailure = {
      ...ids,
      name: `${after.service} ${after.version} rolled back: ${after.rollbackReason ?? 'rolled back'}`,
      startedAt: after.fullTrafficAt ?? after.approvedAt ?? after.requestedAt,
      finishedAt: at,
    };
    effects.push({ deploymentId: after.id, key: 'dora:failure', lane: 'dora', kind: KIND.doraFailure, payload });
  }
  return effects;
}

/** The GitHub deployment this deployment created; a status without one waits (its lane runs in order). */
async function createdDeployment(context: EffectContext): Promise<number> {
  const id = await context.resultOf(GITHUB_CREATE);
  if (typeof id !== 'number')
    throw new ProviderFailed(`no GitHub deployment was created for ${context.deploymentId}`, { retriable: false });
  return id;
}

/** The calls behind each effect kind, on the providers this worker has. */
export function deployRecordHandlers(providers: Pick<Providers, 'sourceControl' | 'deployRecords'>): EffectHandlers {
  const handlers: EffectHandlers = {};
  const { sourceControl, deployRecords } = providers;
  if (deployRecords) {
    handlers[KIND.marker] = (marker: DeployMarker) => deployRecords.marker(marker);
    handlers[KIND.doraDeployment] = (deployment: DoraDeployment) => deployRecords.doraDeployment(deployment);
    handlers[KIND.doraFailure] = (failure: DoraFailure) => deployRecords.doraFailure(failure);
  }
  if (sourceControl) {
    handlers[KIND.githubCreate] = ({ repo, request }: GitHubCreate) => sourceControl.createDeployment(repo, request);
    handlers[KIND.githubStatus] = async ({ repo, state, description }: GitHubStatus, context) =>
      sourceControl.setDeploymentStatus(repo, await createdDeployment(context), state, description);
    // Returns the ids it set, which is what tells a later rollback that this deployment had replaced them.
    handlers[KIND.githubStatusOfRef] = async (s: GitHubStatusOfRef, context) => {
      if (s.onlyIfReplaced && !Array.isArray(await context.resultOf(GITHUB_REPLACED))) return [];
      const ids = await sourceControl.deploymentsOf(s.repo, s.ref, s.environment);
      const chosen = s.which === 'newest' ? ids.slice(0, 1) : ids;
      for (const id of chosen) await sourceControl.setDeploymentStatus(s.repo, id, s.state, s.description);
      return chosen;
    };
  }
  return handlers;
}
