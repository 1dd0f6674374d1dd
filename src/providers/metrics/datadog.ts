import { STATUS_CODES } from 'node:http';
import { client, v1 } from '@datadog/datadog-api-client';
import { ConfigInvalid, ProviderFailed } from '../../errors.js';
import type { FiringMonitor, Measurement, MetricsProvider } from './metrics.js';

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
}

export const DEFAULT_DATADOG_TIMEOUT_MS = 10_000;
export const DEFAULT_DATADOG_WINDOW_SECONDS = 300;

/** Datadog metrics and monitors through the official client (v1 query and monitor APIs). */
export class DatadogMetrics implements MetricsProvider {
  private readonly metricsApi: v1.MetricsApi;
  private readonly monitorsApi: v1.MonitorsApi;
  private readonly timeoutMs: number;
  private readonly windowSeconds: number;

  constructor(options: DatadogMetricsOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_DATADOG_TIMEOUT_MS;
    this.windowSeconds = options.windowSeconds ?? DEFAULT_DATADOG_WINDOW_SECONDS;
    const timeoutMs = this.timeoutMs;
    const configuration = client.createConfiguration({
      authMethods: { apiKeyAuth: options.apiKey, appKeyAuth: options.appKey },
      baseServer: options.apiUrl ? new client.BaseServerConfiguration(options.apiUrl.replace(/\/+$/, ''), {}) : undefined,
      // httpConfig.signal would be one signal shared by every request; a fetch of our own gives
      // each request its own deadline, so a hanging Datadog cannot stall a gate run.
      fetch: (url: string, init: RequestInit = {}) =>
        fetch(url, { ...init, signal: init.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs) }),
      // A gate run is retried at the next interval anyway; retrying inside would overrun it.
      enableRetry: false,
    });
    if (options.site && !options.apiUrl) configuration.setServerVariables({ site: options.site });
    this.metricsApi = new v1.MetricsApi(configuration);
    this.monitorsApi = new v1.MonitorsApi(configuration);
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
      .map((m) => ({ id: m.id ?? 0, name: m.name ?? `monitor ${m.id ?? '?'}`, priority: m.priority ?? undefined, state: 'Alert' }));
  }
}

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
    const errors = typeof body === 'object' && body !== null && Array.isArray((body as { errors?: unknown }).errors) ? (body as { errors: unknown[] }).errors : [];
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
    throw new ConfigInvalid(`DATADOG_API_URL must be an http(s) URL such as http://127.0.0.1:8126 (got "${settings.apiUrl}")`);
  }
  return new DatadogMetrics({ ...settings, apiKey: settings.apiKey, appKey: settings.appKey });
}
