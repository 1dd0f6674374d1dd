import type { ElasticLoadBalancingV2ClientConfig } from '@aws-sdk/client-elastic-load-balancing-v2';
import { KubeConfig } from '@kubernetes/client-node';
import { WebClient } from '@slack/web-api';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { ConfigInvalid } from '../errors.js';
import { SlackChat } from '../providers/chat/slack.js';
import { DatadogDeployRecords } from '../providers/deploy-records/datadog.js';
import { HttpHealth } from '../providers/health/http.js';
import { datadogMetricsFromEnv } from '../providers/metrics/datadog.js';
import { pagerDutyPagingFromEnv, serviceRoutingKeys } from '../providers/paging/pagerduty.js';
import type { EnvironmentProviders, Providers } from '../providers/providers.js';
import { GitHubSourceControl } from '../providers/source-control/github.js';
import { AlbTraffic } from '../providers/traffic/alb.js';
import { AlbClients, type AlbClientsOptions } from '../providers/traffic/alb-clients.js';
import { kubeConfigsFor } from '../providers/workload/kube-configs.js';
import { KubernetesWorkload } from '../providers/workload/kubernetes.js';
import type { Catalog } from '../runbook/catalog.js';
import { defaultEnvironmentOf, environmentsOf } from '../runbook/environments.js';
import { boltLogger } from './bolt-logger.js';

/**
 * The SDK-backed adapters, only ever loaded by a process that runs the worker: `bootstrap.ts`
 * imports this module with `import()`, so a bot-only process never loads the AWS, Kubernetes
 * or Datadog client.
 */

/** Per-request deadlines of each adapter; the defaults are production's. */
export interface ProviderTimeouts {
  /** Slack Web API calls (default 15 s). */
  slackMs?: number;
  /** Datadog queries (the adapter's default, 10 s). */
  datadogMs?: number;
  /** ELB API calls, the SDK's retries included (the adapter's default, 15 s). */
  albMs?: number;
  /** Kubernetes API requests (the adapter's default, 10 s). */
  kubernetesMs?: number;
  /** PagerDuty calls (the adapter's default, 10 s). */
  pagerDutyMs?: number;
  /** GitHub API calls (the adapter's default, 10 s). */
  githubMs?: number;
}

export interface ProviderOptions {
  /**
   * Where the AWS and Kubernetes settings are read (`AWS_REGION`, `AWS_ACCESS_KEY_ID`,
   * `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2`,
   * `AWS_ENDPOINT_URL`, `KUBECONFIG`); `process.env` by default. Whatever is not set there is
   * left to each SDK's own chain (shared AWS config files, instance roles, ~/.kube/config,
   * in-cluster service account).
   */
  env?: Readonly<Record<string, string | undefined>>;
  timeouts?: ProviderTimeouts;
  /**
   * The catalog: the services' own PagerDuty routing keys, and the `environments` that get a
   * Kubernetes client (their `kubeContext`) and an ELBv2 client (their `aws.region` and
   * `aws.roleArn`) each. Without environments, one of each.
   */
  catalog?: Parameters<typeof serviceRoutingKeys>[0] & Partial<Pick<Catalog, 'environments' | 'defaultEnvironment'>>;
}

const set = (value: string | undefined): string | undefined =>
  value === undefined || value === '' ? undefined : value;

/** The ELBv2 client's settings: what the environment names, the SDK's chain for the rest. */
export function elbv2ClientConfig(env: ProviderOptions['env'] = process.env): ElasticLoadBalancingV2ClientConfig {
  const region = set(env.AWS_REGION) ?? set(env.AWS_DEFAULT_REGION);
  const endpoint = set(env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2) ?? set(env.AWS_ENDPOINT_URL);
  const accessKeyId = set(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = set(env.AWS_SECRET_ACCESS_KEY);
  const sessionToken = set(env.AWS_SESSION_TOKEN);
  return {
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(accessKeyId && secretAccessKey
      ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } }
      : {}),
  };
}

/**
 * The STS client that assumes the environments' roles: signed with the static keys the
 * environment names (else the SDK's default chain), at `AWS_ENDPOINT_URL_STS` or
 * `AWS_ENDPOINT_URL` when set. Read from `env` rather than left to the SDK, which would read
 * `process.env`.
 */
export function stsClientConfig(env: ProviderOptions['env'] = process.env): AlbClientsOptions['stsConfig'] {
  const endpoint = set(env.AWS_ENDPOINT_URL_STS) ?? set(env.AWS_ENDPOINT_URL);
  const { credentials } = elbv2ClientConfig(env);
  return { ...(endpoint ? { endpoint } : {}), ...(credentials ? { credentials } : {}) };
}

/** Where the in-cluster service account's token is mounted (the Kubernetes client reads it from here). */
export const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * KUBECONFIG (one file or several, merged as the client's `loadFromDefault` merges them), else
 * `~/.kube/config`, else the in-cluster service account. Unlike `loadFromDefault`, which falls
 * back to an unauthenticated `http://localhost:8080`, nothing found is an error, and so is a
 * configuration without a usable current context: a worker must not deploy to a guessed cluster.
 */
export function kubeConfigFrom(env: ProviderOptions['env'] = process.env): KubeConfig {
  const kubeConfig = new KubeConfig();
  const files = (set(env.KUBECONFIG) ?? '').split(delimiter).filter(Boolean);
  const home = join(set(env.HOME) ?? homedir(), '.kube', 'config');
  const load = (into: KubeConfig, file: string, named: string) => {
    try {
      into.loadFromFile(file);
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new ConfigInvalid(`${named} ${file} cannot be loaded as a kubeconfig: ${reason}`);
    }
  };
  let source: string;
  const [first, ...rest] = files;
  if (first) {
    source = `KUBECONFIG (${files.join(delimiter)})`;
    load(kubeConfig, first, 'KUBECONFIG names');
    for (const file of rest) {
      const more = new KubeConfig();
      load(more, file, 'KUBECONFIG names');
      kubeConfig.mergeConfig(more);
    }
  } else if (existsSync(home)) {
    source = home;
    load(kubeConfig, home, 'the default kubeconfig');
  } else if (set(env.KUBERNETES_SERVICE_HOST) && existsSync(SERVICE_ACCOUNT_TOKEN)) {
    source = 'the in-cluster service account';
    kubeConfig.loadFromCluster();
  } else {
    throw new ConfigInvalid(
      `no Kubernetes configuration: KUBECONFIG is not set, ${home} does not exist and this is not a pod with a` +
        ` service account token; set KUBECONFIG to a kubeconfig file`,
    );
  }
  const current = kubeConfig.getCurrentContext();
  if (!current || !kubeConfig.getCurrentCluster()) {
    const contexts = kubeConfig.getContexts().map((context) => context.name);
    throw new ConfigInvalid(
      `${source} has no usable current context` +
        (current ? ` ("${current}" names no cluster it holds)` : ' (current-context is not set)') +
        `: set current-context to one of its contexts (${contexts.length > 0 ? contexts.join(', ') : 'none'})`,
    );
  }
  return kubeConfig;
}

/**
 * The real adapters, configured from the environment: Slack from `SLACK_BOT_TOKEN` and
 * `SLACK_API_URL`, Datadog from `DD_API_KEY`, `DD_APP_KEY`, `DD_SITE` and `DATADOG_API_URL`
 * (no metrics provider without keys), the ELB API and Kubernetes as above. Production and the
 * sandbox both build theirs here.
 */
export function buildProviders(config: Config, log: Logger, options: ProviderOptions = {}): Providers {
  const env = options.env ?? process.env;
  const timeouts = options.timeouts ?? {};
  const perEnvironment = options.catalog?.environments
    ? environmentProviders(options.catalog, env, timeouts)
    : undefined;
  return {
    ...(perEnvironment ?? {
      traffic: new AlbTraffic(elbv2ClientConfig(env), { timeoutMs: timeouts.albMs }),
      workload: new KubernetesWorkload(kubeConfigFrom(env), { timeoutMs: timeouts.kubernetesMs }),
    }),
    health: new HttpHealth(),
    // The outbox retries (after looking for an earlier attempt) and honours Retry-After itself.
    chat: new SlackChat(
      new WebClient(config.SLACK_BOT_TOKEN, {
        ...(config.SLACK_API_URL ? { slackApiUrl: config.SLACK_API_URL } : {}),
        rejectRateLimitedCalls: true,
        retryConfig: { retries: 0 },
        timeout: timeouts.slackMs ?? 15_000,
        logger: boltLogger(log, 'web-api'),
      }),
    ),
    metrics:
      config.DD_API_KEY || config.DD_APP_KEY
        ? datadogMetricsFromEnv({
            apiKey: config.DD_API_KEY,
            appKey: config.DD_APP_KEY,
            site: config.DD_SITE,
            apiUrl: config.DATADOG_API_URL,
            timeoutMs: timeouts.datadogMs,
          })
        : undefined,
    paging: pagerDutyPagingFromEnv({
      routingKey: config.PAGERDUTY_ROUTING_KEY,
      serviceRoutingKeys: options.catalog ? serviceRoutingKeys(options.catalog) : {},
      apiToken: config.PAGERDUTY_API_TOKEN,
      eventsUrl: config.PAGERDUTY_EVENTS_URL,
      apiUrl: config.PAGERDUTY_API_URL,
      timeoutMs: timeouts.pagerDutyMs,
    }),
    ...(config.DD_API_KEY
      ? {
          deployRecords: new DatadogDeployRecords({
            apiKey: config.DD_API_KEY,
            appKey: config.DD_APP_KEY,
            site: config.DD_SITE,
            apiUrl: config.DATADOG_API_URL,
            timeoutMs: timeouts.datadogMs,
          }),
        }
      : {}),
    // GitHub only with a token: deployments need one, and without it nothing is read either.
    ...(config.GITHUB_TOKEN
      ? {
          sourceControl: new GitHubSourceControl({
            token: config.GITHUB_TOKEN,
            apiUrl: config.GITHUB_API_URL,
            timeoutMs: timeouts.githubMs,
          }),
        }
      : {}),
  };
}

/**
 * A Kubernetes client per environment on its `kubeContext` (a context KUBECONFIG lacks throws
 * KubeContextMissing, naming both) and an ELBv2 client per environment for its region and
 * assumed role, each built once: every deployment to that environment reuses them. Environments
 * that name the same context, or no AWS account of their own, share a client.
 */
function environmentProviders(
  catalog: Pick<Catalog, 'environments' | 'defaultEnvironment'>,
  env: NonNullable<ProviderOptions['env']>,
  timeouts: ProviderTimeouts,
): EnvironmentProviders & { environments: ReadonlyMap<string, EnvironmentProviders> } {
  const environments = environmentsOf(catalog);
  const kubeConfigs = kubeConfigsFor(environments, kubeConfigFrom(env));
  const albClients = new AlbClients(environments, {
    clientConfig: elbv2ClientConfig(env),
    stsConfig: stsClientConfig(env),
    traffic: { timeoutMs: timeouts.albMs },
  });
  const workloads = new Map<KubeConfig, KubernetesWorkload>();
  const byEnvironment = new Map<string, EnvironmentProviders>();
  for (const { name } of environments) {
    const kubeConfig = kubeConfigs.get(name) as KubeConfig;
    let workload = workloads.get(kubeConfig);
    if (!workload) {
      workload = new KubernetesWorkload(kubeConfig, { timeoutMs: timeouts.kubernetesMs });
      workloads.set(kubeConfig, workload);
    }
    byEnvironment.set(name, { traffic: albClients.trafficFor(name), workload });
  }
  // The catalog check makes the default environment one of its environments.
  const fallback = byEnvironment.get(defaultEnvironmentOf(catalog)) as EnvironmentProviders;
  return { ...fallback, environments: byEnvironment };
}
