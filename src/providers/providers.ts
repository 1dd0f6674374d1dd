import type { ChatProvider } from './chat/chat.js';
import type { HealthProvider } from './health/health.js';
import type { MetricsProvider } from './metrics/metrics.js';
import type { PagingProvider } from './paging/paging.js';
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
}
