import {
  combineRun,
  evaluateMetric,
  isRelative,
  substituteColor,
  type FiringMonitor,
  type GateConfig,
  type GateRun,
  type MetricGate,
  type Measurement,
  type Reading,
} from '../../domain/gates.js';
import { describeError } from '../../errors.js';
import type { MetricsProvider } from './metrics.js';

/**
 * Runs every gate of a service once: each metric (relative ones on the new and the live colour)
 * and the monitors, all in parallel. Never throws: failures become inconclusive evidence.
 */
export async function runGates(
  metrics: MetricsProvider,
  gates: Pick<GateConfig, 'metrics' | 'monitors'>,
  newColor: string | undefined,
  liveColor: string | undefined,
  now: number,
): Promise<GateRun> {
  const [readings, monitors] = await Promise.all([
    Promise.all(gates.metrics.map((gate) => readGate(metrics, gate, newColor, liveColor, now))),
    checkMonitors(metrics, gates.monitors),
  ]);
  return combineRun(readings, monitors.firing, now, monitors.error);
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
  try {
    return await metrics.query(query, now);
  } catch (error) {
    // The provider contract says query() does not throw; a provider that does still only costs a reading.
    return { query, error: describeError(error) };
  }
}
