import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment, DeploymentEvent } from '../../../src/domain/deployment.js';
import { DeploymentStore } from '../../../src/store/deployment-store.js';
import { keys } from '../../../src/store/keys.js';
import { measureDeploymentMemory } from '../../../bench/redis-memory.js';
import { deletePrefix, REDIS_URL } from '../../support/harness.js';
import { deployment } from '../../unit/fixtures.js';

const DAY = 86_400_000;
const event = (type: string, at: number): DeploymentEvent => ({ at, actor: 'switchyard', type });

describe('retention: a finished deployment expires, an active one stays, the indexes drop old history', () => {
  let redis: Redis;
  let prefix: string;
  let store: DeploymentStore;
  const k = () => keys(prefix);

  beforeAll(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    prefix = `sy-retention-${randomUUID().slice(0, 8)}`;
    store = new DeploymentStore(redis, prefix, 30);
  });
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  /** Creates a deployment, records an intent, posts its announcement and commits a running tick. */
  async function started(service: string, requestedAt: number): Promise<Deployment> {
    const draft = deployment({ id: `${service}-${randomUUID().slice(0, 8)}`, service, requestedAt, phase: 'running' });
    const created = await store.create(draft, event('requested', requestedAt));
    if (!created.created) throw new Error('not created');
    const d = created.deployment;
    await store.decide(d.id, { kind: 'approve', by: 'U0RM', at: requestedAt });
    await store.markPosted(d.id, 'announcement', '1.000100');
    await redis.zadd(k().outboxOrder(d.id), 1, 'job');
    await redis.hset(k().outboxSending(d.id), 'announcement', '1');
    expect((await store.commit(d, [event('step-started', requestedAt)])).written).toBe(true);
    return d;
  }

  const perDeployment = (id: string) => [
    k().deployment(id),
    k().events(id),
    k().intents(id),
    k().posted(id),
    k().outboxOrder(id),
    k().outboxSending(id),
  ];
  const ttls = (names: string[]) => Promise.all(names.map((name) => redis.pttl(name)));

  it('an active deployment keeps every key without a TTL; the terminal write gives them all ≈ RETENTION_DAYS', async () => {
    const d = await started('acme-api', Date.now());
    expect(await ttls(perDeployment(d.id))).toEqual([-1, -1, -1, -1, -1, -1]);

    const ended = await store.commit(
      { ...d, phase: 'succeeded', finishedAt: Date.now() },
      [event('succeeded', Date.now())],
      {
        release: true,
      },
    );
    expect(ended.written).toBe(true);
    for (const ttl of await ttls(perDeployment(d.id))) {
      expect(ttl).toBeGreaterThan(30 * DAY - 60_000);
      expect(ttl).toBeLessThanOrEqual(30 * DAY);
    }
    // A message that goes out after the end (the final edit, a late reply) keeps to the same clock.
    await store.markPosted(d.id, 'alert:late', '2.000200', event('announced', Date.now()));
    expect(await redis.pttl(k().posted(d.id))).toBeGreaterThan(30 * DAY - 60_000);
    expect(await redis.pttl(k().events(d.id))).toBeGreaterThan(30 * DAY - 60_000);
    // The bench's measurement of the same deployment: some bytes, every key with a TTL.
    const memory = await measureDeploymentMemory({ redisUrl: REDIS_URL, log: () => {} }, prefix, d.id);
    expect(memory.totalBytes).toBeGreaterThan(0);
    expect(memory.byKind.record).toBeGreaterThan(0);
    expect(memory.withoutTtl).toEqual([]);
    // The service lock went with the terminal write and carries no TTL of its own.
    expect(await redis.exists(k().lock('acme-api'))).toBe(0);
  });

  it('a finished deployment taken back for a rollback is active again: its keys lose the TTL', async () => {
    const d = await started('acme-web', Date.now());
    await store.commit({ ...d, phase: 'succeeded', finishedAt: Date.now() }, [], { release: true });
    const reopened = await store.reopenForRollback(
      { ...d, phase: 'succeeded' },
      { by: 'U0RM', at: Date.now(), reason: 'late breach' },
    );
    expect(reopened).toBeDefined();
    expect(await ttls([k().deployment(d.id), k().events(d.id), k().intents(d.id), k().posted(d.id)])).toEqual([
      -1, -1, -1, -1,
    ]);
  });

  it('history requested before the retention window is gone from the service and global indexes', async () => {
    const old = await started('acme-batch', Date.now() - 31 * DAY);
    await store.commit({ ...old, phase: 'succeeded' }, [], { release: true });
    // Any terminal write of the service trims what was requested before the window.
    const recent = await started('acme-batch', Date.now());
    await store.commit({ ...recent, phase: 'failed', finishedAt: Date.now() }, [], { release: true });

    expect(await redis.zscore(k().history('acme-batch'), old.id)).toBeNull();
    expect(await redis.zscore(k().all(), old.id)).toBeNull();
    expect(await redis.zscore(k().history('acme-batch'), recent.id)).not.toBeNull();
    expect(await redis.zscore(k().all(), recent.id)).not.toBeNull();
    expect((await store.history('acme-batch', 10)).map((d) => d.id)).toEqual([recent.id]);
  });
});
