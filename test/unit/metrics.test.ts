import { WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { recordRollback, recordStep, rollbackLatency, slackErrorCode, stepDuration } from '../../src/metrics.js';
import { deployment, T0 } from './fixtures.js';

const countOf = async (
  metric: { get(): Promise<{ values: { metricName?: string; labels: Record<string, unknown>; value: number }[] }> },
  labels: Record<string, string>,
  suffix = '_count',
) => {
  const { values } = await metric.get();
  const found = values.find(
    (v) => v.metricName?.endsWith(suffix) && Object.entries(labels).every(([k, want]) => v.labels[k] === want),
  );
  return found?.value ?? 0;
};

describe('worker metrics', () => {
  it('a step is observed once it ends, with its duration, and not while it waits', async () => {
    const before = await countOf(stepDuration, { step: 'smoke', outcome: 'failed' });
    const sumBefore = await countOf(stepDuration, { step: 'smoke', outcome: 'failed' }, '_sum');
    recordStep('smoke', { startedAt: T0 });
    recordStep('smoke', undefined);
    recordStep('smoke', { startedAt: T0, endedAt: T0 + 2500, outcome: 'failed' });
    expect(await countOf(stepDuration, { step: 'smoke', outcome: 'failed' })).toBe(before + 1);
    expect(await countOf(stepDuration, { step: 'smoke', outcome: 'failed' }, '_sum')).toBeCloseTo(sumBefore + 2.5);
  });

  it('a rollback is timed from the person’s request, or else from the failed step', async () => {
    const service = `svc-${Date.now()}`;
    const sum = () => countOf(rollbackLatency, { service }, '_sum');
    const gate = deployment({ service, stepRecords: [{ startedAt: T0, endedAt: T0 + 1000, outcome: 'failed' }] });
    recordRollback(gate, undefined, T0 + 4000);
    expect(await sum()).toBeCloseTo(3);
    recordRollback(gate, { by: 'U0DEV1', at: T0 + 500, reason: 'x' }, T0 + 2500);
    expect(await sum()).toBeCloseTo(5);
    expect(await countOf(rollbackLatency, { service })).toBe(2);
    // Nothing to time it from: not observed.
    recordRollback(deployment({ service }), undefined, T0);
    expect(await countOf(rollbackLatency, { service })).toBe(2);
  });

  it('Slack failures get a short, bounded label', () => {
    expect(slackErrorCode(new WebAPIPlatformError({ ok: false, error: 'channel_not_found' }))).toBe(
      'channel_not_found',
    );
    expect(slackErrorCode(new WebAPIRateLimitedError(1))).toBe('ratelimited');
    expect(slackErrorCode(new WebAPIHTTPError(503, 'Service Unavailable', {}))).toBe('http_503');
    expect(slackErrorCode(new WebAPIRequestError(new Error('ECONNRESET')))).toBe('unreachable');
    expect(slackErrorCode(new Error('socket hang up'))).toBe('unknown');
  });
});
