import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderFailed } from '../../../src/errors.js';
import { DatadogDeployRecords } from '../../../src/providers/deploy-records/datadog.js';
import { startDatadogStandIn, type DatadogStandIn } from '../../../sandbox/datadog.js';

/** Deploy markers (events API v1) and DORA records (v2) through the official client, against the stand-in. */

const KEYS = { apiKey: 'dd-api-key-0123456789abcdef', appKey: 'dd-app-key-0123456789abcdef' };
const T = Date.UTC(2026, 11, 5, 6, 0, 0);
const ids = {
  deploymentId: 'acme-api-abc123-def456',
  service: 'acme-api',
  environment: 'production',
  version: 'v1.6.0',
};
let datadog: DatadogStandIn;
let records: DatadogDeployRecords;

beforeAll(async () => {
  datadog = await startDatadogStandIn(KEYS);
  records = new DatadogDeployRecords({ ...KEYS, apiUrl: datadog.url, timeoutMs: 1000 });
});
afterAll(async () => datadog.close());

describe('DatadogDeployRecords', () => {
  it('a marker is an event tagged service, env, version and deployment_id', async () => {
    await records.marker({
      ...ids,
      kind: 'success',
      title: 'acme-api v1.6.0: deployment completed',
      text: 'live',
      at: T,
    });
    expect(datadog.deployRecords.events.at(-1)).toEqual({
      title: 'acme-api v1.6.0: deployment completed',
      text: 'live',
      tags: ['service:acme-api', 'env:production', 'version:v1.6.0', 'deployment_id:acme-api-abc123-def456'],
      alert_type: 'success',
      date_happened: T / 1000,
      aggregation_key: 'acme-api-abc123-def456',
      source_type_name: 'switchyard',
    });
    const request = datadog.requests.at(-1);
    expect(request?.path).toBe('/api/v1/events');
    expect(request?.headers['dd-api-key']).toBe(KEYS.apiKey);
  });

  it('DORA deployment and failure carry the service, env, version and times in nanoseconds', async () => {
    await records.doraDeployment({ ...ids, startedAt: T, finishedAt: T + 60_000 });
    await records.doraFailure({
      ...ids,
      name: 'acme-api v1.6.0 rolled back: p99',
      startedAt: T,
      finishedAt: T + 5_000,
    });
    expect(datadog.deployRecords.doraDeployments.at(-1)).toEqual({
      id: ids.deploymentId,
      service: 'acme-api',
      env: 'production',
      version: 'v1.6.0',
      started_at: T * 1_000_000,
      finished_at: (T + 60_000) * 1_000_000,
      custom_tags: ['deployment_id:acme-api-abc123-def456'],
    });
    expect(datadog.deployRecords.doraFailures.at(-1)).toMatchObject({
      id: `${ids.deploymentId}-rollback`,
      name: 'acme-api v1.6.0 rolled back: p99',
      services: ['acme-api'],
      env: 'production',
      version: 'v1.6.0',
      started_at: T * 1_000_000,
    });
    expect(datadog.requests.slice(-2).map((r) => r.path)).toEqual(['/api/v2/dora/deployment', '/api/v2/dora/failure']);
  });

  it('an outage is a retriable ProviderFailed; a refused key is not retriable', async () => {
    datadog.faults.inject({ status: 503, match: '/api/v1/events' });
    const outage = records.marker({ ...ids, kind: 'info', title: 't', text: 'x', at: T });
    await expect(outage).rejects.toThrow(ProviderFailed);
    await expect(outage).rejects.toMatchObject({ retriable: true });
    const wrong = new DatadogDeployRecords({ apiKey: 'wrong-key', apiUrl: datadog.url });
    await expect(wrong.doraDeployment({ ...ids, startedAt: T, finishedAt: T })).rejects.toMatchObject({
      retriable: false,
    });
  });
});
