import type { Reporter, TestModule } from 'vitest/node';
import type { ResilienceRow } from './record.js';

const median = (values: number[]): number | undefined => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : undefined;
};

const seconds = (ms: number | undefined): string => (ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`);

const table = (header: string[], rows: string[][]): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
};

/**
 * Prints the resilience table after the run: per fault, how many points were tried, how the
 * deployments ended, and how many points lost something, did something twice, or left someone
 * untold. Every point with a problem is listed below it.
 */
export default class ResilienceReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const rows: ResilienceRow[] = testModules.flatMap((m) =>
      [...m.children.allTests()].flatMap((t) => t.meta().resilience ?? []),
    );
    if (rows.length === 0) return;
    const faults = [...new Set(rows.map((r) => r.fault))];
    const count = (rs: ResilienceRow[], p: (r: ResilienceRow) => boolean) => String(rs.filter(p).length);
    const summarize = (fault: string, rs: ResilienceRow[]): string[] => {
      const resumes = rs.flatMap((r) => (r.resumeMs === undefined ? [] : [r.resumeMs]));
      const midCall = rs.filter((r) => r.midCall !== undefined);
      return [
        fault,
        String(rs.length),
        count(rs, (r) => r.outcome === 'succeeded'),
        count(rs, (r) => r.outcome === 'rolled-back'),
        count(rs, (r) => r.lost.length > 0),
        count(rs, (r) => r.duplicated.length > 0),
        count(rs, (r) => r.untold.length > 0),
        midCall.length ? `${midCall.filter((r) => r.midCall).length}/${midCall.length}` : '–',
        resumes.length ? `${seconds(median(resumes))} / ${seconds(Math.max(...resumes))}` : '–',
      ];
    };
    const body = faults.map((fault) =>
      summarize(
        fault,
        rows.filter((r) => r.fault === fault),
      ),
    );
    // Kill → resume differs by setting (some rows try the old defaults): no total for it.
    body.push([...summarize('total', rows).slice(0, -1), '–']);
    const header = [
      'fault',
      'points tried',
      'completed',
      'rolled back',
      'lost',
      'duplicated',
      'untold',
      'mid-call',
      'kill→resume median / max',
    ];
    const problems = rows.filter((r) => r.lost.length + r.duplicated.length + r.untold.length > 0);
    const details = problems.flatMap((r) => [
      `  ${r.fault} · ${r.point} → ${r.outcome}`,
      ...[
        ...r.lost.map((p) => `lost: ${p}`),
        ...r.duplicated.map((p) => `duplicated: ${p}`),
        ...r.untold.map((p) => `untold: ${p}`),
      ].map((p) => `      ${p}`),
    ]);
    process.stdout.write(
      `\nResilience: one fault per point; a deployment must end completed or rolled back, nothing lost, nothing twice, everyone told.\n\n${table(header, body)}\n`,
    );
    const notes = rows.filter((r) => r.note).map((r) => `  ${r.fault} · ${r.point}: ${r.note}`);
    if (notes.length) process.stdout.write(`\nMeasured:\n${notes.join('\n')}\n`);
    process.stdout.write(
      details.length
        ? `\nPoints with problems:\n${details.join('\n')}\n`
        : '\nNo point lost, duplicated or left anyone untold.\n',
    );
  }
}
