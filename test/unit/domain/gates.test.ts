import { describe, expect, it } from 'vitest';
import {
  combineRun,
  describeReading,
  describeRun,
  EMPTY_TALLY,
  evaluateLogCount,
  evaluateMetric,
  evaluateSloBudget,
  formatNumber,
  hasAnyGate,
  substituteColor,
  substituteVersion,
  tally,
  thresholdOf,
  type GateRun,
  type GateTally,
  type Measurement,
  type Reading,
} from '../../../src/domain/gates.js';
import type { MetricGate } from '../../../src/runbook/catalog.js';

const at = 1_700_000_000_000;
const m = (value: number, query = 'q'): Measurement => ({ query, value, at });
const noData = (query = 'q'): Measurement => ({ query, error: 'no data' });
const gate = (g: Partial<MetricGate>): MetricGate => ({ name: 'p99 latency', query: 'q', ...g });
const limits = { failureLimit: 1, inconclusiveLimit: 3 };

describe('evaluateMetric', () => {
  it('max: passes at and under the bound, breaches over it', () => {
    expect(evaluateMetric(gate({ max: 0.8 }), m(0.5)).outcome).toBe('pass');
    expect(evaluateMetric(gate({ max: 0.8 }), m(0.8)).outcome).toBe('pass');
    const r = evaluateMetric(gate({ max: 0.8 }), m(1.2));
    expect(r).toEqual({ name: 'p99 latency', query: 'q', threshold: '≤ 0.8', value: 1.2, outcome: 'breach' });
  });

  it('min: passes at and over the bound, breaches under it', () => {
    expect(evaluateMetric(gate({ min: 0.99 }), m(0.995)).outcome).toBe('pass');
    expect(evaluateMetric(gate({ min: 0.99 }), m(0.99)).outcome).toBe('pass');
    expect(evaluateMetric(gate({ min: 0.99 }), m(0.9)).outcome).toBe('breach');
  });

  it('min and max together: both must hold', () => {
    const g = gate({ min: 1, max: 5 });
    expect(thresholdOf(g)).toBe('≥ 1 and ≤ 5');
    expect(evaluateMetric(g, m(3)).outcome).toBe('pass');
    expect(evaluateMetric(g, m(0)).outcome).toBe('breach');
    expect(evaluateMetric(g, m(6)).outcome).toBe('breach');
  });

  it('ratio over baseline: value ≤ baseline × ratio', () => {
    const g = gate({ name: 'p95 vs baseline', maxOverBaseline: { ratio: 1.1 } });
    const pass = evaluateMetric(g, m(0.42, 'green'), m(0.4, 'blue'));
    expect(pass).toMatchObject({
      outcome: 'pass',
      value: 0.42,
      baseline: 0.4,
      baselineQuery: 'blue',
      threshold: '≤ baseline × 1.1',
    });
    expect(evaluateMetric(g, m(0.44, 'green'), m(0.4, 'blue')).outcome).toBe('pass');
    expect(evaluateMetric(g, m(0.45, 'green'), m(0.4, 'blue')).outcome).toBe('breach');
  });

  it('a value exactly on a computed bound passes despite float rounding', () => {
    expect(evaluateMetric(gate({ maxOverBaseline: { ratio: 3 } }), m(0.9), m(0.3)).outcome).toBe('pass');
    expect(evaluateMetric(gate({ maxOverBaseline: { delta: 0.2 } }), m(0.3), m(0.1)).outcome).toBe('pass');
  });

  it('delta over baseline: value ≤ baseline + delta', () => {
    const g = gate({ maxOverBaseline: { delta: 0.01 } });
    expect(thresholdOf(g)).toBe('≤ baseline + 0.01');
    expect(evaluateMetric(g, m(0.015), m(0.01)).outcome).toBe('pass');
    expect(evaluateMetric(g, m(0.03), m(0.01)).outcome).toBe('breach');
  });

  it('ratio and delta together: both must hold', () => {
    const g = gate({ maxOverBaseline: { ratio: 2, delta: 0.01 } });
    expect(evaluateMetric(g, m(0.015), m(0.01)).outcome).toBe('pass');
    // within delta but not within ratio
    expect(evaluateMetric(g, m(0.0015), m(0.0005)).outcome).toBe('breach');
  });

  it('an absolute bound still applies beside a relative one', () => {
    const g = gate({ max: 1, maxOverBaseline: { ratio: 1.5 } });
    expect(evaluateMetric(g, m(1.2), m(1)).outcome).toBe('breach');
    expect(evaluateMetric(g, m(0.9), m(1)).outcome).toBe('pass');
  });

  it('a measurement without a value is inconclusive and keeps its error', () => {
    const r = evaluateMetric(gate({ max: 0.8 }), noData());
    expect(r).toEqual({
      name: 'p99 latency',
      query: 'q',
      threshold: '≤ 0.8',
      outcome: 'inconclusive',
      error: 'no data',
    });
    expect(evaluateMetric(gate({ max: 0.8 }), { query: 'q', error: '500 Internal Server Error' }).error).toBe(
      '500 Internal Server Error',
    );
  });

  it('a non-finite value is inconclusive', () => {
    expect(evaluateMetric(gate({ max: 0.8 }), m(Number.NaN))).toMatchObject({
      outcome: 'inconclusive',
      error: 'not a number',
    });
  });

  it('a relative gate without a baseline value is inconclusive, whatever the value', () => {
    const g = gate({ maxOverBaseline: { ratio: 1.1 } });
    expect(evaluateMetric(g, m(100), noData('blue'))).toMatchObject({
      outcome: 'inconclusive',
      value: 100,
      error: 'baseline: no data',
      baselineQuery: 'blue',
    });
    expect(evaluateMetric(g, m(0.1))).toMatchObject({ outcome: 'inconclusive', error: 'baseline: not measured' });
    expect(evaluateMetric(g, noData('green'), m(0.4, 'blue'))).toMatchObject({
      outcome: 'inconclusive',
      error: 'no data',
      baseline: 0.4,
    });
  });

  it('an absolute gate ignores a baseline it was given', () => {
    expect(evaluateMetric(gate({ max: 1 }), m(0.5), noData())).toMatchObject({ outcome: 'pass' });
  });
});

describe('combineRun', () => {
  const reading = (outcome: Reading['outcome']): Reading => ({ name: outcome, query: 'q', threshold: '≤ 1', outcome });
  const firing = { id: 1, name: 'SEV1 errors', priority: 1, state: 'Alert' };

  it('passes when every reading passes and nothing fires', () => {
    expect(combineRun([reading('pass'), reading('pass')], [], at)).toEqual({
      at,
      outcome: 'pass',
      readings: [reading('pass'), reading('pass')],
      firingMonitors: [],
    });
  });

  it('passes with nothing to check', () => {
    expect(combineRun([], [], at).outcome).toBe('pass');
  });

  it('any breach breaches, even beside an inconclusive reading', () => {
    expect(combineRun([reading('pass'), reading('breach'), reading('inconclusive')], [], at).outcome).toBe('breach');
  });

  it('a firing monitor breaches', () => {
    const run = combineRun([reading('pass')], [firing], at);
    expect(run.outcome).toBe('breach');
    expect(run.firingMonitors).toEqual([firing]);
  });

  it('an inconclusive reading without a breach is inconclusive', () => {
    expect(combineRun([reading('pass'), reading('inconclusive')], [], at).outcome).toBe('inconclusive');
  });

  it('unreadable monitors make the run inconclusive, unless something breached', () => {
    const run = combineRun([reading('pass')], [], at, '503 Service Unavailable');
    expect(run).toMatchObject({ outcome: 'inconclusive', monitorError: '503 Service Unavailable' });
    expect(combineRun([reading('breach')], [], at, 'timeout').outcome).toBe('breach');
  });
});

describe('tally', () => {
  const run = (outcome: GateRun['outcome']) => ({ outcome });
  const walk = (outcomes: GateRun['outcome'][], l = limits) => {
    let t: GateTally = EMPTY_TALLY;
    const verdicts: string[] = [];
    for (const o of outcomes) {
      const next = tally(t, run(o), l);
      t = next.tally;
      verdicts.push(next.verdict);
    }
    return { tally: t, verdicts };
  };

  it('passes continue and leave the tally empty', () => {
    expect(walk(['pass', 'pass'])).toEqual({
      tally: { consecutiveInconclusive: 0, breaches: 0 },
      verdicts: ['continue', 'continue'],
    });
  });

  it('tolerates failureLimit breaches and rolls back on the next one', () => {
    expect(walk(['breach', 'pass', 'breach']).verdicts).toEqual(['continue', 'continue', 'rollback']);
  });

  it('failureLimit 0 rolls back on the first breach', () => {
    expect(walk(['breach'], { failureLimit: 0, inconclusiveLimit: 3 }).verdicts).toEqual(['rollback']);
  });

  it('breaches accumulate across passes', () => {
    expect(walk(['breach', 'pass', 'pass', 'pass']).tally.breaches).toBe(1);
  });

  it('pauses after inconclusiveLimit inconclusive runs in a row', () => {
    expect(walk(['inconclusive', 'inconclusive', 'inconclusive']).verdicts).toEqual(['continue', 'continue', 'pause']);
  });

  it('a pass resets the inconclusive row', () => {
    const { tally: t, verdicts } = walk(['inconclusive', 'inconclusive', 'pass', 'inconclusive', 'inconclusive']);
    expect(verdicts).toEqual(['continue', 'continue', 'continue', 'continue', 'continue']);
    expect(t.consecutiveInconclusive).toBe(2);
  });

  it('a breach also ends the inconclusive row', () => {
    expect(
      walk(['inconclusive', 'inconclusive', 'breach', 'inconclusive'], { failureLimit: 5, inconclusiveLimit: 3 }).tally,
    ).toEqual({
      consecutiveInconclusive: 1,
      breaches: 1,
    });
  });

  it('inconclusiveLimit 1 pauses on the first inconclusive run', () => {
    expect(walk(['inconclusive'], { failureLimit: 1, inconclusiveLimit: 1 }).verdicts).toEqual(['pause']);
  });

  it('does not change the tally it was given', () => {
    const prev = { consecutiveInconclusive: 1, breaches: 1 };
    tally(prev, run('breach'), limits);
    expect(prev).toEqual({ consecutiveInconclusive: 1, breaches: 1 });
  });
});

describe('substituteColor', () => {
  it('replaces every {color}', () => {
    expect(substituteColor('a{color:{color}}/b{color:{color}}', 'green')).toBe('a{color:green}/b{color:green}');
  });
  it('leaves a query without {color} alone', () => {
    expect(substituteColor('p99:x{service:a}', 'blue')).toBe('p99:x{service:a}');
  });
});

describe('describeReading', () => {
  it('absolute breach', () => {
    expect(describeReading(evaluateMetric(gate({ max: 0.8 }), m(1.2)))).toBe('p99 latency: 1.2 (≤ 0.8) — breach');
  });
  it('relative pass shows both values', () => {
    const r = evaluateMetric(gate({ name: 'p95 vs baseline', maxOverBaseline: { ratio: 1.1 } }), m(0.42), m(0.4));
    expect(describeReading(r)).toBe('p95 vs baseline: 0.42 vs baseline 0.4 (≤ baseline × 1.1) — pass');
  });
  it('inconclusive shows why', () => {
    expect(describeReading(evaluateMetric(gate({ max: 0.8 }), noData()))).toBe(
      'p99 latency: no data (≤ 0.8) — inconclusive',
    );
    const r = evaluateMetric(gate({ name: 'p95 vs baseline', maxOverBaseline: { delta: 0.1 } }), m(0.42), noData());
    expect(describeReading(r)).toBe('p95 vs baseline: 0.42 vs baseline: no data (≤ baseline + 0.1) — inconclusive');
  });
  it('describes a whole run, monitors included', () => {
    const run = combineRun(
      [evaluateMetric(gate({ max: 0.8 }), m(0.5))],
      [{ id: 7, name: 'SEV1 errors', priority: 1, state: 'Alert' }],
      at,
      undefined,
    );
    expect(describeRun(run)).toEqual(['p99 latency: 0.5 (≤ 0.8) — pass', 'monitor firing: SEV1 errors (P1) — breach']);
    expect(describeRun(combineRun([], [], at, 'timeout after 10 ms'))).toEqual([
      'monitors: timeout after 10 ms — inconclusive',
    ]);
  });
});

describe('formatNumber', () => {
  it('keeps small values readable and large ones whole', () => {
    expect(formatNumber(0.004567)).toBe('0.00457');
    expect(formatNumber(1.23456)).toBe('1.235');
    expect(formatNumber(123456.78)).toBe('123456.78');
    expect(formatNumber(0)).toBe('0');
  });
});

describe('log and SLO gates', () => {
  const newErrors = {
    name: 'new errors',
    query: 'service:acme-api status:error version:{version}',
    max: 0,
    windowSeconds: 120,
  };
  const checkout = { name: 'checkout SLO', id: 'abc123', minBudgetRemaining: 95 };

  it('a log count above max breaches, at max passes, and an unreadable count is inconclusive', () => {
    const query = 'service:acme-api status:error version:v1.5.0';
    const breach = evaluateLogCount(newErrors, m(7, query));
    expect(breach).toMatchObject({ outcome: 'breach', value: 7, query, threshold: '≤ 0 logs in 120s' });
    expect(describeReading(breach)).toBe('new errors: 7 (≤ 0 logs in 120s) — breach');
    expect(evaluateLogCount(newErrors, m(0, query)).outcome).toBe('pass');
    expect(evaluateLogCount({ ...newErrors, max: 7 }, m(7, query)).outcome).toBe('pass');
    expect(evaluateLogCount(newErrors, { query, error: '500 Internal Server Error' })).toMatchObject({
      outcome: 'inconclusive',
      error: '500 Internal Server Error',
    });
  });

  it('an SLO budget below minBudgetRemaining breaches, at or above it passes', () => {
    const query = 'SLO checkout (abc123) over 7d';
    const breach = evaluateSloBudget(checkout, m(80.5, query));
    expect(breach).toMatchObject({ outcome: 'breach', value: 80.5, query });
    expect(describeReading(breach)).toBe('checkout SLO: 80.5 (≥ 95% error budget remaining) — breach');
    expect(evaluateSloBudget(checkout, m(95, query)).outcome).toBe('pass');
    expect(evaluateSloBudget(checkout, m(99.9, query)).outcome).toBe('pass');
    expect(evaluateSloBudget(checkout, { query, error: 'no error budget in the history' }).outcome).toBe(
      'inconclusive',
    );
  });

  it('their readings count in a run like a metric’s, and the evidence names the query', () => {
    const query = 'service:acme-api status:error version:v1.5.0';
    const run = combineRun(
      [evaluateLogCount(newErrors, m(7, query)), evaluateSloBudget(checkout, m(99, 'SLO x'))],
      [],
      at,
    );
    expect(run.outcome).toBe('breach');
    expect(describeRun(run, { evidence: true })).toEqual([
      `• new errors: 7 (≤ 0 logs in 120s) — breach · \`${query}\``,
    ]);
    expect(tally(EMPTY_TALLY, run, { failureLimit: 0, inconclusiveLimit: 3 }).verdict).toBe('rollback');
  });

  it('{version} is substituted, and hasAnyGate sees log and SLO gates', () => {
    expect(substituteVersion(newErrors.query, 'v1.5.0')).toBe('service:acme-api status:error version:v1.5.0');
    expect(hasAnyGate({ metrics: [] })).toBe(false);
    expect(hasAnyGate({ metrics: [], logs: [newErrors] })).toBe(true);
    expect(hasAnyGate({ metrics: [], slos: [checkout] })).toBe(true);
    expect(hasAnyGate({ metrics: [], logs: [], slos: [] })).toBe(false);
  });
});
