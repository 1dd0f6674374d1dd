import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../../src/app/context.js';
import { httpRoutes } from '../../../src/app/http-routes.js';
import { startOpsServer } from '../../../src/app/ops-server.js';
import { SANDBOX_SIGNING_SECRET } from '../../../sandbox/sandbox.js';
import { urlVerification } from '../../../sandbox/slack-requests.js';
import type { SlackOutbox } from '../../../src/queue/slack-outbox.js';
import type { DeploymentQueue } from '../../../src/queue/deployment-queue.js';
import type { DeploymentStore } from '../../../src/store/deployment-store.js';
import { REDIS_URL, startHarness, until, type Harness } from '../../support/harness.js';
import { finishedDeployment, requestAndDecide } from '../../support/operator.js';
import { specCatalog } from '../../unit/fixtures.js';

const P99 = 'p99:trace.http.request.duration{service:acme-api,env:prod}';
const BOARD = { user: 'ops', password: 'correct horse battery' };

/** Prometheus text as `name{label="v",…}` (labels sorted) → value. */
function parseMetrics(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    const labels = [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => `${k}="${v}"`).sort();
    series.set(`${m[1]}{${labels.join(',')}}`, Number(m[3]));
  }
  return series;
}

const scrape = async (url: string): Promise<Map<string, number>> => {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return parseMetrics(await response.text());
};

const value = (m: Map<string, number>, series: string): number => m.get(series) ?? 0;
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('the bot’s /metrics, /healthz and queue dashboard', () => {
  let h: Harness;
  beforeAll(async () => {
    const gates = {
      intervalSeconds: 1,
      failureLimit: 0,
      inconclusiveLimit: 3,
      metrics: [{ name: 'p99', query: P99, max: 0.8 }],
    };
    h = await startHarness({
      bakeSeconds: 1,
      service: { gates },
      env: { BULL_BOARD_USER: BOARD.user, BULL_BOARD_PASSWORD: BOARD.password },
    });
  });
  afterAll(async () => h?.close());

  it('counts a deployment by outcome, its step durations, a rollback and a Slack API error', async () => {
    const before = await scrape(h.appUrl);

    await requestAndDecide(h, 'acme-api v1.5.0');
    await until(
      async () => (await h.app.store.recent(1))[0]?.phase === 'running' || undefined,
      5000,
      'v1.5.0 approved',
    );
    // The worker alone talks to Slack now: the next thread post is throttled once.
    h.sandbox.slack.rateLimit('chat.postMessage', 1, 1);
    expect((await finishedDeployment(h, 'v1.5.0')).phase).toBe('succeeded');

    h.sandbox.datadog.setMetric(/p99/, 1.5);
    await requestAndDecide(h, 'acme-api v1.6.0');
    expect((await finishedDeployment(h, 'v1.6.0')).phase).toBe('rolled-back');

    const after = await scrape(h.appUrl);
    // Read from this test's records in Redis: exact.
    expect(value(after, 'switchyard_deployments{outcome="succeeded"}')).toBe(1);
    expect(value(after, 'switchyard_deployments{outcome="rolled-back"}')).toBe(1);
    // Counted by this process's worker: what this test added.
    const added = (series: string) => value(after, series) - value(before, series);
    expect(added('switchyard_deployments_finished_total{outcome="succeeded",service="acme-api"}')).toBe(1);
    expect(added('switchyard_deployments_finished_total{outcome="rolled-back",service="acme-api"}')).toBe(1);
    expect(added('switchyard_step_duration_seconds_count{outcome="ok",step="setWeight"}')).toBe(4);
    expect(added('switchyard_step_duration_seconds_count{outcome="ok",step="bake"}')).toBe(2);
    expect(added('switchyard_step_duration_seconds_count{outcome="failed",step="bake"}')).toBe(1);
    expect(added('switchyard_rollback_seconds_count{service="acme-api"}')).toBe(1);
    expect(
      added('switchyard_slack_api_errors_total{error="ratelimited",method="chat.postMessage"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(after.has('switchyard_queue_jobs{state="delayed"}')).toBe(true);
    expect(after.has('switchyard_process_resident_memory_bytes{}')).toBe(true);
  });

  it('/healthz reports Redis, the queue with its workers, and this process’s worker', async () => {
    const response = await fetch(`${h.appUrl}/healthz`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      status: string;
      version: string;
      redis: string;
      queue: Record<string, unknown>;
      worker: string;
    };
    expect(body).toMatchObject({
      status: 'ok',
      redis: 'ok',
      worker: 'running',
      queue: { name: h.app.queue.queue.name },
    });
    expect(body.queue.workers).toBeGreaterThanOrEqual(1);
    expect(typeof body.version).toBe('string');
  });

  it('the Events API Request URL answers Slack’s url_verification challenge, signed', async () => {
    const answer = await urlVerification(
      h.appUrl,
      SANDBOX_SIGNING_SECRET,
      'challenge-3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('challenge-3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P');
    expect((await urlVerification(h.appUrl, 'not-the-secret', 'x')).status).toBe(401);
  });

  it('the queue dashboard asks for the credential and answers 401 to a wrong one', async () => {
    const none = await fetch(`${h.appUrl}/admin/queues`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm="Switchyard queues"/);
    const wrong = await fetch(`${h.appUrl}/admin/queues`, {
      headers: { authorization: basic(BOARD.user, 'correct horse batterz') },
    });
    expect(wrong.status).toBe(401);
    const wrongUser = await fetch(`${h.appUrl}/admin/queues/api/queues`, {
      headers: { authorization: basic('admin', BOARD.password) },
    });
    expect(wrongUser.status).toBe(401);
  });

  it('with the credential: the dashboard page and its API over the deployment queue, the Slack outbox and the effect outbox, read-only', async () => {
    const auth = { authorization: basic(BOARD.user, BOARD.password) };
    const page = await fetch(`${h.appUrl}/admin/queues`, { headers: auth });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('<base href="/admin/queues/" />');
    expect(html).toContain('<title>Switchyard queues</title>');
    // The page's own assets come through the same mount and the same credential.
    const css = /href="(static\/css\/[^"]+\.css)"/.exec(html)?.[1];
    const asset = await fetch(`${h.appUrl}/admin/queues/${css}`, { headers: auth });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('text/css');
    expect((await fetch(`${h.appUrl}/admin/queues/${css}`)).status).toBe(401);
    const api = await fetch(`${h.appUrl}/admin/queues/api/queues`, { headers: auth });
    expect(api.status).toBe(200);
    const { queues } = (await api.json()) as {
      queues: { name: string; readOnlyMode: boolean; counts: Record<string, number> }[];
    };
    expect(queues.map((q) => q.name)).toEqual([h.app.queue.queue.name, `${h.prefix}-slack`, `${h.prefix}-effects`]);
    expect(queues.every((q) => q.readOnlyMode)).toBe(true);
  });
});

describe('the queue dashboard is off by default', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('answers 404 without BULL_BOARD_USER / BULL_BOARD_PASSWORD', async () => {
    h = await startHarness();
    const response = await fetch(`${h.appUrl}/admin/queues`, {
      headers: { authorization: basic(BOARD.user, BOARD.password) },
    });
    expect(response.status).toBe(404);
  });
});

describe('a worker-only process', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('serves /healthz and /metrics on PORT and nothing else', async () => {
    h = await startHarness({ roles: { bot: false, worker: true } });
    const health = await fetch(`${h.appUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', redis: 'ok', worker: 'running' });
    expect((await scrape(h.appUrl)).has('switchyard_process_resident_memory_bytes{}')).toBe(true);
    expect((await fetch(`${h.appUrl}/slack/events`, { method: 'POST' })).status).toBe(404);
  });
});

describe('probes without Redis', () => {
  it('/healthz (readiness) answers 503 with the reason; /livez (liveness) still answers 200', async () => {
    const redis = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    redis.on('error', () => undefined);
    // Neither the store nor the queue is reached once Redis does not answer.
    const ctx: AppContext = {
      catalog: specCatalog(),
      store: {} as DeploymentStore,
      queue: {} as DeploymentQueue,
      outbox: {} as SlackOutbox,
      redis,
      log: pino({ level: 'silent' }),
      clock: Date.now,
      version: 'test',
    };
    const server = await startOpsServer(httpRoutes(ctx), 0, ctx.log);
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      expect(response.status).toBe(503);
      const body = (await response.json()) as { status: string; redis: string };
      expect(body.status).toBe('unavailable');
      expect(body.redis).not.toBe('ok');
      // A Redis outage must not restart every pod: liveness does not ask Redis.
      const live = await fetch(`http://127.0.0.1:${server.port}/livez`);
      expect(live.status).toBe(200);
      expect(await live.json()).toEqual({ status: 'alive', version: 'test' });
    } finally {
      await server.close();
      redis.disconnect();
    }
  });
});

describe('readiness in Socket Mode', () => {
  it('follows the connection to Slack: not ready while it is down, alive all the same', async () => {
    const redis = new Redis(REDIS_URL);
    let connection = { connected: true, state: 'connected' };
    const ctx: AppContext = {
      catalog: specCatalog(),
      store: {} as DeploymentStore,
      queue: { queue: { getJobCounts: async () => ({}), getWorkersCount: async () => 0, name: 'q' } } as never,
      outbox: {} as SlackOutbox,
      redis,
      log: pino({ level: 'silent' }),
      clock: Date.now,
      version: 'test',
      slackConnection: () => connection,
    };
    const server = await startOpsServer(httpRoutes(ctx), 0, ctx.log);
    const get = async (path: string) => {
      const response = await fetch(`http://127.0.0.1:${server.port}${path}`);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    try {
      expect(await get('/healthz')).toMatchObject({ status: 200, body: { status: 'ok', slack: 'connected' } });
      connection = { connected: false, state: 'reconnecting' };
      expect(await get('/healthz')).toMatchObject({
        status: 503,
        body: { status: 'unavailable', slack: 'reconnecting' },
      });
      expect((await get('/livez')).status).toBe(200);
    } finally {
      await server.close();
      redis.disconnect();
    }
  });
});
