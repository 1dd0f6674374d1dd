import { DEFAULT_ENVIRONMENT } from '../runbook/environments.js';

/**
 * A service in one environment. Production keeps the bare service name it had before
 * environments existed, so an upgraded install finds its locks, history and blocked versions.
 */
export const scopeOf = (service: string, environment: string = DEFAULT_ENVIRONMENT): string =>
  environment === DEFAULT_ENVIRONMENT ? service : `${service}@${environment}`;

/** Every Redis key Switchyard writes, under one prefix so installs (and tests) never collide. */
export const keys = (prefix: string) => ({
  deployment: (id: string) => `${prefix}:deploy:${id}`,
  events: (id: string) => `${prefix}:events:${id}`,
  intents: (id: string) => `${prefix}:intents:${id}`,
  /** The token of the worker run that owns the deployment's ticks now (the newest job run). */
  run: (id: string) => `${prefix}:run:${id}`,
  /** The Slack ts of each message the outbox posted for a deployment, by message key. */
  posted: (id: string) => `${prefix}:posted:${id}`,
  /** One active deployment per service and environment: its id and fencing token. */
  lock: (service: string, environment?: string) => `${prefix}:lock:${scopeOf(service, environment)}`,
  fence: (service: string, environment?: string) => `${prefix}:fence:${scopeOf(service, environment)}`,
  history: (service: string, environment?: string) => `${prefix}:history:${scopeOf(service, environment)}`,
  blocked: (service: string, environment?: string) => `${prefix}:blocked:${scopeOf(service, environment)}`,
  all: () => `${prefix}:deployments`,
  /** Deployments waiting for the service's lock, by when they may start (requested, or scheduled for). */
  queue: (service: string, environment?: string) => `${prefix}:queue:${scopeOf(service, environment)}`,
  /** The queued deployments that are approved, with what the hand-over checks (version, scheduled start, grace). */
  queueReady: (service: string, environment?: string) => `${prefix}:queue-ready:${scopeOf(service, environment)}`,
  /** A submitted checklist modal (by Slack view id), so a submission sent twice creates one deployment. */
  submitted: (viewId: string) => `${prefix}:submitted:${viewId}`,
  /** Freezes by scope: a service or `all`, in every environment or (`<scope>@<environment>`) in one. */
  freezes: () => `${prefix}:freezes`,
  /** The outbox's line of a deployment's messages (job ids, by the order they were asked for). */
  outboxOrder: (id: string) => `${prefix}:outbox:${id}`,
  /** Message keys an outbox attempt started sending, so a retry first looks for what it posted. */
  outboxSending: (id: string) => `${prefix}:sending:${id}`,
  /** The per-channel token bucket that paces the outbox. */
  slackRate: (channel: string) => `${prefix}:slack-rate:${channel}`,
  /** How a deployment's message (its announcement, an alert) should read now, and which version Slack has. */
  edit: (id: string, key: string) => `${prefix}:edit:${id}:${key}`,
  /** The effect outbox's line of a deployment's calls in one lane (job ids, by the order they were asked for). */
  effectLane: (id: string, lane: string) => `${prefix}:fx-lane:${id}:${lane}`,
  /** What each effect of a deployment returned, by effect key: a key here is done. */
  effectResults: (id: string) => `${prefix}:fx-done:${id}`,
});

export type Keys = ReturnType<typeof keys>;
