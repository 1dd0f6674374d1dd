import { randomUUID } from 'node:crypto';
import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProviderFailed } from '../../../src/errors.js';
import { createLogger } from '../../../src/logger.js';
import { EffectOutbox, type EffectHandlers } from '../../../src/queue/effect-outbox.js';
import { deletePrefix, REDIS_URL, until } from '../../support/harness.js';

const DEPLOYMENT = 'acme-api-20261205-fx01';

describe('EffectOutbox on real Redis and BullMQ', () => {
  let redis: Redis;
  let prefix: string;
  let outbox: EffectOutbox;
  let worker: Worker | undefined;
  /** Every call a handler made, in the order made: `kind key`. */
  let calls: string[];

  const start = (handlers: EffectHandlers) => {
    worker = outbox.createWorker(handlers, createLogger('silent'), { lockDurationMs: 3000, stalledIntervalMs: 1000 });
  };
  const effect = (key: string, lane = 'github', kind = 'record', payload: unknown = { key }) => ({
    deploymentId: DEPLOYMENT,
    key,
    lane,
    kind,
    payload,
  });
  const record: EffectHandlers = {
    record: async (_payload, context) => {
      calls.push(`record ${context.key}`);
      return { id: context.key.length };
    },
  };

  beforeEach(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    prefix = `sy-fx-${randomUUID().slice(0, 8)}`;
    outbox = new EffectOutbox(redis, redis, prefix);
    calls = [];
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await outbox.close();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it('makes a call asked for twice once, and keeps what it returned for later effects', async () => {
    start(record);
    await outbox.send(effect('github:create'));
    await outbox.send(effect('github:create'));
    await until(async () => (await outbox.resultOf(DEPLOYMENT, 'github:create')) !== undefined, 5000, 'the first call');
    await outbox.send(effect('github:create'));
    // A key that is done is never made again, even when its job is long gone.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(calls).toEqual(['record github:create']);
    expect(await outbox.resultOf(DEPLOYMENT, 'github:create')).toEqual({ id: 'github:create'.length });
  });

  it('makes the effects of one lane in the order asked for, even when the first one must be retried', async () => {
    let failuresLeft = 2;
    start({
      record: async (_payload, context) => {
        if (context.key === 'page:trigger' && failuresLeft-- > 0) throw new ProviderFailed('PagerDuty answered 503');
        calls.push(`record ${context.key}`);
        return undefined;
      },
    });
    await outbox.send(effect('page:trigger', 'page:pause'));
    await outbox.send(effect('page:resolve', 'page:pause'));
    await outbox.send(effect('github:status:in_progress', 'github'));
    await until(() => calls.length === 3, 10000, 'three calls');
    expect(calls.indexOf('record page:trigger')).toBeLessThan(calls.indexOf('record page:resolve'));
    // Another lane is not held up by the retried call.
    expect(calls.indexOf('record github:status:in_progress')).toBeLessThan(calls.indexOf('record page:trigger'));
    expect(failuresLeft).toBe(-1);
  });

  it('gives up on a call that cannot succeed, and lets the rest of its lane go on', async () => {
    start({
      record: async (_payload, context) => {
        calls.push(`record ${context.key}`);
        if (context.key === 'github:create') throw new ProviderFailed('GitHub answered 422', { retriable: false });
        return context.resultOf('github:create');
      },
    });
    await outbox.send(effect('github:create'));
    await outbox.send(effect('github:status:success'));
    await until(
      async () => (await outbox.resultOf(DEPLOYMENT, 'github:status:success')) !== undefined,
      5000,
      'the status after the failed call',
    );
    expect(calls).toEqual(['record github:create', 'record github:status:success']);
    expect(await outbox.resultOf(DEPLOYMENT, 'github:create')).toBeUndefined();
    const failed = await outbox.queue.getJobs(['failed']);
    expect(failed.map((job) => job.data.key)).toEqual(['github:create']);
  });

  it('skips an effect whose integration this process was not given, without holding up its lane', async () => {
    start(record);
    await outbox.send(effect('datadog:start', 'datadog', 'datadog-event'));
    await outbox.send(effect('datadog:complete', 'datadog'));
    await until(() => calls.length === 1, 5000, 'the call after the skipped one');
    expect(calls).toEqual(['record datadog:complete']);
  });
});
