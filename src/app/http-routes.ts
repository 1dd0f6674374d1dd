import type { CustomRoute } from '@slack/bolt';
import { Queue } from 'bullmq';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Gauge, Registry } from 'prom-client';
import type { Config } from '../config.js';
import { withDeadline } from '../deadline.js';
import type { Phase } from '../domain/deployment.js';
import { EffectOutbox } from '../queue/effect-outbox.js';
import { SlackOutbox } from '../queue/slack-outbox.js';
import { bullBoardRoutes } from './bull-board.js';
import type { AppContext } from './context.js';
import { collectProcessDefaults, processRegistry } from '../metrics.js';

/** How many recent records /metrics counts by outcome; enough for any dashboard window. */
const METRICS_WINDOW = 1000;
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;

export interface HttpRouteOptions {
  /** Serve the queue dashboard (bot only, and only with both credentials set). */
  bullBoard?: Pick<Config, 'BULL_BOARD_USER' | 'BULL_BOARD_PASSWORD'>;
}

interface Health {
  status: 'ok' | 'unavailable';
  version: string;
  redis: string;
  queue?: { name: string; workers: number | null } & Partial<Record<(typeof QUEUE_STATES)[number], number>>;
  queueError?: string;
  /** This process's own worker, when it runs one. */
  worker?: 'running' | 'stopped';
  /** Socket Mode only: the bot's connection to Slack. */
  slack?: string;
}

interface Liveness {
  status: 'alive' | 'stopped';
  version: string;
  worker?: 'running' | 'stopped';
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * A probe must answer while Redis is away: the shared connection queues commands until it
 * reconnects (BullMQ needs that), so the ping gets a deadline of its own.
 */
const HEALTH_DEADLINE_MS = 1000;

/** Redis, the deployment queue and (in a worker process) the worker: 200 when all answer, 503 otherwise. */
export async function health(ctx: AppContext): Promise<Health> {
  let redis = 'ok';
  try {
    await withDeadline(
      ctx.redis.ping(),
      HEALTH_DEADLINE_MS,
      () => new Error(`Redis did not answer PING within ${HEALTH_DEADLINE_MS} ms`),
    );
  } catch (error) {
    redis = errorText(error);
  }
  const result: Health = { status: 'ok', version: ctx.version, redis };
  if (redis === 'ok') {
    try {
      // Workers are counted with CLIENT LIST, which some managed Redis services refuse: unknown, not unhealthy.
      const [counts, workers] = await Promise.all([
        ctx.queue.queue.getJobCounts(...QUEUE_STATES),
        ctx.queue.queue.getWorkersCount().catch(() => null),
      ]);
      result.queue = { name: ctx.queue.queue.name, workers, ...counts };
    } catch (error) {
      result.queueError = errorText(error);
    }
  }
  if (ctx.worker) result.worker = ctx.worker.isRunning() ? 'running' : 'stopped';
  const connection = ctx.slackConnection?.();
  if (connection) result.slack = connection.state;
  const healthy =
    redis === 'ok' && result.queueError === undefined && result.worker !== 'stopped' && connection?.connected !== false;
  return { ...result, status: healthy ? 'ok' : 'unavailable' };
}

/**
 * Whether this process can still do its work if its dependencies come back: it answers, and its
 * worker (if any) has not stopped. Redis is deliberately not asked: a Redis outage would
 * otherwise restart every pod at once, which heals nothing (readiness, /healthz, covers it).
 */
export function liveness(ctx: AppContext): Liveness {
  const result: Liveness = { status: 'alive', version: ctx.version };
  if (ctx.worker) result.worker = ctx.worker.isRunning() ? 'running' : 'stopped';
  return result.worker === 'stopped' ? { ...result, status: 'stopped' } : result;
}

/** Counts read from Redis at scrape time, so they are the same whichever process answers. */
function redisRegistry(ctx: AppContext): Registry {
  const registry = new Registry();
  new Gauge({
    name: 'switchyard_deployments',
    help: 'Deployments among the most recent records, by outcome (phase)',
    labelNames: ['outcome'],
    registers: [registry],
    async collect() {
      const counts = new Map<Phase, number>();
      for (const d of await ctx.store.recent(METRICS_WINDOW)) counts.set(d.phase, (counts.get(d.phase) ?? 0) + 1);
      this.reset();
      for (const [outcome, count] of counts) this.set({ outcome }, count);
    },
  });
  new Gauge({
    name: 'switchyard_queue_jobs',
    help: 'Deployment jobs in the queue, by state (the queue depth)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await ctx.queue.queue.getJobCounts(...QUEUE_STATES);
      for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
    },
  });
  return registry;
}

/**
 * GET /livez (liveness), GET /healthz (readiness) and GET /metrics (and, when configured, the queue dashboard), served by the bot
 * next to POST /slack/events, and by a worker-only process on its own small server.
 */
export function httpRoutes(ctx: AppContext, options: HttpRouteOptions = {}): CustomRoute[] {
  collectProcessDefaults();
  const fromRedis = redisRegistry(ctx);
  const routes: CustomRoute[] = [
    {
      path: '/livez',
      method: ['GET'],
      handler: (_req: IncomingMessage, res: ServerResponse) => {
        const body = liveness(ctx);
        res.writeHead(body.status === 'alive' ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      },
    },
    {
      path: '/healthz',
      method: ['GET'],
      handler: async (_req: IncomingMessage, res: ServerResponse) => {
        const body = await health(ctx);
        res.writeHead(body.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      },
    },
    {
      path: '/metrics',
      method: ['GET'],
      handler: async (_req: IncomingMessage, res: ServerResponse) => {
        try {
          const body = (await Promise.all([fromRedis.metrics(), processRegistry.metrics()])).join('\n');
          res.writeHead(200, { 'content-type': processRegistry.contentType });
          res.end(body);
        } catch (error) {
          res.writeHead(503, { 'content-type': 'text/plain' });
          res.end(`metrics unavailable: ${errorText(error)}`);
        }
      },
    },
  ];
  const { BULL_BOARD_USER: user, BULL_BOARD_PASSWORD: password } = options.bullBoard ?? {};
  if (user && password) {
    const sideQueues = [SlackOutbox.nameFor(ctx.queue.prefix), EffectOutbox.nameFor(ctx.queue.prefix)].map(
      (name) => new Queue(name, { connection: ctx.redis, prefix: ctx.queue.prefix }),
    );
    routes.push(...bullBoardRoutes([ctx.queue.queue, ...sideQueues], { user, password }));
  }
  return routes;
}
