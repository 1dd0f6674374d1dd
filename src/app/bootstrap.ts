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
import { DeploymentQueue } from '../queue/deployment-queue.js';
import { EffectOutbox, type EffectHandlers } from '../queue/effect-outbox.js';
import { SlackOutbox } from '../queue/slack-outbox.js';
import type { Catalog } from '../runbook/catalog.js';
import { DeploymentStore } from '../store/deployment-store.js';
import { createBotApp } from './bolt-app.js';
import type { AppContext } from './context.js';
import { httpRoutes } from './http-routes.js';
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

/** Starts the bot, the worker, or both, on one Redis. */
export async function startSwitchyard(options: SwitchyardOptions): Promise<RunningSwitchyard> {
  const { config, catalog, roles } = options;
  const log = options.log ?? createLogger(config.LOG_LEVEL);
  const clock = options.clock ?? Date.now;
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
  const ctx: AppContext = { catalog, store, queue, outbox, redis, log, clock, version: VERSION };

  let worker: Worker | undefined;
  let outboxWorker: Worker | undefined;
  let effectWorker: Worker | undefined;
  if (roles.worker) {
    // Loaded here, not at the top: a bot-only process never loads the SDKs behind the adapters.
    const [providers, { createDeploymentWorker }] = await Promise.all([
      options.providers ?? import('./build-providers.js').then(({ buildProviders }) => buildProviders(config, log)),
      import('../queue/deployment-worker.js'),
    ]);
    outboxWorker = outbox.createWorker(providers.chat, store, log, {
      lockDurationMs: config.WORKER_LOCK_MS,
      stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS,
    });
    // Each integration the providers were built with adds the handlers of its effects.
    const effectHandlers: EffectHandlers = {};
    effectWorker = effects.createWorker(effectHandlers, log, {
      lockDurationMs: config.WORKER_LOCK_MS,
      stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS,
    });
    worker = createDeploymentWorker(
      { catalog, store, providers, log, clock, outbox, effects },
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
      await effectWorker?.close();
      await outbox.close();
      await effects.close();
      await queue.close();
      await redis.quit().catch(() => undefined);
    },
  };
}
