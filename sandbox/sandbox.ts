import type { Logger } from 'pino';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildProviders, type ProviderTimeouts } from '../src/app/build-providers.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import type { Providers } from '../src/providers/providers.js';
import { parseCatalog, type Catalog } from '../src/runbook/catalog.js';
import { startDatadogStandIn, type DatadogStandIn } from './datadog.js';
import { startElbv2StandIn, type Elbv2StandIn } from './elbv2.js';
import { startFleet, type FleetOptions } from './fleet.js';
import { startGitHubStandIn, type GitHubStandIn } from './github.js';
import { kubeconfigWithContexts, startKubernetesStandIn, type KubernetesStandIn } from './kubernetes.js';
import { startPagerDutyStandIn, type PagerDutyStandIn } from './pagerduty.js';
import { startServiceStandIn, type ServiceStandIn } from './service.js';
import { startSlackStandIn, type SlackStandIn } from './slack.js';
import { startStsStandIn, type StsStandIn } from './sts.js';

export const SANDBOX_SIGNING_SECRET = 'sandbox-signing-secret';
export const DD_KEYS = { apiKey: 'sandbox-dd-api-key', appKey: 'sandbox-dd-app-key' };
export const PEOPLE = {
  requester: 'U0DEV1',
  /** A second deployer of acme-api, who did not request the deployment at hand. */
  deployer: 'U0DEV2',
  releaseManager: 'U0RM1',
  otherManager: 'U0RM2',
  outsider: 'U0OUTSIDER',
  /** The on-call user group; `onCallMember` is in it and holds no other role. */
  onCall: 'S0ONCALL',
  onCallMember: 'U0ONCALL1',
};
export const CHANNELS = { deployments: 'C0DEPLOYS', incidents: 'C0INCIDENT', team: 'C0TEAM' };
/**
 * Deadlines of the sandbox's adapters: shorter than production's, so that a test of a stand-in
 * that stops answering does not wait 10-15 s. A process started with `env()` gets production's.
 */
export const SANDBOX_TIMEOUTS: ProviderTimeouts = { slackMs: 5000, datadogMs: 1000 };

const LISTENER =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/acme/50dc6c495c0c9188/f2f7dc8efc522ab2';
const targetGroup = (color: string) =>
  `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/acme-api-${color}/73e2d6bc24d8a067`;
export const SANDBOX_IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/acme-api';
export const INITIAL_VERSION = 'v1.4.1';

/** acme-api's smoke checks against a service answering at `baseUrl` (its `/{color}/…` paths). */
export const acmeSmokeChecks = (baseUrl: string) => [
  {
    name: 'auth token',
    method: 'POST',
    url: `${baseUrl}/{color}/api/v2/auth/token`,
    expectStatus: 200,
    maxLatencyMs: 500,
  },
  {
    name: 'current user',
    method: 'GET',
    url: `${baseUrl}/{color}/api/v2/users/me`,
    expectStatus: 200,
    maxLatencyMs: 500,
  },
];

/** Staging's load balancer lives in another AWS account and region, as it often does. */
const STAGING_LISTENER =
  'arn:aws:elasticloadbalancing:us-west-2:111111111111:listener/app/acme-staging/8e4b1c2d3f5a6b7c/0a1b2c3d4e5f6a7b';
const stagingTargetGroup = (color: string) =>
  `arn:aws:elasticloadbalancing:us-west-2:111111111111:targetgroup/acme-api-staging-${color}/5d6e7f8091a2b3c4`;
/** The role Switchyard assumes in staging's account for its ELBv2 calls. */
export const STAGING_ROLE_ARN = 'arn:aws:iam::111111111111:role/switchyard-deployer';
/** The key of the worker's own identity (the default chain), which signs production's ELBv2 calls and the AssumeRole. */
export const SANDBOX_ACCESS_KEY = 'AKIASANDBOX';

export interface SandboxOptions {
  /** Bake of each stage in seconds (tests use 1-2, the demo a few). */
  bakeSeconds?: number;
  rolloutStepMs?: number;
  /** Changes to the acme-api service entry of the catalog; a function gets the service stand-in's root URL for its health and smoke URLs. */
  service?: Record<string, unknown> | ((serviceUrl: string) => Record<string, unknown>);
  /** Top-level catalog keys (window, approvalTimeoutSeconds, more services…). */
  catalog?: Record<string, unknown>;
  /** Many more services copied from acme-api (its changes included), each with its own listener, Deployments and service stand-in. */
  fleet?: FleetOptions;
  /** Page through the PagerDuty stand-in too (PAGERDUTY_* in the adapters' environment); off by default. */
  pagerduty?: boolean;
  /**
   * Two environments, `staging` and `production`: staging gets a Kubernetes stand-in of its own
   * (kubeconfig context `staging`; production's stand-in is context `production` of the same
   * file), a listener of its own in another AWS account reached with credentials the STS
   * stand-in issues for STAGING_ROLE_ARN, and a service stand-in reporting its versions.
   */
  staging?: boolean | { stsExpiresInSeconds?: number };
}

/** The staging environment's own stand-ins (the ELBv2 stand-in is shared: its listener is another). */
export interface StagingSandbox {
  kubernetes: KubernetesStandIn;
  service: ServiceStandIn;
  sts: StsStandIn;
  listenerArn: string;
  targetGroups: { blue: string; green: string };
  roleArn: string;
  /** Weights staging's listener holds, by colour. */
  weights(): { blue: number; green: number };
}

/** The sandbox's Events API v2 integration key and REST token. */
export const PAGERDUTY_SANDBOX = {
  routingKey: 'R0SANDBOXROUTINGKEY0000000000000',
  apiToken: 'sandbox-pagerduty-token',
};

/** Every stand-in a deployment touches, wired together, plus a catalog that points at them. */
export interface Sandbox {
  slack: SlackStandIn;
  elbv2: Elbv2StandIn;
  kubernetes: KubernetesStandIn;
  datadog: DatadogStandIn;
  pagerduty: PagerDutyStandIn;
  github: GitHubStandIn;
  service: ServiceStandIn;
  listenerArn: string;
  targetGroups: { blue: string; green: string };
  catalog: Catalog;
  catalogYaml: string;
  /** Names of the fleet's services (`svc-001`, …), when one was asked for. */
  fleet: string[];
  /** The staging environment's stand-ins, when asked for (`staging`); `kubernetes`, `service` and `listenerArn` above are production's. */
  staging?: StagingSandbox;
  /**
   * The real adapters, built by production's factory (`buildProviders`) from the sandbox's
   * environment (`providerEnv`), so they reach the stand-ins the way a deployed worker reaches
   * Slack, the ELB API, Kubernetes and Datadog. Web API client lines go to `log` (silent by default).
   */
  providers(options?: { log?: Logger; timeouts?: ProviderTimeouts }): Providers;
  /** What the adapters read: Slack, AWS, KUBECONFIG and Datadog settings pointing at the stand-ins. */
  providerEnv: Record<string, string>;
  /** Environment for a separate bot or worker process (`npm start` reads the same variables). */
  env(redisUrl: string, prefix: string): Promise<Record<string, string>>;
  /** Weights the load balancer holds, by colour. */
  weights(): { blue: number; green: number };
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const slack = await startSlackStandIn();
  slack.setUserGroup(PEOPLE.onCall, [PEOPLE.onCallMember]);
  const elbv2 = await startElbv2StandIn();
  const kubernetes = await startKubernetesStandIn({ rolloutStepMs: options.rolloutStepMs ?? 50 });
  const datadog = await startDatadogStandIn(DD_KEYS);
  const pagerduty = await startPagerDutyStandIn({ apiToken: PAGERDUTY_SANDBOX.apiToken });
  const github = await startGitHubStandIn();
  const tagOf = (deployment: string) => kubernetes.imageOf('prod', deployment, 'api')?.split(':').pop();
  const service = await startServiceStandIn({ versionOf: (color) => tagOf(`acme-api-${color}`) });
  const staging = options.staging
    ? await startStaging(elbv2, options.rolloutStepMs ?? 50, options.staging === true ? {} : options.staging)
    : undefined;

  const targetGroups = { blue: targetGroup('blue'), green: targetGroup('green') };
  elbv2.addListener(LISTENER, [
    { arn: targetGroups.blue, weight: 100 },
    { arn: targetGroups.green, weight: 0 },
  ]);
  for (const color of ['blue', 'green']) {
    kubernetes.addDeployment({
      namespace: 'prod',
      name: `acme-api-${color}`,
      container: 'api',
      image: `${SANDBOX_IMAGE}:${INITIAL_VERSION}`,
      replicas: 2,
    });
  }
  datadog.setMetric(/p99/, 0.35);
  datadog.setMetric(/errors/, 0.001);

  const bake = options.bakeSeconds ?? 1;
  const raw = {
    slack: {
      channel: CHANNELS.deployments,
      incidentsChannel: CHANNELS.incidents,
      releaseManagers: [PEOPLE.releaseManager, PEOPLE.otherManager],
      onCall: PEOPLE.onCall,
    },
    services: {
      'acme-api': {
        strategy: 'blue-green',
        deployers: [PEOPLE.requester, PEOPLE.deployer],
        traffic: { provider: 'alb', listenerArn: LISTENER, targetGroups },
        workload: {
          provider: 'kubernetes',
          namespace: 'prod',
          deployments: { blue: 'acme-api-blue', green: 'acme-api-green' },
          container: 'api',
          image: SANDBOX_IMAGE,
          rolloutTimeoutSeconds: 20,
        },
        health: {
          urls: { blue: service.urlFor('blue'), green: service.urlFor('green') },
          versionField: 'sha',
          timeoutMs: 2000,
        },
        smoke: acmeSmokeChecks(service.url),
        stages: [
          { weight: 10, bakeSeconds: bake },
          { weight: 50, bakeSeconds: bake },
          { weight: 100, bakeSeconds: 0 },
        ],
        gates: { intervalSeconds: 1, failureLimit: 0, inconclusiveLimit: 3, metrics: [] },
        rollbackWindowSeconds: 60,
        monitorSeconds: 0,
        ...(staging ? { environments: { staging: stagingOverrides(staging) } } : {}),
        ...(typeof options.service === 'function' ? options.service(service.url) : options.service),
      },
      ...(options.catalog?.services as Record<string, unknown> | undefined),
    },
    ...(staging
      ? {
          environments: {
            staging: { kubeContext: 'staging', aws: { region: 'us-west-2', roleArn: STAGING_ROLE_ARN } },
            production: { kubeContext: 'production' },
          },
        }
      : {}),
    ...Object.fromEntries(Object.entries(options.catalog ?? {}).filter(([key]) => key !== 'services')),
  };
  const fleet = options.fleet
    ? await startFleet(
        options.fleet,
        {
          name: 'acme-api',
          entry: raw.services['acme-api'],
          listenerArn: LISTENER,
          serviceUrl: service.url,
          namespace: 'prod',
          container: 'api',
          initialVersion: INITIAL_VERSION,
        },
        { elbv2, kubernetes },
      )
    : undefined;
  if (fleet) Object.assign(raw.services, fleet.entries);
  const catalog = parseCatalog(raw);
  const catalogYaml = stringify(raw);
  // The files a separate process (and the Kubernetes client) reads: KUBECONFIG and SERVICES_FILE.
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-sandbox-'));
  await writeFile(
    join(dir, 'kubeconfig.yaml'),
    staging
      ? kubeconfigWithContexts({ production: kubernetes, staging: staging.kubernetes }, 'production')
      : kubernetes.kubeconfigYaml(),
  );
  await writeFile(join(dir, 'services.yaml'), catalogYaml);
  const providerEnv: Record<string, string> = {
    SLACK_BOT_TOKEN: slack.token,
    SLACK_SIGNING_SECRET: SANDBOX_SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    KUBECONFIG: join(dir, 'kubeconfig.yaml'),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: SANDBOX_ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: 'sandbox',
    AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: elbv2.url,
    ...(staging ? { AWS_ENDPOINT_URL_STS: staging.sts.url } : {}),
    DD_API_KEY: DD_KEYS.apiKey,
    DD_APP_KEY: DD_KEYS.appKey,
    DATADOG_API_URL: datadog.url,
    ...(options.pagerduty
      ? {
          PAGERDUTY_ROUTING_KEY: PAGERDUTY_SANDBOX.routingKey,
          PAGERDUTY_API_TOKEN: PAGERDUTY_SANDBOX.apiToken,
          PAGERDUTY_EVENTS_URL: pagerduty.url,
          PAGERDUTY_API_URL: pagerduty.url,
        }
      : {}),
    GITHUB_TOKEN: github.token,
    GITHUB_API_URL: github.url,
  };

  return {
    slack,
    elbv2,
    kubernetes,
    datadog,
    pagerduty,
    github,
    service,
    listenerArn: LISTENER,
    targetGroups,
    catalog,
    catalogYaml,
    fleet: fleet?.names ?? [],
    staging,
    providerEnv,
    providers: ({ log = createLogger('silent'), timeouts = SANDBOX_TIMEOUTS } = {}) =>
      buildProviders(loadConfig(providerEnv), log, { env: providerEnv, timeouts, catalog }),
    async env(redisUrl, prefix) {
      return {
        ...providerEnv,
        REDIS_URL: redisUrl,
        SWITCHYARD_PREFIX: prefix,
        SERVICES_FILE: join(dir, 'services.yaml'),
        // The stand-in has no rate limit of its own; keep Slack lag out of the way of the flows.
        SLACK_CHANNEL_MESSAGES_PER_SECOND: '100',
        ANNOUNCEMENT_UPDATE_MS: '200',
      };
    },
    weights() {
      const held = elbv2.weightsOf(LISTENER);
      return { blue: held[targetGroups.blue] ?? 0, green: held[targetGroups.green] ?? 0 };
    },
    async close() {
      await Promise.all([
        slack.close(),
        elbv2.close(),
        kubernetes.close(),
        datadog.close(),
        pagerduty.close(),
        github.close(),
        service.close(),
        fleet?.close(),
        staging?.kubernetes.close(),
        staging?.service.close(),
        staging?.sts.close(),
      ]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Staging's cluster, service and STS, and its listener on the shared ELBv2 stand-in, at the same initial version as production. */
async function startStaging(
  elbv2: Elbv2StandIn,
  rolloutStepMs: number,
  options: { stsExpiresInSeconds?: number },
): Promise<StagingSandbox> {
  const kubernetes = await startKubernetesStandIn({ rolloutStepMs });
  const service = await startServiceStandIn({
    versionOf: (color) => kubernetes.imageOf('staging', `acme-api-${color}`, 'api')?.split(':').pop(),
  });
  const sts = await startStsStandIn({ expiresInSeconds: options.stsExpiresInSeconds });
  const targetGroups = { blue: stagingTargetGroup('blue'), green: stagingTargetGroup('green') };
  elbv2.addListener(STAGING_LISTENER, [
    { arn: targetGroups.blue, weight: 100 },
    { arn: targetGroups.green, weight: 0 },
  ]);
  for (const color of ['blue', 'green'])
    kubernetes.addDeployment({
      namespace: 'staging',
      name: `acme-api-${color}`,
      container: 'api',
      image: `${SANDBOX_IMAGE}:${INITIAL_VERSION}`,
      replicas: 1,
    });
  return {
    kubernetes,
    service,
    sts,
    listenerArn: STAGING_LISTENER,
    targetGroups,
    roleArn: STAGING_ROLE_ARN,
    weights() {
      const held = elbv2.weightsOf(STAGING_LISTENER);
      return { blue: held[targetGroups.blue] ?? 0, green: held[targetGroups.green] ?? 0 };
    },
  };
}

/** What acme-api's staging differs in: its listener, its namespace, and the URLs of its own service. */
const stagingOverrides = (staging: StagingSandbox): Record<string, unknown> => ({
  traffic: { listenerArn: staging.listenerArn, targetGroups: staging.targetGroups },
  workload: { namespace: 'staging' },
  health: { urls: { blue: staging.service.urlFor('blue'), green: staging.service.urlFor('green') } },
  smoke: [
    { name: 'auth token', method: 'POST', url: `${staging.service.url}/{color}/api/v2/auth/token`, expectStatus: 200 },
  ],
});
