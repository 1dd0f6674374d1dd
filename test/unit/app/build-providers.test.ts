import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProviders, elbv2ClientConfig, kubeConfigFrom } from '../../../src/app/build-providers.js';
import { loadConfig } from '../../../src/config.js';
import { KubeContextMissing } from '../../../src/errors.js';
import { createLogger } from '../../../src/logger.js';
import { providersIn } from '../../../src/providers/providers.js';
import { parseCatalog } from '../../../src/runbook/catalog.js';
import { specCatalogInput } from '../fixtures.js';

const kubeconfig = (cluster: string, server: string) => `apiVersion: v1
kind: Config
clusters: [{ name: ${cluster}, cluster: { server: '${server}' } }]
users: [{ name: ${cluster}-user, user: { token: t-${cluster} } }]
contexts: [{ name: ${cluster}, context: { cluster: ${cluster}, user: ${cluster}-user } }]
current-context: ${cluster}
`;

describe('buildProviders reads its endpoints from the environment it is given', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-providers-'));
    await writeFile(join(dir, 'a.yaml'), kubeconfig('a', 'http://127.0.0.1:1'));
    await writeFile(join(dir, 'b.yaml'), kubeconfig('b', 'http://127.0.0.1:2'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('gives the ELB client the dedicated endpoint over AWS_ENDPOINT_URL, and static keys only as a pair', () => {
    expect(
      elbv2ClientConfig({
        AWS_REGION: 'eu-west-1',
        AWS_ENDPOINT_URL: 'http://general:1',
        AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: 'http://elb:2',
        AWS_ACCESS_KEY_ID: 'AKIA',
        AWS_SECRET_ACCESS_KEY: 'secret',
        AWS_SESSION_TOKEN: 'session',
      }),
    ).toEqual({
      region: 'eu-west-1',
      endpoint: 'http://elb:2',
      credentials: { accessKeyId: 'AKIA', secretAccessKey: 'secret', sessionToken: 'session' },
    });
    expect(elbv2ClientConfig({ AWS_ENDPOINT_URL: 'http://general:1', AWS_ACCESS_KEY_ID: 'AKIA' })).toEqual({
      endpoint: 'http://general:1',
    });
    // Nothing set: the SDK's own chain (profiles, instance roles) decides.
    expect(elbv2ClientConfig({})).toEqual({});
  });

  it('loads KUBECONFIG (several files merged) exactly as the Kubernetes client does from process.env', () => {
    const files = [join(dir, 'a.yaml'), join(dir, 'b.yaml')].join(delimiter);
    const kc = kubeConfigFrom({ KUBECONFIG: files });
    expect(kc.getClusters().map((c) => c.name)).toEqual(['a', 'b']);
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = files;
    try {
      const fromDefault = new KubeConfig();
      fromDefault.loadFromDefault();
      expect(kc.exportConfig()).toEqual(fromDefault.exportConfig());
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  });

  it('builds every adapter, and Datadog and PagerDuty only with keys', () => {
    const env = {
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_SIGNING_SECRET: 'secret',
      KUBECONFIG: join(dir, 'a.yaml'),
      AWS_REGION: 'us-east-1',
    };
    const log = createLogger('silent');
    const without = buildProviders(loadConfig(env), log, { env });
    expect(Object.keys(without).sort()).toEqual(['chat', 'health', 'metrics', 'paging', 'traffic', 'workload']);
    expect(without.metrics).toBeUndefined();
    expect(without.paging).toBeUndefined();
    const withRoutingKey = { ...env, PAGERDUTY_ROUTING_KEY: 'e93facc04764012d7bfb002500d5d1a6' };
    expect(buildProviders(loadConfig(withRoutingKey), log, { env: withRoutingKey }).paging).toBeDefined();
    const catalog = { services: { api: { pagerduty: { routingKey: 'e93facc04764012d7bfb002500d5d1a6' } } } };
    expect(buildProviders(loadConfig(env), log, { env, catalog }).paging).toBeDefined();
    const withKeys = { ...env, DD_API_KEY: 'api', DD_APP_KEY: 'app', DATADOG_API_URL: 'http://127.0.0.1:3' };
    expect(buildProviders(loadConfig(withKeys), log, { env: withKeys }).metrics).toBeDefined();
  });

  it('with environments: a Kubernetes and an ELBv2 client per environment, built once; the default environment’s at the top', () => {
    const env = {
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_SIGNING_SECRET: 'secret',
      KUBECONFIG: [join(dir, 'a.yaml'), join(dir, 'b.yaml')].join(delimiter),
      AWS_REGION: 'us-east-1',
    };
    const input = specCatalogInput();
    input.environments = {
      staging: { kubeContext: 'a', aws: { region: 'us-west-2', roleArn: 'arn:aws:iam::111111111111:role/switchyard' } },
      production: { kubeContext: 'b' },
      dev: {},
    };
    const catalog = parseCatalog(input);
    const log = createLogger('silent');
    const providers = buildProviders(loadConfig(env), log, { env, catalog });
    expect([...(providers.environments?.keys() ?? [])]).toEqual(['staging', 'production', 'dev']);
    const [staging, production, dev] = ['staging', 'production', 'dev'].map((name) => providersIn(providers, name));
    expect(production?.workload).toBe(providers.workload);
    expect(production?.traffic).toBe(providers.traffic);
    expect(staging?.workload).not.toBe(production?.workload);
    expect(staging?.traffic).not.toBe(production?.traffic);
    expect(dev?.workload).not.toBe(staging?.workload);
    // Reused by every deployment to the environment, never rebuilt.
    expect(providersIn(providers, 'staging').workload).toBe(staging?.workload);
    expect(providersIn(providers, 'staging').traffic).toBe(staging?.traffic);
    expect(staging?.chat).toBe(providers.chat);
    expect(() => providersIn(providers, 'qa')).toThrow(
      'no Kubernetes or ALB client for environment qa (built for: staging, production, dev)',
    );

    input.environments.production = { kubeContext: 'c' };
    expect(() => buildProviders(loadConfig(env), log, { env, catalog: parseCatalog(input) })).toThrow(
      KubeContextMissing,
    );
  });
});
