import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Deployment } from '../../../src/domain/deployment.js';
import { createLogger } from '../../../src/logger.js';
import { DeploymentTicker } from '../../../src/queue/deployment-ticker.js';
import { DeploymentQueue } from '../../../src/queue/deployment-queue.js';
import { EffectOutbox } from '../../../src/queue/effect-outbox.js';
import { SlackOutbox } from '../../../src/queue/slack-outbox.js';
import { planSteps } from '../../../src/runbook/plan.js';
import { DeploymentStore } from '../../../src/store/deployment-store.js';
import { keys } from '../../../src/store/keys.js';
import { INITIAL_VERSION, SANDBOX_IMAGE, startSandbox, type Sandbox } from '../../../sandbox/sandbox.js';
import { deletePrefix, REDIS_URL } from '../../support/harness.js';
import { deployment } from '../../unit/fixtures.js';

/**
 * A record rewritten in Redis with a version no image can be built from (src/queue/image.ts
 * refuses it) must end clearly, not loop: a rolling rollback to a tampered previous version
 * fails for good, naming why; Resume of a paused deployment whose version was tampered with
 * rolls back instead of throwing on every try.
 */

const EVIL = 'evil.example/x:latest';
const WORKER = {
  strategy: 'rolling',
  deployers: ['U0DEV1'],
  workload: {
    provider: 'kubernetes',
    namespace: 'prod',
    deployments: { main: 'acme-api-main' },
    container: 'api',
    image: SANDBOX_IMAGE,
    rolloutTimeoutSeconds: 20,
  },
  gates: { intervalSeconds: 0.3, failureLimit: 0, inconclusiveLimit: 3, metrics: [] },
  monitorSeconds: 0,
};

describe('a tampered version at rollback or resume', () => {
  let sandbox: Sandbox;
  let redis: Redis;
  let prefix: string;
  let store: DeploymentStore;
  let outbox: SlackOutbox;
  let effects: EffectOutbox;
  let queue: DeploymentQueue;
  let ticker: DeploymentTicker;
  const now = Date.now();

  beforeEach(async () => {
    sandbox = await startSandbox({ catalog: { services: { 'acme-worker': WORKER } } });
    sandbox.kubernetes.addDeployment({
      namespace: 'prod',
      name: 'acme-api-main',
      container: 'api',
      image: `${SANDBOX_IMAGE}:v1.5.0`,
      replicas: 2,
    });
    prefix = `sy-tamper-${randomUUID().slice(0, 8)}`;
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    store = new DeploymentStore(redis, prefix);
    outbox = new SlackOutbox(redis, redis, prefix, { messagesPerSecond: 100, announcementEveryMs: 200 });
    effects = new EffectOutbox(redis, redis, prefix);
    queue = new DeploymentQueue(redis, prefix);
    ticker = new DeploymentTicker({
      catalog: sandbox.catalog,
      store,
      providers: sandbox.providers(),
      log: createLogger('silent'),
      clock: () => now,
      outbox,
      effects,
      queue,
    });
  });

  afterEach(async () => {
    await outbox.close();
    await effects.close();
    await queue.close();
    await deletePrefix(redis, prefix);
    await redis.quit();
    await sandbox.close();
  });

  /** A deployment created in the store (so it holds its service's lock), then set to `patch`. */
  const seeded = async (service: string, strategy: Deployment['strategy'], patch: Partial<Deployment>) => {
    const config = sandbox.catalog.services[service];
    if (!config) throw new Error(`the sandbox has no ${service}`);
    const steps = planSteps(config, strategy);
    const draft = deployment({
      id: `${service}-${randomUUID().slice(0, 8)}`,
      service,
      strategy,
      steps,
      stepIndex: 2,
      stepRecords: steps.map((_, i) => (i < 2 ? { startedAt: now - 1000, endedAt: now - 1000, outcome: 'ok' } : {})),
    });
    const created = await store.create(draft, { at: now, actor: 'U0DEV1', type: 'requested' });
    if (!created.created) throw new Error('not created');
    await redis.hset(keys(prefix).posted(draft.id), 'announcement', '1741100400.000100');
    const d = { ...created.deployment, ...patch };
    expect(await store.save(d)).toBe(true);
    return d;
  };

  const patchedImages = (): string[] =>
    sandbox.kubernetes.patches.flatMap((p) =>
      [...JSON.stringify(p.body).matchAll(/"image":"([^"]*)"/g)].map((m) => m[1] as string),
    );

  it('a rolling rollback to a tampered previous version fails for good, saying why, and touches nothing', async () => {
    const d = await seeded('acme-worker', 'rolling', {
      phase: 'rolling-back',
      rollbackReason: 'crash loop',
      rollbackBy: 'switchyard',
      previousVersion: EVIL,
    });
    expect(await ticker.tick(d.id)).toEqual({ kind: 'again' });
    const failed = await store.get(d.id);
    expect(failed?.phase).toBe('failed');
    expect(failed?.failureReason).toBe(
      `rollback refused: refusing to deploy: the record's previous version ${JSON.stringify(EVIL)} is not an image tag (cannot be an image tag; give at most 128 letters, digits, _, . or - (not starting with . or -)), so no image is built from it; the workload was left as it is, restore the previous version by hand`,
    );
    expect((await store.events(d.id)).at(-1)?.type).toBe('rollback-refused');
    // Terminal: the next tick has nothing to do, rather than trying the rollback again.
    expect(await ticker.tick(d.id)).toEqual({ kind: 'finished' });
    expect(patchedImages()).toEqual([]);
    expect(sandbox.kubernetes.imageOf('prod', 'acme-api-main', 'api')).toBe(`${SANDBOX_IMAGE}:v1.5.0`);
  });

  it('Resume of a paused deployment whose version was tampered with rolls back instead of throwing', async () => {
    const d = await seeded('acme-api', 'blue-green', {
      phase: 'paused',
      pausedAt: now - 500,
      pauseReason: 'gates inconclusive',
      version: EVIL,
      liveColor: 'blue',
      newColor: 'green',
      previousVersion: INITIAL_VERSION,
      weights: { blue: 90, green: 10 },
    });
    await store.requestResume(d.id, { by: 'U0RM1', at: now });
    expect(await ticker.tick(d.id)).toEqual({ kind: 'again' });
    const refused = await store.get(d.id);
    expect(refused?.phase).toBe('rolling-back');
    expect(refused?.rollbackReason).toContain(
      `the record's version ${JSON.stringify(EVIL)} is not a git SHA or a v-tag`,
    );
    expect(await ticker.tick(d.id)).toEqual({ kind: 'again' });
    expect((await store.get(d.id))?.phase).toBe('rolled-back');
    expect(sandbox.weights()).toEqual({ blue: 100, green: 0 });
    expect(patchedImages().filter((image) => image.includes('evil'))).toEqual([]);
  });
});
