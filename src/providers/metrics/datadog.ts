import { STATUS_CODES } from 'node:http';
// The v1 API and the common runtime only: the package root loads every v2 model too, which
// costs a worker about two seconds of start-up (and a resumed deployment waits for it).
import * as client from '@datadog/datadog-api-client/dist/packages/datadog-api-client-common/index.js';
import * as v1 from '@datadog/datadog-api-client/dist/packages/datadog-api-client-v1/index.js';
// Types only: the v2 logs API is loaded on first use (see DatadogMetrics.logs).
import type { LogsApi } from '@datadog/datadog-api-client/dist/packages/datadog-api-client-v2/apis/LogsApi.js';
import { ConfigInvalid, ProviderFailed } from '../../errors.js';
import type { FiringMonitor, Measurement } from '../../domain/gates.js';
import { backoffMs, sleep } from '../backoff.js';
import type { MetricsProvider } from './metrics.js';

export interface DatadogMetricsOptions {
  apiKey: string;
  appKey: string;
  /** Datadog site such as `datadoghq.eu`; the client's default (datadoghq.com) otherwise. */
  site?: string;
  /** Server root such as `http://127.0.0.1:8126`; wins over `site`. The client appends `/api/v1/…`. */
  apiUrl?: string;
  /** Per request, including reading the body. */
  timeoutMs?: number;
  /** How far back from `now` a query looks for its last point. */
  windowSeconds?: number;
  /** Further tries of a request Datadog answered with 429 or 5xx, or whose connection failed. Default 2. */
  retries?: number;
  /** First backoff; it doubles, with jitter, on each further try. Default 200 ms. */
  retryBaseMs?: number;
  /** Longest wait before a retry; a rate limit that resets later is reported instead of waited out. Default 2 s. */
  maxRetryDelayMs?: number;
  random?: () => number;
}

export const DEFAULT_DATADOG_TIMEOUT_MS = 10_000;
export const DEFAULT_DATADOG_WINDOW_SECONDS = 300;

interface RetryPolicy {
  timeoutMs: number;
  retries: number;
  baseMs: number;
  maxDelayMs: number;
  random: () => number;
}

/** Datadog's rate limit (429) and its server-side trouble: the same read may well pass a moment later. */
const worthRetrying = (status: number): boolean => status === 429 || status >= 500;

/** Seconds until Datadog's rate-limit window resets, as its `X-RateLimit-Reset` header says. */
const rateLimitResetMs = (response: Response): number | undefined => {
  const seconds = Number(response.headers.get('x-ratelimit-reset') ?? Number.NaN);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
};

/**
 * `fetch` with a deadline per attempt and a few quick retries of what is safe to retry (every
 * call here is a read). A timeout is not retried: its deadline already spent the time a gate
 * run has, and the next interval tries again anyway.
 */
async function fetchWithRetries(url: string, init: RequestInit, policy: RetryPolicy): Promise<Response> {
  const backoff = (attempt: number) => backoffMs(attempt, policy.baseMs, policy.random, policy.maxDelayMs);
  for (let attempt = 0; ; attempt += 1) {
    const deadline = AbortSignal.timeout(policy.timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal });
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      if (attempt >= policy.retries || timedOut || init.signal?.aborted) throw error;
      await sleep(backoff(attempt));
      continue;
    }
    if (!worthRetrying(response.status) || attempt >= policy.retries) return response;
    const wait = response.status === 429 ? (rateLimitResetMs(response) ?? backoff(attempt)) : backoff(attempt);
    if (wait > policy.maxDelayMs) return response;
    await response.body?.cancel();
    await sleep(wait);
  }
}

/**
 * Datadog metrics, monitors, logs and SLOs through the official client (v1 query, monitor and
 * SLO APIs; v2 logs aggregate API).
 */
export class DatadogMetrics implements MetricsProvider {
  private readonly configuration: client.Configuration;
  private readonly metricsApi: v1.MetricsApi;
  private readonly monitorsApi: v1.MonitorsApi;
  private readonly slosApi: v1.ServiceLevelObjectivesApi;
  private logsApi?: Promise<LogsApi>;
  private readonly timeoutMs: number;
  private readonly windowSeconds: number;

  constructor(options: DatadogMetricsOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_DATADOG_TIMEOUT_MS;
    this.windowSeconds = options.windowSeconds ?? DEFAULT_DATADOG_WINDOW_SECONDS;
    const policy: RetryPolicy = {
      timeoutMs: this.timeoutMs,
      retries: options.retries ?? 2,
      baseMs: options.retryBaseMs ?? 200,
      maxDelayMs: options.maxRetryDelayMs ?? 2000,
      random: options.random ?? Math.random,
    };
    const configuration = client.createConfiguration({
      authMethods: { apiKeyAuth: options.apiKey, appKeyAuth: options.appKey },
      baseServer: options.apiUrl
        ? new client.BaseServerConfiguration(options.apiUrl.replace(/\/+$/, ''), {})
        : undefined,
      // httpConfig.signal would be one signal shared by every request; a fetch of our own gives
      // each request its own deadline, so a hanging Datadog cannot stall a gate run.
      fetch: (url: string, init: RequestInit = {}) => fetchWithRetries(url, init, policy),
      // The client's own retries wait at least 2 s, without jitter, and never after a network error.
      enableRetry: false,
    });
    if (options.site && !options.apiUrl) configuration.setServerVariables({ site: options.site });
    this.configuration = configuration;
    this.metricsApi = new v1.MetricsApi(configuration);
    this.monitorsApi = new v1.MonitorsApi(configuration);
    this.slosApi = new v1.ServiceLevelObjectivesApi(configuration);
  }

  /** Loaded on the first log gate: the v2 models cost seconds of start-up that most workers never need. */
  private logs(): Promise<LogsApi> {
    this.logsApi ??= import('@datadog/datadog-api-client/dist/packages/datadog-api-client-v2/apis/LogsApi.js').then(
      (module) => new module.LogsApi(this.configuration),
    );
    return this.logsApi;
  }

  async countLogs(query: string, windowSeconds: number, now: number): Promise<Measurement> {
    try {
      const logs = await this.logs();
      const response = await logs.aggregateLogs({
        body: {
          compute: [{ aggregation: 'count', type: 'total' }],
          filter: { query, from: String(now - windowSeconds * 1000), to: String(now) },
        },
      });
      // A search that ran out of time counts only part of the window: no evidence either way.
      if (response.meta?.status === 'timeout') return { query, error: 'Datadog timed out counting the logs' };
      const buckets = response.data?.buckets ?? [];
      // Without a group-by there is one bucket; none means no log matched.
      const count = buckets.length === 0 ? 0 : buckets[0]?.computes?.c0;
      if (typeof count !== 'number') return { query, error: 'no count in the response' };
      return { query, value: count, at: now };
    } catch (error) {
      return { query, error: describeFailure(error, this.timeoutMs) };
    }
  }

  async sloBudgetRemaining(id: string, now: number): Promise<Measurement> {
    let query = `SLO ${id}`;
    try {
      const slo = await this.slosApi.getSLO({ sloId: id });
      const timeframe = slo.data?.thresholds?.[0]?.timeframe;
      if (typeof timeframe !== 'string') return { query, error: 'the SLO has no threshold' };
      const seconds = TIMEFRAME_SECONDS[timeframe];
      if (seconds === undefined) return { query, error: `timeframe ${timeframe} is not a rolling window` };
      query = `SLO ${slo.data?.name ?? id} (${id}) over ${timeframe}`;
      const toTs = Math.floor(now / 1000);
      const history = await this.slosApi.getSLOHistory({ sloId: id, fromTs: toTs - seconds, toTs });
      const remaining = history.data?.overall?.errorBudgetRemaining?.[timeframe];
      if (typeof remaining !== 'number') {
        const why = history.errors?.map((e) => e.error).join('; ');
        return { query, error: why ? `history error: ${why}` : 'no error budget in the history' };
      }
      return { query, value: remaining, at: now };
    } catch (error) {
      return { query, error: describeFailure(error, this.timeoutMs) };
    }
  }

  async query(query: string, now: number): Promise<Measurement> {
    const to = Math.floor(now / 1000);
    const from = to - this.windowSeconds;
    try {
      const response = await this.metricsApi.queryMetrics({ from, to, query });
      // Datadog answers a query it cannot run with 200 and status "error".
      if (response.status === 'error') return { query, error: `query error: ${response.error ?? 'unknown'}` };
      const point = lastPoint(response.series?.[0]?.pointlist);
      return point ? { query, value: point.value, at: point.at } : { query, error: 'no data' };
    } catch (error) {
      return { query, error: describeFailure(error, this.timeoutMs) };
    }
  }

  async firingMonitors(tags: string[], priorities: number[]): Promise<FiringMonitor[]> {
    let monitors: v1.Monitor[];
    try {
      monitors = await this.monitorsApi.listMonitors(tags.length > 0 ? { monitorTags: tags.join(',') } : {});
    } catch (error) {
      throw new ProviderFailed(`Datadog monitors: ${describeFailure(error, this.timeoutMs)}`, { cause: error });
    }
    // Filtered here too: the server-side tag filter is a convenience, not the contract.
    return monitors
      .filter(
        (m) =>
          m.overallState === 'Alert' &&
          typeof m.priority === 'number' &&
          priorities.includes(m.priority) &&
          tags.every((t) => m.tags?.includes(t)),
      )
      .map((m) => ({
        id: m.id ?? 0,
        name: m.name ?? `monitor ${m.id ?? '?'}`,
        priority: m.priority ?? undefined,
        state: 'Alert',
      }));
  }
}

/** The rolling timeframes an SLO threshold may have, in seconds. */
const TIMEFRAME_SECONDS: Record<string, number> = { '7d': 7 * 86_400, '30d': 30 * 86_400, '90d': 90 * 86_400 };

/** The newest point with a value; Datadog leaves gaps as null, often in the last bucket. */
function lastPoint(pointlist: [number, number][] | undefined): { at: number; value: number } | undefined {
  for (let i = (pointlist?.length ?? 0) - 1; i >= 0; i--) {
    const [at, value] = pointlist?.[i] ?? [];
    if (typeof at === 'number' && typeof value === 'number' && Number.isFinite(value)) return { at, value };
  }
  return undefined;
}

/** `<status> <short message>` for API errors, or what happened on the way there. */
export function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof client.ApiException) {
    const code = (error as client.ApiException<unknown>).code;
    const body = (error as client.ApiException<unknown>).body;
    const errors =
      typeof body === 'object' && body !== null && Array.isArray((body as { errors?: unknown }).errors)
        ? (body as { errors: unknown[] }).errors
        : [];
    const message = errors.length > 0 ? errors.map(String).join('; ') : (STATUS_CODES[code] ?? 'error');
    return `${code} ${message}`.slice(0, 200);
  }
  if (error instanceof Error && error.name === 'TimeoutError') return `timeout after ${timeoutMs} ms`;
  if (error instanceof Error) {
    const cause = error.cause as { code?: string; message?: string } | undefined;
    return `unreachable: ${cause?.code ?? cause?.message ?? error.message}`;
  }
  return String(error);
}

/**
 * Builds the provider from Datadog settings (DD_API_KEY, DD_APP_KEY, DD_SITE, DATADOG_API_URL),
 * naming the variable that is missing or malformed.
 */
export function datadogMetricsFromEnv(settings: Partial<DatadogMetricsOptions>): DatadogMetrics {
  if (!settings.apiKey) throw new ConfigInvalid('DD_API_KEY is required for Datadog gates');
  if (!settings.appKey) throw new ConfigInvalid('DD_APP_KEY is required for Datadog gates');
  if (settings.apiUrl !== undefined && !/^https?:\/\/[^/]+/.test(settings.apiUrl)) {
    throw new ConfigInvalid(
      `DATADOG_API_URL must be an http(s) URL such as http://127.0.0.1:8126 (got "${settings.apiUrl}")`,
    );
  }
  return new DatadogMetrics({ ...settings, apiKey: settings.apiKey, appKey: settings.appKey });
}
