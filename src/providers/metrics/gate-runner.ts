import {
  combineRun,
  evaluateLogCount,
  evaluateMetric,
  evaluateSloBudget,
  isRelative,
  substituteColor,
  substituteVersion,
  type FiringMonitor,
  type GateConfig,
  type GateRun,
  type LogGate,
  type MetricGate,
  type Measurement,
  type Reading,
  type SloGate,
} from '../../domain/gates.js';
import { describeError } from '../../errors.js';
import type { MetricsProvider } from './metrics.js';

/**
 * Runs every gate of a service once: each metric (relative ones on the new and the live colour),
 * log count and SLO, and the monitors, all in parallel. Never throws: failures become
 * inconclusive evidence.
 */
export async function runGates(
  metrics: MetricsProvider,
  gates: Pick<GateConfig, 'metrics' | 'logs' | 'slos' | 'monitors'>,
  newColor: string | undefined,
  liveColor: string | undefined,
  now: number,
  /** Put in `{version}` of log queries: the version being deployed. */
  version?: string,
): Promise<GateRun> {
  const [readings, logReadings, sloReadings, monitors] = await Promise.all([
    Promise.all(gates.metrics.map((gate) => readGate(metrics, gate, newColor, liveColor, now))),
    Promise.all((gates.logs ?? []).map((gate) => readLogGate(metrics, gate, newColor, version, now))),
    Promise.all((gates.slos ?? []).map((gate) => readSloGate(metrics, gate, now))),
    checkMonitors(metrics, gates.monitors),
  ]);
  return combineRun([...readings, ...logReadings, ...sloReadings], monitors.firing, now, monitors.error);
}

async function readLogGate(
  metrics: MetricsProvider,
  gate: LogGate,
  color: string | undefined,
  version: string | undefined,
  now: number,
): Promise<Reading> {
  const missing = [
    ...(gate.query.includes('{color}') && color === undefined ? ['no colour to put in {color}'] : []),
    ...(gate.query.includes('{version}') && version === undefined ? ['no version to put in {version}'] : []),
  ];
  if (missing.length > 0) return evaluateLogCount(gate, { query: gate.query, error: missing.join('; ') });
  const versioned = version === undefined ? gate.query : substituteVersion(gate.query, version);
  const query = color === undefined ? versioned : substituteColor(versioned, color);
  return evaluateLogCount(gate, await guarded(query, () => metrics.countLogs(query, gate.windowSeconds, now)));
}

async function readSloGate(metrics: MetricsProvider, gate: SloGate, now: number): Promise<Reading> {
  return evaluateSloBudget(gate, await guarded(`SLO ${gate.id}`, () => metrics.sloBudgetRemaining(gate.id, now)));
}

/** The provider contract says reads do not throw; a provider that does still only costs a reading. */
async function guarded(query: string, read: () => Promise<Measurement>): Promise<Measurement> {
  try {
    return await read();
  } catch (error) {
    return { query, error: describeError(error) };
  }
}

async function checkMonitors(
  metrics: MetricsProvider,
  monitors: GateConfig['monitors'],
): Promise<{ firing: FiringMonitor[]; error?: string }> {
  if (!monitors) return { firing: [] };
  try {
    return { firing: await metrics.firingMonitors(monitors.tags, monitors.priorities) };
  } catch (error) {
    return { firing: [], error: describeError(error) };
  }
}

async function readGate(
  metrics: MetricsProvider,
  gate: MetricGate,
  newColor: string | undefined,
  liveColor: string | undefined,
  now: number,
): Promise<Reading> {
  if (!isRelative(gate)) return evaluateMetric(gate, await measure(metrics, gate.query, newColor, now));
  const [measurement, baseline] = await Promise.all([
    measure(metrics, gate.query, newColor, now),
    measure(metrics, gate.query, liveColor, now),
  ]);
  return evaluateMetric(gate, measurement, baseline);
}

async function measure(
  metrics: MetricsProvider,
  template: string,
  color: string | undefined,
  now: number,
): Promise<Measurement> {
  if (template.includes('{color}') && color === undefined)
    return { query: template, error: 'no colour to put in {color}' };
  const query = color === undefined ? template : substituteColor(template, color);
  return guarded(query, () => metrics.query(query, now));
}
