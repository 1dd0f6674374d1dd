import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { AckRow } from './ack-latency.js';

/** Target of the issue: p99 under 100 ms at 100 concurrent. */
const TARGET_MS = 100;

/** One point per command, concurrency, app and statistic. */
export function ackPoints(
  rows: readonly AckRow[],
): { command: string; concurrency: number; app: string; statistic: string; ms: number }[] {
  return rows.flatMap((row) =>
    (
      [
        ['Switchyard', row.switchyard],
        ['bare Bolt (floor)', row.bare],
      ] as const
    ).flatMap(([app, summary]) =>
      (['median', 'p99'] as const).map((statistic) => ({
        command: row.command,
        concurrency: row.concurrency,
        app,
        statistic,
        ms: Math.round(summary[statistic] * 100) / 100,
      })),
    ),
  );
}

export function ackLatencySpec(rows: readonly AckRow[], subtitle: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Slash-command ack latency vs concurrency', subtitle },
    data: { values: ackPoints(rows) },
    facet: { column: { field: 'command', type: 'nominal', title: null } },
    spec: {
      width: 320,
      height: 240,
      layer: [
        {
          mark: { type: 'line', point: true },
          encoding: {
            x: {
              field: 'concurrency',
              type: 'quantitative',
              scale: { type: 'log' },
              axis: { values: [1, 10, 100], format: 'd' },
              title: 'concurrent signed requests',
            },
            y: { field: 'ms', type: 'quantitative', title: 'time to ack (ms)' },
            color: { field: 'app', type: 'nominal', title: null },
            strokeDash: {
              field: 'statistic',
              type: 'nominal',
              title: null,
              // Without an explicit stroke the legend draws its dashes in no colour at all.
              legend: {
                symbolType: 'stroke',
                symbolSize: 300,
                symbolStrokeWidth: 2,
                encoding: { symbols: { stroke: { value: '#333' } } },
              },
            },
            tooltip: [{ field: 'app' }, { field: 'statistic' }, { field: 'concurrency' }, { field: 'ms' }],
          },
        },
        {
          mark: { type: 'rule', color: '#c0392b', strokeDash: [4, 4] },
          encoding: { y: { datum: TARGET_MS } },
        },
      ],
    },
    config: { font: 'sans-serif' },
  };
}

/** Renders the plot to SVG with Vega's own headless renderer (no canvas needed for SVG). */
export async function renderAckLatencySvg(rows: readonly AckRow[], subtitle: string): Promise<string> {
  const { spec } = compile(ackLatencySpec(rows, subtitle));
  const view = new View(parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
