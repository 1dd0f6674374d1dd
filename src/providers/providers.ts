import { ConfigInvalid } from '../errors.js';
import type { ChatProvider } from './chat/chat.js';
import type { DeployRecordsProvider } from './deploy-records/deploy-records.js';
import type { HealthProvider } from './health/health.js';
import type { MetricsProvider } from './metrics/metrics.js';
import type { PagingProvider } from './paging/paging.js';
import type { SourceControlProvider } from './source-control/source-control.js';
import type { TrafficProvider } from './traffic/traffic.js';
import type { WorkloadProvider } from './workload/workload.js';

/** The providers whose calls reach one environment's cluster and AWS account. */
export interface EnvironmentProviders {
  traffic: TrafficProvider;
  workload: WorkloadProvider;
}

/** One provider of each kind, as the worker uses them. */
export interface Providers extends EnvironmentProviders {
  health: HealthProvider;
  chat: ChatProvider;
  metrics?: MetricsProvider;
  /** PagerDuty, when a routing key or an API token is configured; pages go to Slack either way. */
  paging?: PagingProvider;
  /** GitHub, when GITHUB_TOKEN is set: commit lists and GitHub deployments. */
  sourceControl?: SourceControlProvider;
  /** Datadog, when DD_API_KEY is set: deploy markers (events) and DORA deployments and failures. */
  deployRecords?: DeployRecordsProvider;
  /**
   * Each environment's own traffic and workload providers, when the catalog names environments.
   * Without it, `traffic` and `workload` above serve every deployment (a catalog with one
   * environment).
   */
  environments?: ReadonlyMap<string, EnvironmentProviders>;
}

/**
 * The providers a deployment to `environment` acts through. An environment without providers
 * of its own is an error rather than a fall-back: a staging deployment must never reach
 * production's cluster or load balancer.
 */
export function providersIn(providers: Providers, environment: string): Providers {
  if (!providers.environments) return providers;
  const own = providers.environments.get(environment);
  if (!own)
    throw new ConfigInvalid(
      `no Kubernetes or ALB client for environment ${environment} (built for: ${[...providers.environments.keys()].join(', ')})`,
    );
  return { ...providers, ...own };
}
