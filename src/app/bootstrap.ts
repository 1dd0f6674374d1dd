import { KubeConfig } from '@kubernetes/client-node';
import type { App } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Config } from '../config.js';
import { createLogger } from '../logger.js';
import { SlackChat } from '../providers/chat/slack.js';
import { HttpHealth } from '../providers/health/http.js';
import { datadogMetricsFromEnv } from '../providers/metrics/datadog.js';
import type { Providers } from '../providers/providers.js';
import { AlbTraffic } from '../providers/traffic/alb.js';
import { KubernetesWorkload } from '../providers/workload/kubernetes.js';
import { DeploymentQueue } from '../queue/deployment-queue.js';
import { createDeploymentWorker } from '../queue/deployment-worker.js';
import { SlackOutbox } from '../queue/slack-outbox.js';
import type { Catalog } from '../runbook/catalog.js';
import { DeploymentStore } from '../store/deployment-store.js';
import { createBotApp } from './bolt-app.js';
import { boltLogger } from './bolt-logger.js';
import type { AppContext } from './context.js';
import { httpRoutes } from './http-routes.js';
import { startOpsServer, type OpsServer } from './ops-server.js';

export const VERSION = process.env.npm_package_version ?? '0.1.0';

export interface Roles {
  bot: boolean;
  worker: boolean;
}

export interface SwitchyardOptions {
  config: Config;
  catalog: Catalog;
  roles: Roles;
  /** Real adapters built from the environment unless given (tests point them at stand-ins). */
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

/** The real adapters, configured the way each SDK configures itself from the environment. */
export function buildProviders(config: Config, log: Logger): Providers {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  return {
    traffic: new AlbTraffic({}),
    workload: new KubernetesWorkload(kubeConfig),
    health: new HttpHealth(),
    // The outbox retries (after looking for an earlier attempt) and honours Retry-After itself.
    chat: new SlackChat(
      new WebClient(config.SLACK_BOT_TOKEN, {
        ...(config.SLACK_API_URL ? { slackApiUrl: config.SLACK_API_URL } : {}),
        rejectRateLimitedCalls: true,
        retryConfig: { retries: 0 },
        timeout: 15_000,
        logger: boltLogger(log, 'web-api'),
      }),
    ),
    metrics:
      config.DD_API_KEY || config.DD_APP_KEY
        ? datadogMetricsFromEnv({
            apiKey: config.DD_API_KEY,
            appKey: config.DD_APP_KEY,
            site: config.DD_SITE,
            apiUrl: config.DATADOG_API_URL,
          })
        : undefined,
  };
}

/** Starts the bot, the worker, or both, on one Redis. */
export async function startSwitchyard(options: SwitchyardOptions): Promise<RunningSwitchyard> {
  const { config, catalog, roles } = options;
  const log = options.log ?? createLogger(config.LOG_LEVEL);
  const clock = options.clock ?? Date.now;
  // BullMQ needs maxRetriesPerRequest: null so its blocking calls survive a Redis restart.
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  redis.on('error', (error) => log.warn({ err: error }, 'redis connection error'));
  const store = new DeploymentStore(redis, config.SWITCHYARD_PREFIX);
  const queue = new DeploymentQueue(redis, config.SWITCHYARD_PREFIX);
  // Both roles enqueue Slack messages; only the worker role sends them.
  const outbox = new SlackOutbox(redis, redis, config.SWITCHYARD_PREFIX, {
    messagesPerSecond: config.SLACK_CHANNEL_MESSAGES_PER_SECOND,
    announcementEveryMs: config.ANNOUNCEMENT_UPDATE_MS,
  });
  const ctx: AppContext = { catalog, store, queue, outbox, redis, log, clock, version: VERSION };

  let worker: Worker | undefined;
  let outboxWorker: Worker | undefined;
  if (roles.worker) {
    const providers = options.providers ?? buildProviders(config, log);
    outboxWorker = outbox.createWorker(providers.chat, store, log, {
      lockDurationMs: config.WORKER_LOCK_MS,
      stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS,
    });
    worker = createDeploymentWorker(
      { catalog, store, providers, log, clock, outbox },
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
  if (roles.bot) {
    app = createBotApp(config, ctx);
    const server = (await app.start(config.PORT)) as Server | undefined;
    const address = server && typeof server.address === 'function' ? (server.address() as AddressInfo | null) : null;
    port = address?.port ?? config.PORT;
    log.info({ port, socketMode: Boolean(config.SLACK_APP_TOKEN) }, 'bot listening');
  }
  if (worker) log.info({ concurrency: config.WORKER_CONCURRENCY }, 'worker started');
  // A worker on its own still answers probes and scrapes: its step and rollback metrics live here.
  let ops: OpsServer | undefined;
  if (roles.worker && !roles.bot) {
    ops = await startOpsServer(httpRoutes(ctx), config.PORT, log);
    port = ops.port;
    log.info({ port }, 'worker serving /healthz and /metrics');
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
      await outbox.close();
      await queue.close();
      await redis.quit().catch(() => undefined);
    },
  };
}
