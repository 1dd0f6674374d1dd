import type { CustomRoute } from '@slack/bolt';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Phase } from '../domain/deployment.js';
import type { AppContext } from './context.js';

/** How many recent records /metrics counts by outcome; enough for any dashboard window. */
const METRICS_WINDOW = 1000;

/**
 * GET /healthz and GET /metrics, served by the bot next to POST /slack/events. Counts come
 * from Redis at scrape time, so they are the same whichever bot process answers.
 */
export function httpRoutes(ctx: AppContext): CustomRoute[] {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'switchyard_' });
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
    help: 'Deployment jobs in the queue, by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await ctx.queue.queue.getJobCounts('active', 'delayed', 'waiting', 'failed');
      for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
    },
  });

  return [
    {
      path: '/healthz',
      method: ['GET'],
      handler: async (_req, res) => {
        let redis = 'ok';
        try {
          await ctx.redis.ping();
        } catch (error) {
          redis = (error as Error).message;
        }
        const healthy = redis === 'ok';
        res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: healthy ? 'ok' : 'unavailable', version: ctx.version, redis }));
      },
    },
    {
      path: '/metrics',
      method: ['GET'],
      handler: async (_req, res) => {
        try {
          const body = await registry.metrics();
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(body);
        } catch (error) {
          res.writeHead(503, { 'content-type': 'text/plain' });
          res.end(`metrics unavailable: ${(error as Error).message}`);
        }
      },
    },
  ];
}
