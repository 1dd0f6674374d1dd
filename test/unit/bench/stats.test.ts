import { describe, expect, it } from 'vitest';
import { formatSummary, percentile, ratio, summarize } from '../../../bench/stats.js';

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it('returns a sample, never a value between two', () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile([10, 20], 50)).toBe(10);
  });

  it('p0 is the minimum and any p of one sample is that sample', () => {
    expect(percentile(hundred, 0)).toBe(1);
    expect(percentile([7], 0)).toBe(7);
    expect(percentile([7], 99)).toBe(7);
  });

  it('p99 of fewer than 100 samples is the worst one', () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 40], 99)).toBe(40);
  });

  it('refuses no samples and a p outside 0..100', () => {
    expect(() => percentile([], 50)).toThrow(/no samples/);
    expect(() => percentile([1], 101)).toThrow(/outside 0..100/);
    expect(() => percentile([1], Number.NaN)).toThrow(/outside 0..100/);
  });
});

describe('summarize', () => {
  it("sorts before it ranks, and does not reorder the caller's samples", () => {
    const samples = [30, 10, 20, 40];
    expect(summarize(samples)).toEqual({ n: 4, min: 10, median: 20, p99: 40, max: 40, mean: 25 });
    expect(samples).toEqual([30, 10, 20, 40]);
  });

  it('refuses a sample that is not a finite number', () => {
    expect(() => summarize([1, Number.NaN])).toThrow(/finite/);
    expect(() => summarize([1, Number.POSITIVE_INFINITY])).toThrow(/finite/);
  });
});

describe('formatSummary and ratio', () => {
  it('keeps one decimal below 100 and none above', () => {
    expect(formatSummary(summarize([1.23, 45.67, 123.4]), 'ms')).toBe('1.2 / 45.7 / 123 ms');
  });

  it('compares with a baseline, infinitely worse when the baseline is 0', () => {
    expect(ratio(150, 100)).toBe(1.5);
    expect(ratio(1, 0)).toBe(Number.POSITIVE_INFINITY);
  });
});
