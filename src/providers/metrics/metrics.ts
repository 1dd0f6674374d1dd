import type { FiringMonitor, Measurement } from '../../domain/gates.js';

/** Reads the metrics, monitors, logs and SLOs that gate a deployment. None of the reads throws but firingMonitors. */
export interface MetricsProvider {
  /** The last point of `query` over the recent window ending at `now` (ms). */
  query(query: string, now: number): Promise<Measurement>;
  /** Monitors with all of `tags` whose priority is in `priorities` and that are in Alert state. */
  /** How many logs match `query` over the `windowSeconds` ending at `now` (ms). */
  countLogs(query: string, windowSeconds: number, now: number): Promise<Measurement>;
  /** The SLO's error budget remaining (percent) over its first threshold's timeframe, ending at `now` (ms). */
  sloBudgetRemaining(id: string, now: number): Promise<Measurement>;
  firingMonitors(tags: string[], priorities: number[]): Promise<FiringMonitor[]>;
}
