import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment, DeploymentEvent } from '../../../src/domain/deployment.js';
import { parseCatalog } from '../../../src/runbook/catalog.js';
import { DeploymentStore } from '../../../src/store/deployment-store.js';
import { keys } from '../../../src/store/keys.js';
import { promotionCandidate, promotionVerdictFor } from '../../../src/store/promotion-facts.js';
import { deletePrefix, REDIS_URL } from '../../support/harness.js';
import { deployment, specCatalogInput, T0 } from '../../unit/fixtures.js';

const MIN = 60_000;
const event = (type: string, at: number): DeploymentEvent => ({ at, actor: 'switchyard', type });

const input = specCatalogInput();
input.environments = { staging: {}, production: { promotedFrom: 'staging', soakSeconds: 600 } };
const catalog = parseCatalog(input);

describe('the store per service and environment', () => {
  let redis: Redis;
  let prefix: string;
  let store: DeploymentStore;
  const k = () => keys(prefix);

  beforeAll(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    prefix = `sy-environments-${randomUUID().slice(0, 8)}`;
    store = new DeploymentStore(redis, prefix);
  });
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  const draft = (environment: string, patch: Partial<Deployment> = {}): Deployment =>
    deployment({ id: `acme-api-${randomUUID().slice(0, 8)}`, environment, phase: 'running', ...patch });

  it('production keeps the keys it had before environments; another environment has its own', () => {
    expect(k().lock('acme-api')).toBe(`${prefix}:lock:acme-api`);
    expect(k().lock('acme-api', 'production')).toBe(`${prefix}:lock:acme-api`);
    expect(k().lock('acme-api', 'staging')).toBe(`${prefix}:lock:acme-api@staging`);
    expect(k().history('acme-api', 'staging')).toBe(`${prefix}:history:acme-api@staging`);
    expect(k().blocked('acme-api', 'staging')).toBe(`${prefix}:blocked:acme-api@staging`);
  });

  it('one lock per environment: staging and production of a service are active at once, each fenced', async () => {
    const staging = await store.create(draft('staging'), event('requested', T0));
    const production = await store.create(draft('production'), event('requested', T0));
    expect(staging.created && production.created).toBe(true);
    if (!staging.created || !production.created) return;
    expect(await store.activeId('acme-api', 'staging')).toBe(staging.deployment.id);
    expect(await store.activeId('acme-api')).toBe(production.deployment.id);
    const again = await store.create(draft('staging'), event('requested', T0));
    expect(again).toEqual({ created: false, activeId: staging.deployment.id });

    // A rollback blocks the version in its own environment; the terminal write frees that lock only.
    const rolledBack = { ...staging.deployment, phase: 'rolled-back' as const, finishedAt: T0 + MIN };
    const block = { deploymentId: rolledBack.id, reason: 'bad', at: T0 + MIN };
    expect((await store.commit(rolledBack, [], { release: true, blockVersion: block, now: T0 + MIN })).written).toBe(
      true,
    );
    expect(await store.activeId('acme-api', 'staging')).toBeUndefined();
    expect(await store.activeId('acme-api')).toBe(production.deployment.id);
    expect(await store.blockedVersion('acme-api', rolledBack.version, 'staging')).toEqual(block);
    expect(await store.blockedVersion('acme-api', rolledBack.version)).toBeUndefined();
    expect((await store.history('acme-api', 10, 'staging')).map((d) => d.id)).toEqual([rolledBack.id]);
    expect((await store.history('acme-api', 10)).map((d) => d.id)).toEqual([production.deployment.id]);
    await store.discard(production.deployment, Date.now());
  });

  it('a record stored before environments existed reads as production', async () => {
    const legacy = draft('production');
    const { environment: _dropped, ...stored } = legacy;
    await redis.set(k().deployment(legacy.id), JSON.stringify(stored));
    expect((await store.get(legacy.id))?.environment).toBe('production');
    expect((await store.load(legacy.id))?.deployment.environment).toBe('production');
  });

  it('freezes: one environment, every environment, all services', async () => {
    const by = { by: 'U0RM1', at: T0 };
    await store.freeze('acme-api', { reason: 'load test', ...by }, 'staging');
    expect(await store.freezeOf('acme-api', 'staging')).toMatchObject({ scope: 'acme-api', environment: 'staging' });
    expect(await store.freezeOf('acme-api', 'production')).toBeUndefined();
    await store.freeze('all', { reason: 'quarter close', ...by });
    expect(await store.freezeOf('acme-worker', 'staging')).toMatchObject({ scope: 'all', environment: undefined });
    // The service's own freeze in the environment speaks first.
    expect(await store.freezeOf('acme-api', 'staging')).toMatchObject({ reason: 'load test' });
    expect(await store.unfreeze('all', 'staging')).toBe(false);
    expect(await store.unfreeze('all')).toBe(true);
    expect(await store.unfreeze('acme-api', 'staging')).toBe(true);
    expect(await store.freezeOf('acme-api', 'staging')).toBeUndefined();
  });
});

describe('promotion facts: read from the records in one place, judged by the pure rule', () => {
  let redis: Redis;
  let prefix: string;
  let store: DeploymentStore;

  beforeAll(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    prefix = `sy-promotion-${randomUUID().slice(0, 8)}`;
    store = new DeploymentStore(redis, prefix);
  });
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  async function finished(version: string, phase: Deployment['phase'], requestedAt: number, finishedAt?: number) {
    const d = deployment({
      id: `acme-api-${randomUUID().slice(0, 8)}`,
      environment: 'staging',
      version,
      phase,
      requestedAt,
      finishedAt,
    });
    const created = await store.create(d, event('requested', requestedAt));
    if (!created.created) throw new Error('staging is held');
    await store.commit(created.deployment, [], { release: finishedAt !== undefined, now: finishedAt });
    return created.deployment;
  }

  const verdict = (version: string, now: number, environment = 'production') =>
    promotionVerdictFor(store, catalog, { service: 'acme-api', version, environment }, now);

  it('never deployed, failed there, soaking, eligible, then a newer version preferred by /deploy promote', async () => {
    expect(await verdict('v1.0.0', T0)).toEqual({
      eligible: false,
      refusal: { reason: 'never-deployed', source: 'staging', lastPhase: undefined },
    });
    // Staging takes no promotion: anything may go there.
    expect(await verdict('v1.0.0', T0, 'staging')).toEqual({ eligible: true });

    await finished('v1.0.0', 'failed', T0, T0 + MIN);
    expect(await verdict('v1.0.0', T0 + 2 * MIN)).toMatchObject({
      eligible: false,
      refusal: { reason: 'never-deployed', lastPhase: 'failed' },
    });

    await finished('v1.0.0', 'succeeded', T0 + 3 * MIN, T0 + 4 * MIN);
    expect(await verdict('v1.0.0', T0 + 5 * MIN)).toMatchObject({
      eligible: false,
      refusal: { reason: 'soaking', eligibleAt: T0 + 14 * MIN },
    });
    expect(await verdict('v1.0.0', T0 + 14 * MIN)).toEqual({ eligible: true, completedAt: T0 + 4 * MIN });

    await finished('v1.1.0', 'succeeded', T0 + 15 * MIN, T0 + 16 * MIN);
    const now = T0 + 20 * MIN;
    expect(await promotionCandidate(store, catalog, 'acme-api', undefined, now)).toEqual({
      found: true,
      environment: 'production',
      version: 'v1.0.0',
      source: 'staging',
      completedAt: T0 + 4 * MIN,
    });
    expect(await promotionCandidate(store, catalog, 'acme-api', 'production', T0 + 26 * MIN)).toMatchObject({
      found: true,
      version: 'v1.1.0',
    });
  });

  it('a version rolled back in staging after it completed is refused, naming when', async () => {
    const d = await finished('v2.0.0', 'succeeded', T0 + 30 * MIN, T0 + 31 * MIN);
    const reopened = await store.reopenForRollback(d, { by: 'U0DEV1', at: T0 + 40 * MIN, reason: 'bad' });
    expect(reopened).toBeDefined();
    await store.commit({ ...(reopened as Deployment), phase: 'rolled-back', finishedAt: T0 + 41 * MIN }, [], {
      release: true,
      now: T0 + 41 * MIN,
    });
    expect(await verdict('v2.0.0', T0 + 60 * MIN)).toEqual({
      eligible: false,
      refusal: { reason: 'rolled-back', source: 'staging', rolledBackAt: T0 + 41 * MIN },
    });
  });
});
