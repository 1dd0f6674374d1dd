import type { FiringMonitor, Measurement } from '../../domain/gates.js';

/** Reads the metrics and monitors that gate a deployment. */
export interface MetricsProvider {
  /** The last point of `query` over the recent window ending at `now` (ms). */
  query(query: string, now: number): Promise<Measurement>;
  /** Monitors with all of `tags` whose priority is in `priorities` and that are in Alert state. */
  firingMonitors(tags: string[], priorities: number[]): Promise<FiringMonitor[]>;
}
