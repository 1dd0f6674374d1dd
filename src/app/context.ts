import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { PagingProvider } from '../providers/paging/paging.js';
import type { SourceControlProvider } from '../providers/source-control/source-control.js';
import type { DeploymentQueue } from '../queue/deployment-queue.js';
import type { Pager } from '../queue/paging-effects.js';
import type { SlackOutbox } from '../queue/slack-outbox.js';
import type { Catalog } from '../runbook/catalog.js';
import type { DeploymentStore } from '../store/deployment-store.js';

/** What the Slack handlers share: they read and record, the worker acts. */
export interface AppContext {
  catalog: Catalog;
  store: DeploymentStore;
  queue: DeploymentQueue;
  /** Every message the bot posts or edits in a channel or thread goes through it (it only enqueues). */
  outbox: SlackOutbox;
  redis: Redis;
  log: Logger;
  clock: () => number;
  version: string;
  /** Pages on-call through PagerDuty (the worker role makes the calls), when a routing key is configured. */
  pager?: Pager;
  /** PagerDuty's incidents, read by `/deploy` before the modal (set when PAGERDUTY_API_TOKEN is). */
  incidents?: Pick<PagingProvider, 'openHighUrgencyIncidents'>;
  /** GitHub, when GITHUB_TOKEN is set: the announcement's commit list. */
  sourceControl?: SourceControlProvider;
  /** The deployment worker of this process, if it runs one: /healthz reports on it. */
  worker?: Worker;
  /**
   * In Socket Mode, the state of the bot's WebSocket to Slack: a bot whose connection is down
   * receives nothing, so it is not ready (/healthz 503), though it is alive (/livez 200).
   */
  slackConnection?: () => SlackConnectionState;
}

export interface SlackConnectionState {
  connected: boolean;
  /** What a probe shows: `connected`, or what the client is doing instead (e.g. `reconnecting`). */
  state: string;
}
