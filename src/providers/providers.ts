import type { ChatProvider } from './chat/chat.js';
import type { HealthProvider } from './health/health.js';
import type { MetricsProvider } from './metrics/metrics.js';
import type { TrafficProvider } from './traffic/traffic.js';
import type { WorkloadProvider } from './workload/workload.js';

/** One provider of each kind, as the worker uses them. */
export interface Providers {
  traffic: TrafficProvider;
  workload: WorkloadProvider;
  health: HealthProvider;
  chat: ChatProvider;
  metrics?: MetricsProvider;
}
