import type { App } from '@slack/bolt';
import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.js';
import { createLogger } from '../logger.js';
import type { Providers } from '../providers/providers.js';
import { lazySourceControl, type SourceControlProvider } from '../providers/source-control/source-control.js';
import { DeploymentQueue } from '../queue/deployment-queue.js';
import { EffectOutbox, type EffectHandlers } from '../queue/effect-outbox.js';
import { Pager, pagingEffects } from '../queue/paging-effects.js';
import { SlackOutbox } from '../queue/slack-outbox.js';
import type { Catalog } from '../runbook/catalog.js';
import { DeploymentStore } from '../store/deployment-store.js';
import { createBotApp } from './bolt-app.js';
import type { AppContext } from './context.js';
import { httpRoutes } from './http-routes.js';
import { checkSlackToken } from './slack-token-check.js';
import { startOpsServer, type OpsServer } from './ops-server.js';

/**
 * The version in Switchyard's package.json, found by walking up from this file: `dist/src/app/`
 * when built, `src/app/` when run from source. `npm_package_version` is only set under npm,
 * and the image runs `node dist/main.js` directly.
 */
export function packageVersion(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'switchyard' && pkg.version) return pkg.version;
    } catch {
      // No package.json here (or not ours): look one directory up.
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}

export const VERSION = packageVersion();

export interface Roles {
  bot: boolean;
  worker: boolean;
}

export interface SwitchyardOptions {
  config: Config;
  catalog: Catalog;
  roles: Roles;
  /**
   * Real adapters built from the environment (`buildProviders`) unless given. Only a process
   * that runs the worker loads them, and the AWS, Kubernetes and Datadog clients with them.
   */
  providers?: Providers;
  clock?: () => number;
  log?: Logger;
}

export interface RunningSwitchyard {
  /** The HTTP port the bot listens on (HTTP mode), or a worker-only process serves /healthz and /metrics on. */
  port?: number;
  app?: App;
  worker?: Worker;
  store: DeploymentStore;
  queue: DeploymentQueue;
  /** What the bot's handlers and routes read from (operator views, /healthz). */
  ctx: AppContext;
  close(): Promise<void>;
}

/** How long `/deploy` waits for PagerDuty's open incidents before opening the modal anyway. */
const DEPLOY_INCIDENT_CHECK_MS = 1200;

/** GitHub's client, loaded when the first commit list is read (a bot process loads no SDK it does not use). */
const gitHubOnFirstUse = (config: Config): SourceControlProvider | undefined => {
  const token = config.GITHUB_TOKEN;
  if (!token) return undefined;
  return lazySourceControl(async () => {
    const { GitHubSourceControl } = await import('../providers/source-control/github.js');
    return new GitHubSourceControl({ token, apiUrl: config.GITHUB_API_URL });
  });
};

/** Starts the bot, the worker, or both, on one Redis. */
export async function startSwitchyard(options: SwitchyardOptions): Promise<RunningSwitchyard> {
  const { config, catalog, roles } = options;
  const log = options.log ?? createLogger(config.LOG_LEVEL);
  const clock = options.clock ?? Date.now;
  // Both roles work through the bot token: a refused one stops the process here, named.
  await checkSlackToken(config);
  if (roles.worker && !options.providers) {
    const { checkWorkerPrerequisites } = await import('./worker-prerequisites.js');
    await checkWorkerPrerequisites(catalog);
  }
  // Loaded here, not at the top: a bot-only process never loads the SDKs behind the adapters.
  // Built before connecting to anything, so that a worker whose catalog names a cluster it
  // cannot reach (a kubeContext missing from KUBECONFIG) stops at once, saying which.
  const workerParts = roles.worker
    ? await Promise.all([
        options.providers ??
          import('./build-providers.js').then(({ buildProviders }) => buildProviders(config, log, { catalog })),
        import('../queue/deployment-worker.js'),
        import('../queue/deploy-record-effects.js'),
      ])
    : undefined;
  // BullMQ needs maxRetriesPerRequest: null so its blocking calls survive a Redis restart.
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  redis.on('error', (error) => log.warn({ err: error }, 'redis connection error'));
  const store = new DeploymentStore(redis, config.SWITCHYARD_PREFIX, config.RETENTION_DAYS);
  const queue = new DeploymentQueue(redis, config.SWITCHYARD_PREFIX);
  // Both roles enqueue Slack messages; only the worker role sends them.
  const outbox = new SlackOutbox(redis, redis, config.SWITCHYARD_PREFIX, {
    messagesPerSecond: config.SLACK_CHANNEL_MESSAGES_PER_SECOND,
    announcementEveryMs: config.ANNOUNCEMENT_UPDATE_MS,
  });
  // Calls to PagerDuty, Datadog and GitHub: enqueued after a tick's write, made by the worker role.
  const effects = new EffectOutbox(redis, redis, config.SWITCHYARD_PREFIX, config.RETENTION_DAYS * 24 * 3600);
  const ctx: AppContext = {
    catalog,
    store,
    queue,
    outbox,
    redis,
    log,
    clock,
    version: VERSION,
    sourceControl: options.providers?.sourceControl ?? gitHubOnFirstUse(config),
  };
  // An Acknowledge pressed in Slack resolves the breach's page: the bot enqueues, the worker sends.
  if (config.PAGERDUTY_ROUTING_KEY || Object.values(catalog.services).some((s) => s.pagerduty?.routingKey))
    ctx.pager = new Pager(effects);
  if (roles.bot && config.PAGERDUTY_API_TOKEN && Object.values(catalog.services).some((s) => s.pagerduty?.serviceId)) {
    const { PagerDutyPaging } = await import('../providers/paging/pagerduty.js');
    // Bounded well inside Slack's 3 s for opening the modal: the preflight step checks again anyway.
    ctx.incidents = new PagerDutyPaging({
      apiToken: config.PAGERDUTY_API_TOKEN,
      apiUrl: config.PAGERDUTY_API_URL,
      timeoutMs: DEPLOY_INCIDENT_CHECK_MS,
    });
  }

  let worker: Worker | undefined;
  let outboxWorker: Worker | undefined;
  let effectWorker: Worker | undefined;
  if (workerParts) {
    const [providers, { createDeploymentWorker }, { deployRecordHandlers }] = workerParts;
    outboxWorker = outbox.createWorker(providers.chat, store, log, {
      lockDurationMs: config.WORKER_LOCK_MS,
      stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS,
    });
    // Each integration the providers were built with adds the handlers of its effects.
    const effectHandlers: EffectHandlers = {
      ...(providers.paging ? pagingEffects(providers.paging) : {}),
      ...deployRecordHandlers(providers),
    };
    effectWorker = effects.createWorker(effectHandlers, log, {
      lockDurationMs: config.WORKER_LOCK_MS,
      stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS,
    });
    worker = createDeploymentWorker(
      { catalog, store, providers, log, clock, outbox, effects, queue },
      {
        connection: redis,
        prefix: config.SWITCHYARD_PREFIX,
        concurrency: config.WORKER_CONCURRENCY,
        lockDurationMs: config.WORKER_LOCK_MS,
        stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS,
      },
    );
    ctx.worker = worker;
  }

  let app: App | undefined;
  let port: number | undefined;
  const socketMode = roles.bot && Boolean(config.SLACK_APP_TOKEN);
  if (roles.bot) {
    app = createBotApp(config, ctx);
    const server = (await app.start(config.PORT)) as Server | undefined;
    if (!socketMode) {
      const address = server && typeof server.address === 'function' ? (server.address() as AddressInfo | null) : null;
      port = address?.port ?? config.PORT;
    }
    log.info({ port, socketMode }, socketMode ? 'bot connected over Socket Mode' : 'bot listening');
  }
  if (worker) log.info({ concurrency: config.WORKER_CONCURRENCY }, 'worker started');
  // A worker on its own, or a bot on Socket Mode (no HTTP receiver), still answers probes and scrapes.
  let ops: OpsServer | undefined;
  if (socketMode || !roles.bot) {
    ops = await startOpsServer(httpRoutes(ctx, roles.bot ? { bullBoard: config } : {}), config.PORT, log);
    port = ops.port;
    log.info({ port }, 'serving /livez, /healthz and /metrics');
  }

  return {
    port,
    app,
    worker,
    store,
    queue,
    ctx,
    async close() {
      await app?.stop();
      await ops?.close();
      await worker?.close();
      await outboxWorker?.close();
      await effectWorker?.close();
      await outbox.close();
      await effects.close();
      await queue.close();
      await redis.quit().catch(() => undefined);
    },
  };
}
