import type { DatadogStandIn } from '../sandbox/datadog.js';
import { BenchFailed } from './bench-error.js';
import { jitter, sleep, type BenchContext } from './context.js';
import { SlackDriver, waitForBaking, waitForPhase } from './flows.js';
import { openStage } from './stage.js';
import { summarize, type Summary } from './stats.js';
import { weightChangeArrival } from './weight-change.js';

export interface BreachRow {
  intervalSeconds: number;
  runs: number;
  /** Datadog stand-in starts serving a breaching value → the ELBv2 stand-in receives the weight restore. */
  latency: Summary;
  /** The part spent waiting for the next gate run: breach → the first metric query that sees it. */
  detection: Summary;
  /** The rest: that query → the weight restore. */
  action: Summary;
  /** What the target allows: one interval plus one second. */
  targetMs: number;
}

const HEALTHY = 0.35;
const BREACHING = 5;
const P99 = /p99:trace\.http\.request\.duration/;

/** When the Datadog stand-in received the first query of `pattern` at or after `since`. */
async function queryArrival(
  datadog: DatadogStandIn,
  pattern: RegExp,
  since: number,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = datadog.requests.find(
      (req) => req.at >= since && req.path === '/api/v1/query' && pattern.test(req.query.get('query') ?? ''),
    );
    if (hit) return hit.at;
    if (Date.now() > deadline) throw new BenchFailed(`no Datadog query matching ${pattern} within ${timeoutMs} ms`);
    await sleep(2);
  }
}

/**
 * How long a gate breach takes to put the traffic back, as a function of the gates'
 * `intervalSeconds`: the deployment bakes at 10 %, the p99 metric turns bad at a random
 * moment within an interval, and the clock stops when the load balancer receives the
 * restoring weight change. failureLimit 0: the first breaching run rolls back.
 */
export async function measureBreachToRollback(ctx: BenchContext): Promise<BreachRow[]> {
  const rows: BreachRow[] = [];
  const intervals = ctx.quick ? [1, 2] : [1, 2, 5];
  const runs = ctx.quick ? 3 : 10;
  for (const intervalSeconds of intervals) {
    const gates = {
      intervalSeconds,
      failureLimit: 0,
      inconclusiveLimit: 3,
      metrics: [{ name: 'p99 latency', query: 'p99:trace.http.request.duration{service:acme-api,env:prod}', max: 0.8 }],
    };
    const stage = await openStage({
      redisUrl: ctx.redisUrl,
      sandbox: { bakeSeconds: 3600, service: { gates } },
      cpuProfDir: ctx.cpuProfDir,
    });
    try {
      const { sandbox, store } = stage;
      const app = await stage.startAll(`breach-switchyard-${intervalSeconds}s`);
      const driver = new SlackDriver(sandbox, app.url);
      const latency: number[] = [];
      const detection: number[] = [];
      const action: number[] = [];
      for (let run = 0; run < runs; run += 1) {
        const version = `v3.${intervalSeconds}.${run}`;
        sandbox.datadog.setMetric(P99, HEALTHY);
        await driver.requestAndApprove('acme-api', version);
        await waitForBaking(store, ['acme-api'], 60_000);
        await jitter(intervalSeconds * 1000);
        const breached = Date.now();
        sandbox.datadog.setMetric(P99, BREACHING);
        const seen = await queryArrival(sandbox.datadog, P99, breached, (intervalSeconds + 10) * 1000);
        const restored = await weightChangeArrival(
          sandbox.elbv2,
          sandbox.listenerArn,
          breached,
          (intervalSeconds + 10) * 1000,
        );
        latency.push(restored.at - breached);
        detection.push(seen - breached);
        action.push(restored.at - seen);
        const done = await waitForPhase(store, 'acme-api', ['rolled-back', 'failed', 'succeeded'], 60_000);
        if (done.phase !== 'rolled-back')
          throw new BenchFailed(`acme-api ${version} ended ${done.phase} after the breach, not rolled-back`);
      }
      const row: BreachRow = {
        intervalSeconds,
        runs,
        latency: summarize(latency),
        detection: summarize(detection),
        action: summarize(action),
        targetMs: intervalSeconds * 1000 + 1000,
      };
      rows.push(row);
      ctx.log(`breach→rollback at ${intervalSeconds} s: p99 ${row.latency.p99} ms (target ${row.targetMs} ms)`);
    } finally {
      await stage.close();
    }
  }
  return rows;
}
