// The v1 API and the common runtime only at load; the v2 models (DORA) are loaded on first use,
// as the package root would cost a worker about two seconds of start-up.
import * as client from '@datadog/datadog-api-client/dist/packages/datadog-api-client-common/index.js';
import * as v1 from '@datadog/datadog-api-client/dist/packages/datadog-api-client-v1/index.js';
import type * as v2 from '@datadog/datadog-api-client/dist/packages/datadog-api-client-v2/index.js';
import { ProviderFailed } from '../../errors.js';
import { describeFailure } from '../metrics/datadog.js';
import {
  deploymentTags,
  type DeployMarker,
  type DeployRecordsProvider,
  type DoraDeployment,
  type DoraFailure,
} from './deploy-records.js';

export interface DatadogDeployRecordsOptions {
  apiKey: string;
  appKey?: string;
  site?: string;
  /** Server root such as `http://127.0.0.1:8126`; wins over `site`. */
  apiUrl?: string;
  /** Per request. */
  timeoutMs?: number;
}

const NS_PER_MS = 1_000_000;
const ALERT_TYPES: Record<DeployMarker['kind'], v1.EventAlertType> = {
  info: 'info',
  success: 'success',
  error: 'error',
};

/**
 * Deploy markers as Datadog events (`POST /api/v1/events`) and DORA deployments and failures
 * (`POST /api/v2/dora/deployment`, `/api/v2/dora/failure`), through the official client. No
 * retries here: the effect outbox that calls it retries with backoff, once per key. The DORA
 * records carry the deployment's id, so a retry after an uncertain attempt updates the same
 * record instead of counting it twice.
 */
export class DatadogDeployRecords implements DeployRecordsProvider {
  private readonly configuration: client.Configuration;
  private readonly eventsApi: v1.EventsApi;
  private doraApi?: Promise<v2.DORAMetricsApi>;
  private readonly timeoutMs: number;

  constructor(options: DatadogDeployRecordsOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    const timeoutMs = this.timeoutMs;
    this.configuration = client.createConfiguration({
      authMethods: { apiKeyAuth: options.apiKey, ...(options.appKey ? { appKeyAuth: options.appKey } : {}) },
      baseServer: options.apiUrl
        ? new client.BaseServerConfiguration(options.apiUrl.replace(/\/+$/, ''), {})
        : undefined,
      // A deadline per request (httpConfig.signal would be one signal for all of them).
      fetch: (url: string, init: RequestInit = {}) => fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) }),
      enableRetry: false,
    });
    if (options.site && !options.apiUrl) this.configuration.setServerVariables({ site: options.site });
    this.eventsApi = new v1.EventsApi(this.configuration);
  }

  private dora(): Promise<v2.DORAMetricsApi> {
    this.doraApi ??= import('@datadog/datadog-api-client/dist/packages/datadog-api-client-v2/index.js').then(
      (module) => new module.DORAMetricsApi(this.configuration),
    );
    return this.doraApi;
  }

  private async send(what: string, call: () => Promise<unknown>): Promise<void> {
    try {
      await call();
    } catch (error) {
      const status = error instanceof client.ApiException ? (error as client.ApiException<unknown>).code : undefined;
      throw new ProviderFailed(`Datadog ${what}: ${describeFailure(error, this.timeoutMs)}`, {
        cause: error,
        retriable: status === undefined || status === 408 || status === 429 || status >= 500,
      });
    }
  }

  async marker(marker: DeployMarker): Promise<void> {
    await this.send('event', () =>
      this.eventsApi.createEvent({
        body: {
          title: marker.title,
          text: marker.text,
          tags: deploymentTags(marker),
          alertType: ALERT_TYPES[marker.kind],
          dateHappened: Math.floor(marker.at / 1000),
          aggregationKey: marker.deploymentId,
          sourceTypeName: 'switchyard',
        },
      }),
    );
  }

  async doraDeployment(d: DoraDeployment): Promise<void> {
    const api = await this.dora();
    await this.send('DORA deployment', () =>
      api.createDORADeployment({
        body: {
          data: {
            attributes: {
              id: d.deploymentId,
              service: d.service,
              env: d.environment,
              version: d.version,
              startedAt: d.startedAt * NS_PER_MS,
              finishedAt: d.finishedAt * NS_PER_MS,
              customTags: [`deployment_id:${d.deploymentId}`],
            },
          },
        },
      }),
    );
  }

  async doraFailure(f: DoraFailure): Promise<void> {
    const api = await this.dora();
    await this.send('DORA failure', () =>
      api.createDORAFailure({
        body: {
          data: {
            attributes: {
              id: `${f.deploymentId}-rollback`,
              name: f.name.slice(0, 200),
              services: [f.service],
              env: f.environment,
              version: f.version,
              startedAt: f.startedAt * NS_PER_MS,
              ...(f.finishedAt !== undefined ? { finishedAt: f.finishedAt * NS_PER_MS } : {}),
              customTags: [`deployment_id:${f.deploymentId}`],
            },
          },
        },
      }),
    );
  }
}
