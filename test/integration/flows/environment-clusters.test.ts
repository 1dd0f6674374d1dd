import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { isTerminal, type Deployment } from '../../../src/domain/deployment.js';
import { serviceIn } from '../../../src/runbook/environments.js';
import { planSteps } from '../../../src/runbook/plan.js';
import { ANNOUNCEMENT_MESSAGE } from '../../../src/store/deployment-store.js';
import { keys } from '../../../src/store/keys.js';
import { currentAnnouncement } from '../../../views/announcement.js';
import type { Elbv2Call } from '../../../sandbox/elbv2.js';
import {
  INITIAL_VERSION,
  PEOPLE,
  SANDBOX_ACCESS_KEY,
  SANDBOX_IMAGE,
  STAGING_ROLE_ARN,
  type StagingSandbox,
} from '../../../sandbox/sandbox.js';
import { startHarness, until, type Harness } from '../../support/harness.js';
import { deployment } from '../../unit/fixtures.js';

/**
 * A deployment to `environment`, approved, as `/deploy`, the checklist and Approve leave it:
 * created in the store (which takes the lock), announced through the outbox, decided and
 * queued. The worker takes everything else from the record; `undefined` stores a record without
 * an `environment` field at all, as records written before environments existed are.
 */
async function requestIn(h: Harness, environment: string | undefined, version: string): Promise<Deployment> {
  const now = Date.now();
  const service = serviceIn(h.sandbox.catalog, 'acme-api', environment ?? 'production');
  if (!service) throw new Error(`acme-api has no configuration in ${environment}`);
  const draft = deployment({
    id: `acme-api-${environment ?? 'none'}-${randomUUID().slice(0, 8)}`,
    environment: environment ?? 'production',
    version,
    image: `${SANDBOX_IMAGE}:${version}`,
    requestedAt: now,
    phase: 'awaiting-approval',
    steps: planSteps(service, 'blue-green'),
    announcementTs: undefined,
    liveColor: undefined,
    newColor: undefined,
    previousVersion: undefined,
    fence: 0,
  });
  const created = await h.app.store.create(draft, { at: now, actor: PEOPLE.requester, type: 'requested' });
  if (!created.created) throw new Error(`not created: ${created.activeId} is active`);
  const d = created.deployment;
  if (environment === undefined) {
    // Before its job exists, so nothing else writes the record meanwhile.
    const key = keys(h.prefix).deployment(d.id);
    const { environment: _dropped, ...legacy } = JSON.parse((await h.redis.get(key)) ?? '{}') as Deployment;
    await h.redis.set(key, JSON.stringify(legacy), 'KEEPTTL');
  }
  const announcement = currentAnnouncement(d, h.sandbox.catalog.slack.onCall, now);
  await h.app.ctx.outbox.send({
    deploymentId: d.id,
    key: ANNOUNCEMENT_MESSAGE,
    channel: d.channel,
    text: announcement.text,
    blocks: announcement.blocks,
  });
  await h.app.store.decide(d.id, { kind: 'approve', by: PEOPLE.releaseManager, at: now });
  await h.app.queue.add(d.id);
  return d;
}

const finished = (h: Harness, id: string, timeoutMs = 30_000): Promise<Deployment> =>
  until(
    async () => {
      const d = await h.app.store.get(id);
      return d && isTerminal(d.phase) ? d : undefined;
    },
    timeoutMs,
    `deployment ${id} to finish`,
  );

const callsTo = (calls: Elbv2Call[], listenerArn: string): Elbv2Call[] =>
  calls.filter((c) => c.resource === listenerArn);

describe('environments: each deployment acts on its own environment only', () => {
  let h: Harness;
  afterEach(async () => h.close());

  it('staging then production of one version: each one’s writes land on its own cluster and listener; staging signs with the credentials STS issued for its role', async () => {
    h = await startHarness({ staging: true, bakeSeconds: 1 });
    const staging = h.sandbox.staging as StagingSandbox;
    const production = h.sandbox;

    const staged = await finished(h, (await requestIn(h, 'staging', 'v1.5.0')).id);
    expect(staged).toMatchObject({ phase: 'succeeded', environment: 'staging' });
    // Staging's cluster (namespace `staging`, its override) and listener took the new version…
    expect(staging.kubernetes.imageOf('staging', 'acme-api-green', 'api')).toBe(`${SANDBOX_IMAGE}:v1.5.0`);
    expect(staging.weights()).toEqual({ blue: 0, green: 100 });
    expect(staging.kubernetes.patches.length).toBeGreaterThan(0);
    // …and production's were not even read.
    expect(production.kubernetes.requests).toEqual([]);
    expect(production.kubernetes.imageOf('prod', 'acme-api-green', 'api')).toBe(`${SANDBOX_IMAGE}:${INITIAL_VERSION}`);
    expect(production.weights()).toEqual({ blue: 100, green: 0 });
    expect(callsTo(production.elbv2.calls, production.listenerArn)).toEqual([]);

    // One AssumeRole of staging's role, signed by the worker's own key in staging's region;
    // every staging ELBv2 call signed with what it issued (the client is built once, not per call).
    expect(staging.sts.assumed).toHaveLength(1);
    const [issued] = staging.sts.assumed;
    expect(issued).toMatchObject({ roleArn: STAGING_ROLE_ARN, roleSessionName: 'switchyard-staging' });
    expect(issued?.signedBy).toMatchObject({ accessKeyId: SANDBOX_ACCESS_KEY, region: 'us-west-2', service: 'sts' });
    const stagingCalls = callsTo(production.elbv2.calls, staging.listenerArn);
    expect(stagingCalls.map((c) => c.action)).toContain('ModifyListener');
    expect(stagingCalls.length).toBe(production.elbv2.calls.length);
    for (const call of stagingCalls)
      expect(call.signedBy).toMatchObject({
        accessKeyId: issued?.accessKeyId,
        sessionToken: issued?.sessionToken,
        region: 'us-west-2',
        service: 'elasticloadbalancing',
      });

    const stagingRequests = staging.kubernetes.requests.length;
    const stagingCallCount = production.elbv2.calls.length;
    const promoted = await finished(h, (await requestIn(h, 'production', 'v1.5.0')).id);
    expect(promoted).toMatchObject({ phase: 'succeeded', environment: 'production' });
    expect(production.kubernetes.imageOf('prod', 'acme-api-green', 'api')).toBe(`${SANDBOX_IMAGE}:v1.5.0`);
    expect(production.weights()).toEqual({ blue: 0, green: 100 });
    // Staging is left as it was: no request to its cluster, no call to its listener.
    expect(staging.kubernetes.requests.length).toBe(stagingRequests);
    expect(staging.weights()).toEqual({ blue: 0, green: 100 });
    const productionCalls = production.elbv2.calls.slice(stagingCallCount);
    expect(productionCalls.map((c) => c.action)).toContain('ModifyListener');
    expect(callsTo(productionCalls, production.listenerArn)).toEqual(productionCalls);
    // Production's account is the worker's own: its key, its region, no session token, no AssumeRole.
    for (const call of productionCalls)
      expect(call.signedBy).toMatchObject({
        accessKeyId: SANDBOX_ACCESS_KEY,
        region: 'us-east-1',
        sessionToken: undefined,
      });
    expect(staging.sts.assumed).toHaveLength(1);
  });

  it('a record written before environments existed (no environment field) is deployed to production', async () => {
    h = await startHarness({ staging: true, bakeSeconds: 1 });
    const staging = h.sandbox.staging as StagingSandbox;
    const requested = await requestIn(h, undefined, 'v1.5.0');
    const done = await finished(h, requested.id);
    expect(done).toMatchObject({ phase: 'succeeded', environment: 'production' });
    expect(h.sandbox.weights()).toEqual({ blue: 0, green: 100 });
    expect(staging.kubernetes.requests).toEqual([]);
    expect(staging.sts.assumed).toEqual([]);
  });

  it('a rollback of a staging deployment restores staging and touches nothing of production', async () => {
    h = await startHarness({ staging: true, bakeSeconds: 30 });
    const staging = h.sandbox.staging as StagingSandbox;
    const production = h.sandbox;

    const requested = await requestIn(h, 'staging', 'v1.5.0');
    await until(() => (staging.weights().green === 10 ? true : undefined), 20_000, 'staging at 10 % on green');
    const running = (await h.app.store.get(requested.id)) as Deployment;
    // What `/rollback` records: the intent on the deployment, then a wake-up of its job.
    const intent = { by: PEOPLE.releaseManager, at: Date.now(), reason: 'errors in staging' };
    expect((await h.app.store.requestRollback(running, intent)).won).toBe(true);
    await h.app.queue.wake(running.id);

    const done = await finished(h, running.id);
    expect(done).toMatchObject({ phase: 'rolled-back', environment: 'staging' });
    expect(staging.weights()).toEqual({ blue: 100, green: 0 });
    const modifies = callsTo(production.elbv2.calls, staging.listenerArn).filter((c) => c.action === 'ModifyListener');
    expect(modifies.length).toBeGreaterThanOrEqual(2);
    expect(modifies.at(-1)?.signedBy?.accessKeyId).toBe(staging.sts.assumed.at(-1)?.accessKeyId);
    expect(production.elbv2.changes.every((change) => change.arn === staging.listenerArn)).toBe(true);
    expect(production.kubernetes.requests).toEqual([]);
    expect(production.weights()).toEqual({ blue: 100, green: 0 });
  });

  it('credentials about to expire are renewed from STS during a deployment, and every call is signed with unexpired ones', async () => {
    // Issued for 301 s: inside the SDK's 5-minute refresh window one second after issue.
    h = await startHarness({ staging: { stsExpiresInSeconds: 301 }, bakeSeconds: 2 });
    const staging = h.sandbox.staging as StagingSandbox;

    const done = await finished(h, (await requestIn(h, 'staging', 'v1.5.0')).id);
    expect(done.phase).toBe('succeeded');
    expect(staging.sts.assumed.length).toBeGreaterThanOrEqual(2);
    const calls = callsTo(h.sandbox.elbv2.calls, staging.listenerArn);
    const used = new Set(calls.map((c) => c.signedBy?.accessKeyId));
    expect(used.size).toBeGreaterThanOrEqual(2);
    for (const call of calls) {
      const credentials = staging.sts.assumed.find((a) => a.accessKeyId === call.signedBy?.accessKeyId);
      expect(credentials, 'every call is signed with credentials STS issued').toBeDefined();
      expect(call.at).toBeGreaterThanOrEqual(credentials?.at ?? Infinity);
      expect(call.at).toBeLessThan(credentials?.expiration.getTime() ?? 0);
    }
  });
});
