import type { ChatProvider } from './chat/chat.js';
import type { DeployRecordsProvider } from './deploy-records/deploy-records.js';
import type { HealthProvider } from './health/health.js';
import type { MetricsProvider } from './metrics/metrics.js';
import type { PagingProvider } from './paging/paging.js';
import type { SourceControlProvider } from './source-control/source-control.js';
import type { TrafficProvider } from './traffic/traffic.js';
import type { WorkloadProvider } from './workload/workload.js';

/** One provider of each kind, as the worker uses them. */
export interface Providers {
  traffic: TrafficProvider;
  workload: WorkloadProvider;
  health: HealthProvider;
  chat: ChatProvider;
  metrics?: MetricsProvider;
  /** PagerDuty, when a routing key or an API token is configured; pages go to Slack either way. */
  paging?: PagingProvider;
  /** GitHub, when GITHUB_TOKEN is set: commit lists and GitHub deployments. */
  sourceControl?: SourceControlProvider;
  /** Datadog, when DD_API_KEY is set: deploy markers (events) and DORA deployments and failures. */
  deployRecords?: DeployRecordsProvider;
}
