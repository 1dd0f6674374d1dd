/**
 * Gate evaluation, after Argo Rollouts' analysis: each run is pass, breach or inconclusive;
 * breaches beyond `failureLimit` roll back, `inconclusiveLimit` inconclusive runs in a row pause.
 * Pure: measurements and the time are handed in.
 */

export type GateOutcome = 'pass' | 'breach' | 'inconclusive';

/** A metric query's latest value, or why there is none. Failed queries are data, not exceptions. */
export type Measurement =
  { query: string; value: number; at: number } | { query: string; value?: undefined; error: string };

export interface FiringMonitor {
  id: number;
  name: string;
  priority?: number;
  state: string;
}

/** One metric gate: a query and the bounds its value must hold, absolute or against the live colour's. */
export interface MetricGate {
  name: string;
  query: string;
  max?: number;
  min?: number;
  maxOverBaseline?: { ratio?: number; delta?: number };
}

/** At most `max` logs match `query` over the last `windowSeconds` (e.g. new ERROR logs of the new version). */
export interface LogGate {
  name: string;
  query: string;
  max: number;
  windowSeconds: number;
}

/** The SLO's remaining error budget (percent, over its first threshold's timeframe) stays at least `minBudgetRemaining`. */
export interface SloGate {
  name: string;
  id: string;
  minBudgetRemaining: number;
}

/** The gates of one deployment: how often they run, how much they tolerate, what they read. */
export interface GateConfig extends GateLimits {
  intervalSeconds: number;
  metrics: MetricGate[];
  logs?: LogGate[];
  slos?: SloGate[];
  monitors?: { tags: string[]; priorities: number[] };
}

/** One metric gate's evidence in one run, as posted to Slack. */
export interface Reading {
  name: string;
  /** The query actually run, `{color}` substituted. */
  query: string;
  /** Human form of the bound, e.g. `≤ 0.8` or `≤ baseline × 1.1`. */
  threshold: string;
  value?: number;
  baseline?: number;
  baselineQuery?: string;
  outcome: GateOutcome;
  /** Why the reading is inconclusive. */
  error?: string;
}

export interface GateRun {
  at: number;
  outcome: GateOutcome;
  readings: Reading[];
  firingMonitors: FiringMonitor[];
  /** The monitors could not be read; the run is inconclusive unless something breached. */
  monitorError?: string;
}

export interface GateTally {
  consecutiveInconclusive: number;
  breaches: number;
}

export interface GateLimits {
  failureLimit: number;
  inconclusiveLimit: number;
}

export type GateVerdict = 'continue' | 'rollback' | 'pause';

export const EMPTY_TALLY: GateTally = Object.freeze({ consecutiveInconclusive: 0, breaches: 0 });

export const isRelative = (gate: MetricGate): boolean => gate.maxOverBaseline !== undefined;

export const substituteColor = (query: string, color: string): string => query.replaceAll('{color}', color);

export const substituteVersion = (query: string, version: string): string => query.replaceAll('{version}', version);

/** True when the gates read anything at all. */
export const hasAnyGate = (gates: Pick<GateConfig, 'metrics' | 'logs' | 'slos' | 'monitors'>): boolean =>
  gates.metrics.length > 0 || (gates.logs?.length ?? 0) > 0 || (gates.slos?.length ?? 0) > 0 || !!gates.monitors;

/** Short, stable rendering of numbers for Slack; units are whatever the query returns. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n === 0 || Math.abs(n) >= 1) return String(Math.round(n * 1000) / 1000);
  return String(Number(n.toPrecision(3)));
}

/** Every bound of a gate, in words; also what a dry-run plan shows. */
export function thresholdOf(gate: MetricGate): string {
  const parts: string[] = [];
  if (gate.min !== undefined) parts.push(`≥ ${formatNumber(gate.min)}`);
  if (gate.max !== undefined) parts.push(`≤ ${formatNumber(gate.max)}`);
  if (gate.maxOverBaseline?.ratio !== undefined) parts.push(`≤ baseline × ${formatNumber(gate.maxOverBaseline.ratio)}`);
  if (gate.maxOverBaseline?.delta !== undefined) parts.push(`≤ baseline + ${formatNumber(gate.maxOverBaseline.delta)}`);
  return parts.join(' and ');
}

/**
 * A gate passes when every bound it sets holds; with both `ratio` and `delta`, both must hold.
 * A missing measurement (or baseline, for a relative gate) makes the reading inconclusive:
 * no data is not evidence of health, nor of a breach.
 */
export function evaluateMetric(gate: MetricGate, measurement: Measurement, baselineMeasurement?: Measurement): Reading {
  const reading: Reading = {
    name: gate.name,
    query: measurement.query,
    threshold: thresholdOf(gate),
    outcome: 'inconclusive',
  };
  const relative = gate.maxOverBaseline;
  if (relative) reading.baselineQuery = baselineMeasurement?.query;
  if (Number.isFinite(measurement.value)) reading.value = measurement.value;
  if (Number.isFinite(baselineMeasurement?.value)) reading.baseline = baselineMeasurement?.value;

  if (measurement.value === undefined || !Number.isFinite(measurement.value)) {
    return { ...reading, error: measurement.value === undefined ? measurement.error : 'not a number' };
  }
  if (relative && (baselineMeasurement?.value === undefined || !Number.isFinite(baselineMeasurement.value))) {
    const why =
      baselineMeasurement === undefined
        ? 'not measured'
        : baselineMeasurement.value === undefined
          ? baselineMeasurement.error
          : 'not a number';
    return { ...reading, error: `baseline: ${why}` };
  }

  const value = measurement.value;
  const baseline = baselineMeasurement?.value ?? 0;
  const holds = [
    gate.max === undefined || atMost(value, gate.max),
    gate.min === undefined || atMost(gate.min, value),
    relative?.ratio === undefined || atMost(value, baseline * relative.ratio),
    relative?.delta === undefined || atMost(value, baseline + relative.delta),
  ].every(Boolean);
  return { ...reading, outcome: holds ? 'pass' : 'breach' };
}

/** A log gate's reading: the count of matching logs over its window against its `max`. */
export const evaluateLogCount = (gate: LogGate, measurement: Measurement): Reading => ({
  ...evaluateMetric({ name: gate.name, query: gate.query, max: gate.max }, measurement),
  threshold: `≤ ${formatNumber(gate.max)} logs in ${gate.windowSeconds}s`,
});

/** An SLO gate's reading: the remaining error budget (percent) against `minBudgetRemaining`. */
export const evaluateSloBudget = (gate: SloGate, measurement: Measurement): Reading => ({
  ...evaluateMetric({ name: gate.name, query: measurement.query, min: gate.minBudgetRemaining }, measurement),
  threshold: `≥ ${formatNumber(gate.minBudgetRemaining)}% error budget remaining`,
});

/** `a ≤ b`, forgiving float noise so that 0.9 is within 0.3 × 3 (0.8999999999999999). */
const atMost = (a: number, b: number): boolean => a <= b + Math.max(Math.abs(a), Math.abs(b)) * 1e-12;

/** One run's outcome: a breach or a firing monitor wins over inconclusive, which wins over pass. */
export function combineRun(
  readings: Reading[],
  firingMonitors: FiringMonitor[],
  at: number,
  monitorError?: string,
): GateRun {
  const outcome: GateOutcome =
    firingMonitors.length > 0 || readings.some((r) => r.outcome === 'breach')
      ? 'breach'
      : monitorError !== undefined || readings.some((r) => r.outcome === 'inconclusive')
        ? 'inconclusive'
        : 'pass';
  return { at, outcome, readings, firingMonitors, ...(monitorError !== undefined ? { monitorError } : {}) };
}

/**
 * Counts a run. Breaches accumulate (Argo's failureLimit: more than the limit fails the analysis);
 * inconclusive runs count only in a row, so any conclusive run — pass or breach — ends the row.
 */
export function tally(
  prev: GateTally,
  run: Pick<GateRun, 'outcome'>,
  limits: GateLimits,
): { tally: GateTally; verdict: GateVerdict } {
  if (run.outcome === 'breach') {
    const next = { consecutiveInconclusive: 0, breaches: prev.breaches + 1 };
    return { tally: next, verdict: next.breaches > limits.failureLimit ? 'rollback' : 'continue' };
  }
  if (run.outcome === 'inconclusive') {
    const next = { consecutiveInconclusive: prev.consecutiveInconclusive + 1, breaches: prev.breaches };
    return { tally: next, verdict: next.consecutiveInconclusive >= limits.inconclusiveLimit ? 'pause' : 'continue' };
  }
  return { tally: { consecutiveInconclusive: 0, breaches: prev.breaches }, verdict: 'continue' };
}

/** `p99 latency: 1.2 (≤ 0.8) — breach`; `p95 vs baseline: 0.42 vs baseline 0.4 (≤ baseline × 1.1) — pass`. */
export function describeReading(r: Reading): string {
  const observed = r.value !== undefined ? formatNumber(r.value) : (r.error ?? 'no value');
  // With a value in hand, an error can only be the baseline's (`baseline: no data`).
  const against =
    r.baseline !== undefined
      ? ` vs baseline ${formatNumber(r.baseline)}`
      : r.value !== undefined && r.error
        ? ` vs ${r.error}`
        : '';
  return `${r.name}: ${observed}${against} (${r.threshold}) — ${r.outcome}`;
}

/**
 * A gate run in words, one line per reading and firing monitor. As `evidence` (what the thread
 * and the rollback message show when the gates change a deployment's course): only what did not
 * pass, as bullets, each with the query run (and the baseline's).
 */
export const describeRun = (run: GateRun, options: { evidence?: boolean } = {}): string[] => {
  const bullet = options.evidence ? '• ' : '';
  const readings = options.evidence ? run.readings.filter((r) => r.outcome !== 'pass') : run.readings;
  const queries = (r: Reading): string =>
    options.evidence ? ` · \`${r.query}\`${r.baselineQuery ? ` vs \`${r.baselineQuery}\`` : ''}` : '';
  return [
    ...readings.map((r) => `${bullet}${describeReading(r)}${queries(r)}`),
    ...run.firingMonitors.map(
      (m) => `${bullet}monitor firing: ${m.name}${m.priority !== undefined ? ` (P${m.priority})` : ''} — breach`,
    ),
    ...(run.monitorError !== undefined ? [`${bullet}monitors: ${run.monitorError} — inconclusive`] : []),
  ];
};
