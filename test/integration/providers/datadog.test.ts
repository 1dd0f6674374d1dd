import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { datadogMetricsFromEnv, DatadogMetrics } from '../../../src/providers/metrics/datadog.js';
import { runGates } from '../../../src/providers/metrics/gate-runner.js';
import { ConfigInvalid, ProviderFailed } from '../../../src/errors.js';
import { startDatadogStandIn, type DatadogStandIn } from '../../../sandbox/datadog.js';

const API_KEY = 'test-api-key';
const APP_KEY = 'test-app-key';
const P99 = 'p99:trace.http.request.duration{service:acme-api,env:prod}';
const now = Date.UTC(2025, 0, 15, 12, 0, 0);

let dd: DatadogStandIn;
let metrics: DatadogMetrics;

beforeAll(async () => {
  dd = await startDatadogStandIn({ apiKey: API_KEY, appKey: APP_KEY });
  metrics = datadogMetricsFromEnv({
    apiKey: API_KEY,
    appKey: APP_KEY,
    apiUrl: dd.url,
    timeoutMs: 500,
    windowSeconds: 300,
  });
});
afterAll(() => dd.close());
beforeEach(() => {
  dd.clearMetrics();
  dd.faults.clear();
  dd.requests.splice(0);
  dd.monitors.splice(0);
  dd.logs.splice(0);
  dd.slos.splice(0);
});

describe('DatadogMetrics.query', () => {
  it('reads the last point and sends keys and query over the wire', async () => {
    dd.setMetric(P99, 0.42);
    const m = await metrics.query(P99, now);
    expect(m).toMatchObject({ query: P99, value: 0.42 });
    const pointAt = 'at' in m ? m.at : Number.NaN;
    expect(pointAt).toBeGreaterThan(now - 300_000);
    expect(pointAt).toBeLessThanOrEqual(now);

    const req = dd.requests.at(-1);
    expect(req?.path).toBe('/api/v1/query');
    expect(req?.headers['dd-api-key']).toBe(API_KEY);
    expect(req?.headers['dd-application-key']).toBe(APP_KEY);
    expect(req?.query.get('query')).toBe(P99);
    expect(Number(req?.query.get('to'))).toBe(now / 1000);
    expect(Number(req?.query.get('from'))).toBe(now / 1000 - 300);
  });

  it('skips trailing gaps to the last point with a value', async () => {
    dd.setSeries(P99, [0.1, 0.2, 0.35, null]);
    expect(await metrics.query(P99, now)).toMatchObject({ value: 0.35 });
  });

  it('serves values that change between reads, and matches by RegExp', async () => {
    let v = 1;
    dd.setMetric(/trace\.http\.request\.errors/, () => v);
    expect(await metrics.query('sum:trace.http.request.errors{service:acme-api}', now)).toMatchObject({ value: 1 });
    v = 2;
    expect(await metrics.query('sum:trace.http.request.errors{service:acme-api}', now)).toMatchObject({ value: 2 });
  });

  it('no series is a measurement without a value, not an exception', async () => {
    expect(await metrics.query(P99, now)).toEqual({ query: P99, error: 'no data' });
    dd.setMetric(P99, null);
    expect(await metrics.query(P99, now)).toEqual({ query: P99, error: 'no data' });
  });

  it('a 500 that outlasts the retries becomes a measurement with the status', async () => {
    dd.faults.inject({ status: 500, body: 'oops', match: '/api/v1/query', times: Infinity });
    dd.setMetric(P99, 0.42);
    expect(await metrics.query(P99, now)).toEqual({ query: P99, error: '500 Internal Server Error' });
    expect(dd.requests).toHaveLength(3);
  });

  it('a 429 that outlasts the retries keeps Datadog’s own message', async () => {
    dd.faults.inject({
      status: 429,
      body: JSON.stringify({ errors: ['Rate limit of 1600 requests in 3600 seconds reached'] }),
      times: Infinity,
    });
    expect(await metrics.query(P99, now)).toEqual({
      query: P99,
      error: '429 Rate limit of 1600 requests in 3600 seconds reached',
    });
  });

  it('gets through a 503 and a 429 by trying again, reading the same query each time', async () => {
    dd.faults.inject({ status: 503, match: '/api/v1/query' });
    dd.faults.inject({ status: 429, match: '/api/v1/query', headers: { 'x-ratelimit-reset': '0' } });
    dd.setMetric(P99, 0.42);
    expect(await metrics.query(P99, now)).toMatchObject({ query: P99, value: 0.42 });
    expect(dd.requests.map((r) => r.query.get('query'))).toEqual([P99, P99, P99]);
  });

  it('gets through a dropped connection by trying again', async () => {
    dd.faults.inject({ reset: true, match: '/api/v1/query' });
    dd.setMetric(P99, 0.42);
    expect(await metrics.query(P99, now)).toMatchObject({ value: 0.42 });
    expect(dd.requests).toHaveLength(2);
  });

  it('does not wait out a rate limit that resets later than it is willing to wait', async () => {
    const patient = new DatadogMetrics({
      apiKey: API_KEY,
      appKey: APP_KEY,
      apiUrl: dd.url,
      timeoutMs: 500,
      maxRetryDelayMs: 1000,
    });
    dd.faults.inject({
      status: 429,
      headers: { 'x-ratelimit-reset': '60' },
      body: JSON.stringify({ errors: ['Rate limit reached'] }),
    });
    dd.setMetric(P99, 0.42);
    expect(await patient.query(P99, now)).toEqual({ query: P99, error: '429 Rate limit reached' });
    expect(dd.requests).toHaveLength(1);
  });

  it('tries no more often than asked', async () => {
    const once = new DatadogMetrics({ apiKey: API_KEY, appKey: APP_KEY, apiUrl: dd.url, timeoutMs: 500, retries: 0 });
    dd.faults.inject({ status: 502, match: '/api/v1/query' });
    expect(await once.query(P99, now)).toEqual({ query: P99, error: '502 Bad Gateway' });
    expect(dd.requests).toHaveLength(1);
  });

  it('wrong keys are refused with 403 Forbidden', async () => {
    const wrong = new DatadogMetrics({ apiKey: 'nope', appKey: APP_KEY, apiUrl: dd.url, timeoutMs: 500 });
    dd.setMetric(P99, 0.42);
    expect(await wrong.query(P99, now)).toEqual({ query: P99, error: '403 Forbidden' });
  });

  it('a hanging Datadog times out within the configured timeout, without trying again', async () => {
    dd.faults.inject({ status: 0, hang: true });
    const started = Date.now();
    const m = await metrics.query(P99, now);
    expect(m).toEqual({ query: P99, error: 'timeout after 500 ms' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(dd.requests).toHaveLength(1);
  });

  it('an unreachable Datadog is a measurement too', async () => {
    const closed = await startDatadogStandIn();
    await closed.close();
    const gone = new DatadogMetrics({ apiKey: API_KEY, appKey: APP_KEY, apiUrl: closed.url, timeoutMs: 500 });
    expect(await gone.query(P99, now)).toEqual({ query: P99, error: 'unreachable: ECONNREFUSED' });
  });
});

describe('DatadogMetrics.firingMonitors', () => {
  it('returns SEV1/SEV2 monitors in Alert that carry every tag', async () => {
    const sev1 = dd.addMonitor({
      name: 'acme-api 5xx',
      tags: ['service:acme-api', 'team:core'],
      priority: 1,
      state: 'Alert',
    });
    dd.addMonitor({ name: 'acme-api disk', tags: ['service:acme-api'], priority: 3, state: 'Alert' });
    dd.addMonitor({ name: 'acme-api latency', tags: ['service:acme-api'], priority: 2, state: 'OK' });
    dd.addMonitor({ name: 'acme-api warn', tags: ['service:acme-api'], priority: 1, state: 'Warn' });
    dd.addMonitor({ name: 'other 5xx', tags: ['service:other'], priority: 1, state: 'Alert' });
    dd.addMonitor({ name: 'no priority', tags: ['service:acme-api'], state: 'Alert' });

    expect(await metrics.firingMonitors(['service:acme-api'], [1, 2])).toEqual([
      { id: sev1, name: 'acme-api 5xx', priority: 1, state: 'Alert' },
    ]);
    const req = dd.requests.at(-1);
    expect(req?.path).toBe('/api/v1/monitor');
    expect(req?.query.get('monitor_tags')).toBe('service:acme-api');
    expect(req?.headers['dd-api-key']).toBe(API_KEY);
  });

  it('follows a monitor’s state', async () => {
    const id = dd.addMonitor({ name: 'acme-api 5xx', tags: ['service:acme-api'], priority: 2, state: 'OK' });
    expect(await metrics.firingMonitors(['service:acme-api'], [1, 2])).toEqual([]);
    dd.setMonitorState(id, 'Alert');
    expect(await metrics.firingMonitors(['service:acme-api'], [1, 2])).toHaveLength(1);
  });

  it('throws ProviderFailed when monitors cannot be read', async () => {
    dd.faults.inject({ status: 503, match: '/api/v1/monitor', times: Infinity });
    await expect(metrics.firingMonitors(['service:acme-api'], [1])).rejects.toBeInstanceOf(ProviderFailed);
  });
});

describe('DatadogMetrics.countLogs', () => {
  const query = 'service:acme-api status:error version:v1.5.0';

  it('counts the matching logs of the window through the v2 logs aggregate API', async () => {
    dd.addLogs({ service: 'acme-api', status: 'error', version: 'v1.5.0' }, { count: 7, timestamp: now - 60_000 });
    // Outside the window, another version, another status: not counted.
    dd.addLogs({ service: 'acme-api', status: 'error', version: 'v1.5.0' }, { count: 3, timestamp: now - 180_000 });
    dd.addLogs({ service: 'acme-api', status: 'error', version: 'v1.4.1' }, { count: 2, timestamp: now - 10_000 });
    dd.addLogs({ service: 'acme-api', status: 'info', version: 'v1.5.0' }, { count: 4, timestamp: now - 10_000 });
    expect(await metrics.countLogs(query, 120, now)).toEqual({ query, value: 7, at: now });

    const request = dd.requests.find((r) => r.path === '/api/v2/logs/analytics/aggregate');
    expect(request?.method).toBe('POST');
    expect(request?.headers['dd-api-key']).toBe(API_KEY);
    expect(JSON.parse(request?.body ?? '{}')).toEqual({
      compute: [{ aggregation: 'count', type: 'total' }],
      filter: { query, from: String(now - 120_000), to: String(now) },
    });
  });

  it('no matching log is a count of 0; a failing API is an inconclusive measurement', async () => {
    expect(await metrics.countLogs(query, 120, now)).toMatchObject({ value: 0 });
    dd.faults.inject({ status: 500, match: '/api/v2/logs/analytics/aggregate', times: Infinity });
    expect(await metrics.countLogs(query, 120, now)).toEqual({ query, error: '500 Internal Server Error' });
  });
});

describe('DatadogMetrics.sloBudgetRemaining', () => {
  it('reads the SLO for its first timeframe, then the budget over that timeframe up to now', async () => {
    const id = dd.addSlo({ name: 'checkout', timeframe: '30d', target: 99.9, budgetRemaining: 42.5 });
    expect(await metrics.sloBudgetRemaining(id, now)).toEqual({
      query: `SLO checkout (${id}) over 30d`,
      value: 42.5,
      at: now,
    });
    const history = dd.requests.find((r) => r.path === `/api/v1/slo/${id}/history`);
    const to = Math.floor(now / 1000);
    expect(history?.query.get('to_ts')).toBe(String(to));
    expect(history?.query.get('from_ts')).toBe(String(to - 30 * 86_400));
    expect(dd.requests.map((r) => r.path)).toEqual([`/api/v1/slo/${id}`, `/api/v1/slo/${id}/history`]);
  });

  it('an unknown SLO, a history without a budget and an outage are inconclusive, saying why', async () => {
    expect(await metrics.sloBudgetRemaining('nope', now)).toEqual({ query: 'SLO nope', error: '404 SLO not found' });
    const id = dd.addSlo({ name: 'checkout', timeframe: '7d', target: 99, budgetRemaining: null });
    expect(await metrics.sloBudgetRemaining(id, now)).toMatchObject({
      error: 'history error: no data for the SLO in this window',
    });
    dd.faults.inject({ status: 503, match: '/api/v1/slo', times: Infinity });
    expect(await metrics.sloBudgetRemaining(id, now)).toMatchObject({ error: '503 Service Unavailable' });
  });
});

describe('runGates against the stand-in', () => {
  const query = 'p95:trace.http.request.duration{service:acme-api,color:{color}}';
  const gates = {
    metrics: [
      { name: 'p99 latency', query: P99, max: 0.8 },
      { name: 'p95 vs baseline', query, maxOverBaseline: { ratio: 1.1 } },
    ],
    monitors: { tags: ['service:acme-api'], priorities: [1, 2] },
  };
  const green = query.replace('{color}', 'green');
  const blue = query.replace('{color}', 'blue');

  it('passes when both colours are alike', async () => {
    dd.setMetric(P99, 0.5);
    dd.setMetric(green, 0.4);
    dd.setMetric(blue, 0.4);
    const run = await runGates(metrics, gates, 'green', 'blue', now);
    expect(run.outcome).toBe('pass');
    expect(run.readings[1]).toMatchObject({
      query: green,
      baselineQuery: blue,
      value: 0.4,
      baseline: 0.4,
      outcome: 'pass',
    });
  });

  it('breaches when only the new colour is slow, with both values in the reading', async () => {
    dd.setMetric(P99, 0.5);
    dd.setMetric(green, 0.9);
    dd.setMetric(blue, 0.4);
    const run = await runGates(metrics, gates, 'green', 'blue', now);
    expect(run.outcome).toBe('breach');
    expect(run.readings[1]).toMatchObject({ value: 0.9, baseline: 0.4, outcome: 'breach' });
    expect(run.at).toBe(now);
  });

  it('a firing monitor breaches; unreadable monitors make it inconclusive', async () => {
    dd.setMetric(P99, 0.5);
    dd.setMetric(/color:(green|blue)/, 0.4);
    dd.addMonitor({ name: 'acme-api 5xx', tags: ['service:acme-api'], priority: 1, state: 'Alert' });
    expect((await runGates(metrics, gates, 'green', 'blue', now)).outcome).toBe('breach');
    dd.monitors.splice(0);
    dd.faults.inject({ status: 500, match: '/api/v1/monitor', times: Infinity });
    const run = await runGates(metrics, gates, 'green', 'blue', now);
    expect(run).toMatchObject({ outcome: 'inconclusive', monitorError: 'Datadog monitors: 500 Internal Server Error' });
  });

  it('log and SLO gates read with {version} and {color} put in, and breach like a metric', async () => {
    dd.setMetric(/./, 0.4);
    dd.addLogs(
      { service: 'acme-api', status: 'error', version: 'v1.5.0', color: 'green' },
      { count: 7, timestamp: now },
    );
    const id = dd.addSlo({ name: 'checkout', timeframe: '7d', target: 99.9, budgetRemaining: 80 });
    const run = await runGates(
      metrics,
      {
        metrics: [],
        logs: [
          {
            name: 'new errors',
            query: 'service:acme-api status:error version:{version} color:{color}',
            max: 0,
            windowSeconds: 120,
          },
        ],
        slos: [{ name: 'checkout SLO', id, minBudgetRemaining: 95 }],
      },
      'green',
      'blue',
      now,
      'v1.5.0',
    );
    expect(run.outcome).toBe('breach');
    expect(run.readings).toMatchObject([
      {
        name: 'new errors',
        query: 'service:acme-api status:error version:v1.5.0 color:green',
        value: 7,
        outcome: 'breach',
      },
      { name: 'checkout SLO', query: `SLO checkout (${id}) over 7d`, value: 80, outcome: 'breach' },
    ]);
  });

  it('a relative gate without a live colour is inconclusive', async () => {
    dd.setMetric(/./, 0.4);
    const run = await runGates(metrics, { metrics: gates.metrics }, 'green', undefined, now);
    expect(run.outcome).toBe('inconclusive');
    expect(run.readings[1]?.error).toBe('baseline: no colour to put in {color}');
  });
});

describe('datadogMetricsFromEnv', () => {
  it('names the missing or malformed variable', () => {
    expect(() => datadogMetricsFromEnv({ appKey: 'x' })).toThrow(
      new ConfigInvalid('DD_API_KEY is required for Datadog gates'),
    );
    expect(() => datadogMetricsFromEnv({ apiKey: 'x' })).toThrow(/DD_APP_KEY/);
    expect(() => datadogMetricsFromEnv({ apiKey: 'x', appKey: 'y', apiUrl: '127.0.0.1:8126' })).toThrow(
      /DATADOG_API_URL/,
    );
  });
});
