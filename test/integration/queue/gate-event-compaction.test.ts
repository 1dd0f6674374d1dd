import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentEvent } from '../../../src/domain/deployment.js';
import type { GateRun, Reading } from '../../../src/domain/gates.js';
import { gateRunEvent } from '../../../src/queue/gate-events.js';
import { DeploymentStore } from '../../../src/store/deployment-store.js';
import { deletePrefix, REDIS_URL } from '../../support/harness.js';
import { deployment } from '../../unit/fixtures.js';

const reading = (value: number, outcome: Reading['outcome']): Reading => ({
  name: 'success rate',
  query: 'sum:trace.http.request.hits{service:acme-api,color:green}',
  threshold: '≥ 0.98',
  value,
  outcome,
});
const run = (at: number, value: number, outcome: GateRun['outcome'] = 'pass'): GateRun => ({
  at,
  outcome,
  readings: [reading(value, outcome)],
  firingMonitors: [],
});

describe('repeated gate readings are one event with a count and the first and last time', () => {
  let redis: Redis;
  let prefix: string;
  let store: DeploymentStore;

  beforeAll(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    prefix = `sy-compact-${randomUUID().slice(0, 8)}`;
    store = new DeploymentStore(redis, prefix);
  });
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it('80 passing runs of a 30 s gate make one event counting 80; a breach and a step in between start new ones', async () => {
    const T = Date.now();
    const created = await store.create(deployment({ id: `acme-api-${randomUUID().slice(0, 8)}` }), {
      at: T,
      actor: 'U0DEV1',
      type: 'requested',
    });
    if (!created.created) throw new Error('not created');
    const d = created.deployment;
    // One tick, one write, one run each: values vary, the verdict does not.
    for (let i = 0; i < 80; i++) {
      const at = T + i * 30_000;
      expect((await store.commit(d, [gateRunEvent(run(at, 0.99 + (i % 10) / 1000), at)])).written).toBe(true);
    }
    const step: DeploymentEvent = { at: T + 2_400_000, actor: 'switchyard', type: 'step-started' };
    await store.commit(d, [step, gateRunEvent(run(T + 2_410_000, 0.995), T + 2_410_000)]);
    await store.commit(d, [gateRunEvent(run(T + 2_440_000, 0.9, 'breach'), T + 2_440_000)]);
    await store.commit(d, [gateRunEvent(run(T + 2_470_000, 0.99), T + 2_470_000)]);

    const events = await store.events(d.id);
    expect(events.map((e) => `${e.type}:${e.detail ?? ''}`)).toEqual([
      'requested:',
      'gate-run:pass',
      'step-started:',
      'gate-run:pass',
      'gate-run:breach',
      'gate-run:pass',
    ]);
    const first = events[1];
    expect(first?.data).toMatchObject({ count: 80, firstAt: T, lastAt: T + 79 * 30_000 });
    expect(first?.at).toBe(T + 79 * 30_000);
    // The newest readings are kept, arrays stay arrays.
    expect(first?.data?.readings).toEqual([reading(0.999, 'pass')]);
    expect(first?.data?.firingMonitors).toEqual([]);
    expect(events[4]?.data).toMatchObject({ count: 1, firstAt: T + 2_440_000 });
    expect(events.filter((e) => e.type === 'gate-run').reduce((n, e) => n + Number(e.data?.count), 0)).toBe(83);
  });
});
