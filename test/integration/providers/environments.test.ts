import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KubeContextMissing, ProviderFailed } from '../../../src/errors.js';
import { AlbClients } from '../../../src/providers/traffic/alb-clients.js';
import type { TrafficTarget } from '../../../src/providers/traffic/traffic.js';
import { kubeConfigsFor } from '../../../src/providers/workload/kube-configs.js';
import { parseCatalog } from '../../../src/runbook/catalog.js';
import { environmentsOf } from '../../../src/runbook/environments.js';
import { KubernetesWorkload } from '../../../src/providers/workload/kubernetes.js';
import { startElbv2StandIn, type Elbv2StandIn } from '../../../sandbox/elbv2.js';
import { kubeconfigWithContexts, startKubernetesStandIn, type KubernetesStandIn } from '../../../sandbox/kubernetes.js';
import { startStsStandIn, type StsStandIn } from '../../../sandbox/sts.js';
import { rejection } from '../../support/rejection.js';
import { specCatalogInput } from '../../unit/fixtures.js';

const ROLE = 'arn:aws:iam::111111111111:role/switchyard';
/** The credentials of the SDK's default chain (here: the environment variables). */
const DEFAULT_KEY = 'AKIADEFAULTCHAIN0001';

const target = (env: string, account: string, region: string): TrafficTarget => {
  const prefix = `arn:aws:elasticloadbalancing:${region}:${account}`;
  return {
    listenerArn: `${prefix}:listener/app/acme-${env}/50dc6c495c0c9188/f2f7dc8efc522ab2`,
    targetGroups: {
      blue: `${prefix}:targetgroup/acme-${env}-blue/73e2d6bc24d8a067`,
      green: `${prefix}:targetgroup/acme-${env}-green/2453ed029918f21f`,
    },
  };
};
const staging = target('staging', '111111111111', 'us-west-2');
const production = target('production', '222222222222', 'us-east-1');

/**
 * The SDK's identity cache asks for new credentials once they are within 5 minutes of expiry
 * (`EXPIRATION_MS = 300_000` in @smithy/core's memoizeIdentityProvider, used by the client's
 * SigV4 config): credentials that expire a minute past that window are due again a minute after issue.
 */
const REFRESH_WINDOW_SECONDS = 300;

describe('per-environment ELBv2 clients', () => {
  let sts: StsStandIn;
  let elb: Elbv2StandIn;
  let clients: AlbClients | undefined;

  const environments = [
    { name: 'staging', aws: { region: 'us-west-2', roleArn: ROLE } },
    { name: 'production' },
    { name: 'dev' },
  ];
  const callsOf = (listener: TrafficTarget) =>
    elb.calls.filter((_, i) => elb.requests[i]?.body.includes(encodeURIComponent(listener.listenerArn)));

  beforeEach(async () => {
    sts = await startStsStandIn();
    elb = await startElbv2StandIn();
    for (const t of [staging, production])
      elb.addListener(t.listenerArn, [
        { arn: t.targetGroups.blue, weight: 100 },
        { arn: t.targetGroups.green, weight: 0 },
      ]);
    // As in production: the SDK's own chain, and endpoints from the environment.
    vi.stubEnv('AWS_ACCESS_KEY_ID', DEFAULT_KEY);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'default-chain-secret');
    vi.stubEnv('AWS_SESSION_TOKEN', undefined);
    vi.stubEnv('AWS_PROFILE', undefined);
    vi.stubEnv('AWS_ENDPOINT_URL', undefined);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2', elb.url);
    vi.stubEnv('AWS_ENDPOINT_URL_STS', sts.url);
  });

  afterEach(async () => {
    clients?.destroy();
    clients = undefined;
    vi.unstubAllEnvs();
    await Promise.all([sts.close(), elb.close()]);
  });

  it('each environment reaches its own listener; staging signs with the credentials STS issued for its role', async () => {
    clients = new AlbClients(environments);
    await clients.trafficFor('staging').setWeights(staging, { blue: 90, green: 10 });
    expect(await clients.trafficFor('production').readWeights(production)).toEqual({ blue: 100, green: 0 });

    expect(elb.weightsOf(staging.listenerArn)).toEqual({
      [staging.targetGroups.blue]: 90,
      [staging.targetGroups.green]: 10,
    });
    expect(elb.weightsOf(production.listenerArn)).toEqual({
      [production.targetGroups.blue]: 100,
      [production.targetGroups.green]: 0,
    });

    // One AssumeRole, of staging's role, signed with the default chain's key in staging's region.
    expect(sts.assumed).toHaveLength(1);
    const [issued] = sts.assumed;
    expect(issued).toMatchObject({ roleArn: ROLE, roleSessionName: 'switchyard-staging', durationSeconds: 3600 });
    expect(issued?.signedBy).toMatchObject({ accessKeyId: DEFAULT_KEY, region: 'us-west-2', service: 'sts' });
    expect(issued?.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    const form = new URLSearchParams(sts.requests[0]?.body);
    expect(sts.requests[0]?.headers['content-type']).toContain('application/x-www-form-urlencoded');
    expect(Object.fromEntries(form)).toMatchObject({
      Action: 'AssumeRole',
      Version: '2011-06-15',
      RoleArn: ROLE,
      RoleSessionName: 'switchyard-staging',
      DurationSeconds: '3600',
    });

    const stagingCalls = callsOf(staging);
    expect(stagingCalls.map((c) => c.action)).toEqual(['DescribeListeners', 'ModifyListener']);
    for (const call of stagingCalls)
      expect(call.signedBy).toEqual({
        accessKeyId: issued?.accessKeyId,
        date: expect.stringMatching(/^\d{8}$/),
        region: 'us-west-2',
        service: 'elasticloadbalancing',
        sessionToken: issued?.sessionToken,
      });
    const productionCalls = callsOf(production);
    expect(productionCalls).toHaveLength(1);
    expect(productionCalls[0]?.signedBy).toMatchObject({ accessKeyId: DEFAULT_KEY, region: 'us-east-1' });
    expect(productionCalls[0]?.signedBy?.sessionToken).toBeUndefined();
  });

  it('builds each client once: calls reuse it, and environments without aws share the default one', () => {
    clients = new AlbClients(environments);
    expect(clients.clientFor('staging')).toBe(clients.clientFor('staging'));
    expect(clients.clientFor('production')).toBe(clients.clientFor('dev'));
    expect(clients.clientFor('production')).not.toBe(clients.clientFor('staging'));
    expect(clients.trafficFor('staging')).toBe(clients.trafficFor('staging'));
    expect(() => clients?.clientFor('qa')).toThrow('no AWS configuration for environment qa');
  });

  it('takes the catalog’s environments as they are', async () => {
    const input = specCatalogInput();
    input.environments = { staging: { aws: { region: 'us-west-2', roleArn: ROLE } }, production: {} };
    clients = new AlbClients(environmentsOf(parseCatalog(input)));
    await clients.trafficFor('staging').readWeights(staging);
    await clients.trafficFor('production').readWeights(production);
    expect(sts.assumed.map((a) => a.roleArn)).toEqual([ROLE]);
    expect(callsOf(production)[0]?.signedBy?.accessKeyId).toBe(DEFAULT_KEY);
  });

  it('one AssumeRole serves many ELBv2 calls, concurrent ones included', async () => {
    clients = new AlbClients(environments);
    const traffic = clients.trafficFor('staging');
    await Promise.all(Array.from({ length: 5 }, () => traffic.readWeights(staging)));
    for (let i = 0; i < 10; i += 1) await traffic.readWeights(staging);
    await traffic.setWeights(staging, { blue: 50, green: 50 });
    expect(sts.assumed).toHaveLength(1);
    const keys = new Set(callsOf(staging).map((c) => c.signedBy?.accessKeyId));
    expect(callsOf(staging)).toHaveLength(17);
    expect([...keys]).toEqual([sts.assumed[0]?.accessKeyId]);
  });

  it('asks STS again once the credentials are within the refresh window of expiry, and signs with the new ones', async () => {
    // Only Date is faked, so the SDK's cache and the stand-in see the same clock and sockets run as usual.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      const issuedAt = Date.now();
      sts.setExpiresInSeconds(REFRESH_WINDOW_SECONDS + 60);
      clients = new AlbClients(environments);
      const traffic = clients.trafficFor('staging');
      await traffic.readWeights(staging);
      await traffic.readWeights(staging);
      vi.setSystemTime(issuedAt + 55_000);
      await traffic.readWeights(staging);
      expect(sts.assumed).toHaveLength(1);

      vi.setSystemTime(issuedAt + 61_000);
      await traffic.readWeights(staging);
      await traffic.readWeights(staging);
      expect(sts.assumed).toHaveLength(2);
      const [first, second] = sts.assumed;
      expect(second?.accessKeyId).not.toBe(first?.accessKeyId);
      expect(second?.expiration.getTime()).toBe(issuedAt + 61_000 + (REFRESH_WINDOW_SECONDS + 60) * 1000);
      expect(callsOf(staging).map((c) => c.signedBy?.accessKeyId)).toEqual([
        first?.accessKeyId,
        first?.accessKeyId,
        first?.accessKeyId,
        second?.accessKeyId,
        second?.accessKeyId,
      ]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('credentials really near expiry are renewed on the wall clock too', async () => {
    sts.setExpiresInSeconds(REFRESH_WINDOW_SECONDS + 1);
    clients = new AlbClients(environments);
    await clients.trafficFor('staging').readWeights(staging);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    await clients.trafficFor('staging').readWeights(staging);
    // At least one renewal (a stalled machine may cross the 1 s margin before the first call signs).
    expect(sts.assumed.length).toBeGreaterThanOrEqual(2);
    expect(callsOf(staging).at(-1)?.signedBy?.accessKeyId).toBe(sts.assumed.at(-1)?.accessKeyId);
  });

  it('credentials far from expiry are kept (an hour’s worth: no second AssumeRole)', async () => {
    clients = new AlbClients(environments);
    await clients.trafficFor('staging').readWeights(staging);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await clients.trafficFor('staging').readWeights(staging);
    expect(sts.assumed).toHaveLength(1);
    expect(sts.assumed[0]!.expiration.getTime() - Date.now()).toBeGreaterThan(3500_000);
  });

  it('a role STS refuses: the call fails with AccessDenied, not retriable, and reaches no load balancer', async () => {
    sts.deny(ROLE);
    clients = new AlbClients(environments);
    const error = await rejection(clients.trafficFor('staging').readWeights(staging));
    expect(error).toBeInstanceOf(ProviderFailed);
    expect((error as ProviderFailed).retriable).toBe(false);
    expect((error as Error).message).toContain('is not authorized to perform: sts:AssumeRole');
    expect(callsOf(staging)).toEqual([]);
    // Production, on the default chain, is not affected.
    expect(await clients.trafficFor('production').readWeights(production)).toEqual({ blue: 100, green: 0 });
  });
});

describe('per-environment kube contexts', () => {
  const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/acme-api';
  const ref = { namespace: 'apps', deployment: 'acme-api-green', container: 'api' };
  let stagingCluster: KubernetesStandIn;
  let productionCluster: KubernetesStandIn;
  let dir: string;

  beforeEach(async () => {
    [stagingCluster, productionCluster] = await Promise.all([
      startKubernetesStandIn({ rolloutStepMs: 20 }),
      startKubernetesStandIn({ rolloutStepMs: 20 }),
    ]);
    stagingCluster.addDeployment({
      namespace: 'apps',
      name: 'acme-api-green',
      container: 'api',
      image: `${IMAGE}:staging`,
    });
    productionCluster.addDeployment({
      namespace: 'apps',
      name: 'acme-api-green',
      container: 'api',
      image: `${IMAGE}:prod`,
    });
    dir = await mkdtemp(join(tmpdir(), 'switchyard-kube-'));
    const file = join(dir, 'config');
    await writeFile(file, kubeconfigWithContexts({ staging: stagingCluster, production: productionCluster }));
    vi.stubEnv('KUBECONFIG', file);
  });

  afterEach(async () => {
    vi.unstubAllEnvs();
    await Promise.all([stagingCluster.close(), productionCluster.close(), rm(dir, { recursive: true, force: true })]);
  });

  it('each environment’s context reaches its own cluster; no kubeContext means the current one', async () => {
    const configs = kubeConfigsFor([
      { name: 'staging', kubeContext: 'staging' },
      { name: 'production', kubeContext: 'production' },
      { name: 'dev' },
    ]);
    expect(configs.get('staging')?.getCurrentContext()).toBe('staging');
    expect(configs.get('production')?.getCurrentContext()).toBe('production');
    expect(configs.get('dev')?.getCurrentContext()).toBe('staging');

    const inStaging = new KubernetesWorkload(configs.get('staging') as KubeConfig);
    const inProduction = new KubernetesWorkload(configs.get('production') as KubeConfig);
    expect(await inStaging.readImage(ref)).toBe(`${IMAGE}:staging`);
    expect(await inProduction.readImage(ref)).toBe(`${IMAGE}:prod`);

    await inProduction.setImage(ref, `${IMAGE}:v2`);
    expect(productionCluster.imageOf('apps', 'acme-api-green', 'api')).toBe(`${IMAGE}:v2`);
    expect(stagingCluster.imageOf('apps', 'acme-api-green', 'api')).toBe(`${IMAGE}:staging`);
    expect(stagingCluster.patches).toEqual([]);
  });

  it('takes the catalog’s environments as they are', () => {
    const input = specCatalogInput();
    input.environments = { staging: { kubeContext: 'staging' }, production: { kubeContext: 'production' } };
    const configs = kubeConfigsFor(environmentsOf(parseCatalog(input)));
    expect([...configs].map(([name, kc]) => [name, kc.getCurrentContext()])).toEqual([
      ['staging', 'staging'],
      ['production', 'production'],
    ]);
  });

  it('a context missing from KUBECONFIG: KubeContextMissing naming the environment and the context', () => {
    const error = (() => {
      try {
        kubeConfigsFor([
          { name: 'staging', kubeContext: 'staging' },
          { name: 'qa', kubeContext: 'qa-cluster' },
        ]);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(KubeContextMissing);
    expect(error).toMatchObject({
      code: 'config_invalid',
      environment: 'qa',
      kubeContext: 'qa-cluster',
      available: ['staging', 'production'],
    });
    expect((error as Error).message).toBe(
      'environment qa: kubeContext "qa-cluster" is not a context of KUBECONFIG (contexts: staging, production)',
    );
  });
});
