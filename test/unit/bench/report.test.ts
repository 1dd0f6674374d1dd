import { describe, expect, it } from 'vitest';
import type { AckRow } from '../../../bench/ack-latency.js';
import type { ColdStartRow } from '../../../bench/cold-start.js';
import type { MemoryRow } from '../../../bench/memory.js';
import { ackPoints } from '../../../bench/plot.js';
import { checkTargets, markdownReport, type Results } from '../../../bench/report.js';
import { summarize } from '../../../bench/stats.js';

const ackRow = (concurrency: number, switchyard: number[], bare: number[], command = '/deploy'): AckRow => {
  const s = summarize(switchyard);
  const b = summarize(bare);
  return {
    command,
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

  it('holds /deploy status to 1.2× of bare Bolt and /deploy to 1.5×', () => {
    const checks = checkTargets({
      ...base,
      ackLatency: [ackRow(100, [65], [50]), ackRow(100, [65], [50], '/deploy status')],
    });
    expect(checks.filter((c) => c.name.includes('vs bare')).map((c) => [c.name, c.target, c.met])).toEqual([
      ['/deploy ack p99 vs bare Bolt at 100 concurrent', '≤ 1.5×', true],
      ['/deploy status ack p99 vs bare Bolt at 100 concurrent', '≤ 1.2×', false],
    ]);
  });

  it('checks the idle bot against 1.3× of the bare Bolt app and 120 MiB, and leaves the worker alone', () => {
    const memory = (role: MemoryRow['role'], rss: number, baseline: number): MemoryRow => ({
      role,
      what: role,
      rssMiB: summarize([rss]),
      baselineWhat: 'baseline',
      baselineRssMiB: summarize([baseline]),
    });
    const met = (rss: number, bare: number) =>
      checkTargets({ ...base, memory: [memory('bot', rss, bare), memory('worker', 400, 100)] }).map((c) => [
        c.name,
        c.met,
      ]);
    expect(met(110, 90)).toEqual([
      ['idle bot RSS vs bare Bolt app', true],
      ['idle bot RSS', true],
    ]);
    expect(met(119, 90)).toEqual([
      ['idle bot RSS vs bare Bolt app', false],
      ['idle bot RSS', true],
    ]);
    expect(met(125, 100)).toEqual([
      ['idle bot RSS vs bare Bolt app', true],
      ['idle bot RSS', false],
    ]);
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
    const coldStart: ColdStartRow = {
      what: 'worker cold start: process start → taking jobs',
      runs: 2,
      after: summarize([900, 1000]),
      before: summarize([2000, 2500]),
      medianRatio: 0.4,
    };
    expect(markdownReport({ ...results, coldStart: [coldStart] })).toContain(
      '| worker cold start: process start → taking jobs (connected to the deployment queue), `node dist/main.js worker` | 2 | 900 / 900 / 1000 | the same, the way it ran before: `node --import tsx src/main.ts worker` | 2000 / 2000 / 2500 |',
    );
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
