/** Summaries of repeated measurements: every figure in the results is min / median / p99 over its samples. */

export interface Summary {
  n: number;
  min: number;
  median: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * The nearest-rank percentile of ascending `sorted` (p in 0..100): the smallest sample such
 * that at least p% of the samples are at or below it. Nearest-rank never invents a value
 * between two samples, so a p99 over 20 runs is honestly the worst of them.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of no samples: measure at least once');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside 0..100`);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.some((s) => !Number.isFinite(s))) throw new RangeError('summarize: every sample must be a finite number');
  const sorted = [...samples].sort((a, b) => a - b);
  const total = sorted.reduce((sum, s) => sum + s, 0);
  return {
    n: sorted.length,
    min: percentile(sorted, 0),
    median: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] as number,
    mean: total / sorted.length,
  };
}

/** `12.3 / 15.0 / 48.2` with one decimal below 100 and none above. */
export function formatSummary(summary: Summary, unit = ''): string {
  const f = (value: number) => (Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(1));
  return `${f(summary.min)} / ${f(summary.median)} / ${f(summary.p99)}${unit ? ` ${unit}` : ''}`;
}

/** Ratio of two medians or p99s, for "within 1.5× of the baseline". */
export const ratio = (value: number, baseline: number): number =>
  baseline > 0 ? value / baseline : Number.POSITIVE_INFINITY;
