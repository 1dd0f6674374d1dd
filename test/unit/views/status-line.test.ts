import { describe, expect, it } from 'vitest';
import type { StepRecord } from '../../../src/domain/deployment.js';
import type { GateRun } from '../../../src/domain/gates.js';
import { planSteps } from '../../../src/runbook/plan.js';
import { formatReadingValue, statusLine } from '../../../views/status-line.js';
import { deployment, specCatalog, T0 } from '../fixtures.js';

const P99 = 'p99:trace.http.request.duration{service:acme-api,env:prod}';
const ERRORS =
  'sum:trace.http.request.errors{service:acme-api}.as_rate()/sum:trace.http.request.hits{service:acme-api}.as_rate()';

// 0 preflight, 1 deployIdle, 2 health, 3 smoke, 4 setWeight 10, 5 bake, 6 setWeight 50, 7 bake, 8 setWeight 100, 9 monitor, 10 complete
const steps = planSteps(
  { ...specCatalog().services['acme-api']!, hooks: { preDeploy: [], postDeploy: [] } },
  'blue-green',
);
const doneUpTo = (index: number): StepRecord[] =>
  steps.map((_, i) =>
    i < index ? { startedAt: T0 - 1000, endedAt: T0 - 500, outcome: 'ok' } : i === index ? { startedAt: T0 } : {},
  );

const gateRun = (p99: number, errors: number, firing = 0): GateRun => ({
  at: T0,
  outcome: p99 > 0.8 || firing > 0 ? 'breach' : 'pass',
  readings: [
    { name: 'p99', query: P99, threshold: '≤ 0.8', value: p99, outcome: p99 > 0.8 ? 'breach' : 'pass' },
    { name: 'errors', query: ERRORS, threshold: '≤ 0.01', value: errors, outcome: 'pass' },
  ],
  firingMonitors: Array.from({ length: firing }, (_, i) => ({ id: i, name: `m${i}`, priority: 1, state: 'Alert' })),
});

const baking = (run?: GateRun) =>
  deployment({ steps, stepIndex: 7, stepRecords: doneUpTo(7), weights: { blue: 50, green: 50 }, lastGateRun: run });

describe('status line content', () => {
  it('reads like the issue’s example: bar, weight, bake time left, gate readings in their units', () => {
    expect(statusLine(baking(gateRun(0.412, 0.002)), T0 + 108_000)).toBe(
      '▰▰▱ 50% on green · baking 3m12s left · p99 412ms · errors 0.2%',
    );
  });

  it('marks a breaching reading and counts firing monitors', () => {
    expect(statusLine(baking(gateRun(1.25, 0.002, 2)), T0 + 60_000)).toBe(
      '▰▰▱ 50% on green · baking 4m left · p99 1.25s ⚠️ · errors 0.2% · 🔥 2 monitors firing',
    );
  });

  it('a paused deployment gives the reason, escaped', () => {
    const d = deployment({ ...baking(), phase: 'paused', pauseReason: 'gates inconclusive 3 times <!channel>' });
    expect(statusLine(d, T0)).toBe('▰▰▱ 50% on green · ⏸ paused: gates inconclusive 3 times &lt;!channel&gt;');
  });

  it('formats values by what the query measures, and leaves unknown units alone', () => {
    expect(formatReadingValue({ query: P99, value: 0.0504 })).toBe('50ms');
    expect(formatReadingValue({ query: P99, value: 2.5 })).toBe('2.5s');
    expect(formatReadingValue({ query: ERRORS, value: 0.0123 })).toBe('1.2%');
    expect(formatReadingValue({ query: ERRORS, value: 0 })).toBe('0%');
    expect(formatReadingValue({ query: 'avg:kafka.consumer.lag{service:acme-api}', value: 1234.5678 })).toBe(
      '1234.568',
    );
    expect(formatReadingValue({ query: P99, value: undefined })).toBe('n/a');
  });
});

describe('status line and the clock', () => {
  it('moves with the countdown, which is what makes a tick re-send the announcement while baking', () => {
    const d = baking(gateRun(0.412, 0.002));
    expect(statusLine(d, T0 + 1000)).not.toBe(statusLine(d, T0 + 31_000));
  });
});
