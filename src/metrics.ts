import { WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError } from '@slack/web-api';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Deployment, RollbackIntent, StepRecord } from './domain/deployment.js';
import { rollbackRequestedAt } from './domain/dora.js';
import type { StepKind } from './domain/steps.js';

/**
 * What this process did, as Prometheus metrics. Every process (bot, worker, or both) serves
 * them on its own `/metrics`, so each worker pod is scraped for its own steps and rollbacks;
 * counts read from Redis (deployments by outcome, queue depth) are added by `http-routes.ts`.
 */
export const processRegistry = new Registry();

let defaultsCollected = false;
/** Node's own metrics (memory, event loop lag, GC), registered once per process. */
export function collectProcessDefaults(): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  collectDefaultMetrics({ register: processRegistry, prefix: 'switchyard_' });
}

export const deploymentsFinished = new Counter({
  name: 'switchyard_deployments_finished_total',
  help: 'Deployments this worker brought to an end, by service and outcome',
  labelNames: ['service', 'outcome'] as const,
  registers: [processRegistry],
});

export const stepDuration = new Histogram({
  name: 'switchyard_step_duration_seconds',
  help: 'Time from a step starting to it succeeding or failing (bakes and rollouts included), by step kind and outcome',
  labelNames: ['step', 'outcome'] as const,
  buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600],
  registers: [processRegistry],
});

export const rollbackLatency = new Histogram({
  name: 'switchyard_rollback_seconds',
  help: 'Rollback requested (command, button or failed gate) to the previous version holding all the traffic again',
  labelNames: ['service'] as const,
  // Seed 000 allows 30 s; the target is 5 s.
  buckets: [0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 120, 300],
  registers: [processRegistry],
});

export const slackApiErrors = new Counter({
  name: 'switchyard_slack_api_errors_total',
  help: 'Slack Web API calls that failed, by method and error (Slack error code, ratelimited, http_<status> or unreachable)',
  labelNames: ['method', 'error'] as const,
  registers: [processRegistry],
});

/** The count a deployment adds when it reaches a terminal phase. */
export function recordOutcome(d: Pick<Deployment, 'service' | 'phase'>): void {
  deploymentsFinished.inc({ service: d.service, outcome: d.phase });
}

/** Observes a step once it has ended (done or failed); a step still waiting adds nothing. */
export function recordStep(kind: StepKind, record: StepRecord | undefined): void {
  if (record?.startedAt === undefined || record.endedAt === undefined || record.outcome === undefined) return;
  stepDuration.observe({ step: kind, outcome: record.outcome }, Math.max(0, record.endedAt - record.startedAt) / 1000);
}

/** Observes a finished rollback, from its request (the intent, or the failing step) to `restoredAt`. */
export function recordRollback(d: Deployment, intent: RollbackIntent | undefined, restoredAt: number): void {
  const requested = rollbackRequestedAt({ ...d, finishedAt: restoredAt }, intent);
  if (requested === undefined) return;
  rollbackLatency.observe({ service: d.service }, Math.max(0, restoredAt - requested) / 1000);
}

/** A short, bounded label for a Web API failure. */
export function slackErrorCode(error: unknown): string {
  if (error instanceof WebAPIPlatformError) return String(error.data.error);
  if (error instanceof WebAPIRateLimitedError) return 'ratelimited';
  if (error instanceof WebAPIHTTPError) return `http_${error.statusCode}`;
  if (error instanceof WebAPIRequestError) return 'unreachable';
  return 'unknown';
}

export function recordSlackError(method: string, error: unknown): void {
  slackApiErrors.inc({ method, error: slackErrorCode(error) });
}
