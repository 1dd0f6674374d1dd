import { describe, expect, it } from 'vitest';
import type { AckRow } from '../../../bench/ack-latency.js';
import { ackPoints } from '../../../bench/plot.js';
import { checkTargets, markdownReport, type Results } from '../../../bench/report.js';
import { summarize } from '../../../bench/stats.js';

const ackRow = (concurrency: number, switchyard: number[], bare: number[]): AckRow => {
  const s = summarize(switchyard);
  const b = summarize(bare);
  return {
    command: '/deploy',
    concurrency,
    switchyard: s,
    bare: b,
    p99Ratio: s.p99 / b.p99,
    medianRatio: s.median / b.median,
    errors: 0,
    unsettledWaves: 0,
  };
};

const base: Omit<Results, 'targets'> = {
  machine: { cores: 2, cpu: 'test cpu', memoryGiB: 24, node: 'v20.20.2', platform: 'linux x64', redis: '7.0.15' },
  quick: false,
  startedAt: '2026-01-01T00:00:00.000Z',
  durationSeconds: 12,
  errors: {},
};

describe('checkTargets', () => {
  it('checks the ack ceiling and the ratio to bare Bolt at 100 concurrent only', () => {
    const checks = checkTargets({ ...base, ackLatency: [ackRow(1, [500], [1]), ackRow(100, [20, 120], [50, 60])] });
    expect(checks.map((c) => [c.name, c.met])).toEqual([
      ['/deploy ack p99 at 100 concurrent', false],
      ['/deploy ack p99 vs bare Bolt at 100 concurrent', false],
    ]);
    expect(checks[1]?.measured).toBe('2.00× (120.0 vs 60.0 ms)');
  });

  it('allows a breach one interval plus a second, and no more', () => {
    const row = (p99: number) => ({
      intervalSeconds: 2,
      runs: 1,
      latency: summarize([p99]),
      detection: summarize([1]),
      action: summarize([1]),
      targetMs: 3000,
    });
    expect(checkTargets({ ...base, breachToRollback: [row(3000)] })[0]?.met).toBe(true);
    expect(checkTargets({ ...base, breachToRollback: [row(3001)] })[0]?.met).toBe(false);
  });
});

describe('markdownReport', () => {
  it('puts each figure beside its baseline and lists what was not measured', () => {
    const results: Results = {
      ...base,
      ackLatency: [ackRow(10, [1, 2, 3], [1, 1, 2])],
      errors: { memory: 'no /proc here' },
      targets: [],
    };
    const report = markdownReport(results);
    expect(report).toContain(
      '| ack `/deploy` ×10 concurrent | 3 | 1.0 / 2.0 / 3.0 | bare Bolt app, ack only | 1.0 / 1.0 / 2.0 |',
    );
    expect(report).toContain('- memory: no /proc here');
    expect(report).toContain('2 cores (test cpu)');
  });
});

describe('ackPoints', () => {
  it('gives the plot one point per app and statistic', () => {
    const points = ackPoints([ackRow(10, [1, 2, 3], [4, 5, 6])]);
    expect(points).toHaveLength(4);
    expect(points).toContainEqual({
      command: '/deploy',
      concurrency: 10,
      app: 'bare Bolt (floor)',
      statistic: 'p99',
      ms: 6,
    });
  });
});
