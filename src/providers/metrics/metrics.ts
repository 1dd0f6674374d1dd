/** A metric query's latest value, or why there is none. Failed queries are data, not exceptions. */
export type Measurement =
  { query: string; value: number; at: number } | { query: string; value?: undefined; error: string };

export interface FiringMonitor {
  id: number;
  name: string;
  priority?: number;
  state: string;
}

/** Reads the metrics and monitors that gate a deployment. */
export interface MetricsProvider {
  /** The last point of `query` over the recent window ending at `now` (ms). */
  query(query: string, now: number): Promise<Measurement>;
  /** Monitors with all of `tags` whose priority is in `priorities` and that are in Alert state. */
  firingMonitors(tags: string[], priorities: number[]): Promise<FiringMonitor[]>;
}
