import type { TrafficTarget } from '../src/providers/traffic/traffic.js';
import { BenchFailed } from './bench-error.js';
import { jitter, type BenchContext } from './context.js';
import { inParallel, isBaking, SlackDriver, waitForBaking, waitForPhase } from './flows.js';
import { openStage } from './stage.js';
import { summarize, type Summary } from './stats.js';
import { weightChangeArrival } from './weight-change.js';

export interface RollbackRow {
  /** Latency the ELBv2 stand-in adds to every answer. */
  elbLatencyMs: number;
  runs: number;
  /** Other deployments baking (gates every second) while each rollback was measured. */
  bakingMeanwhile: number;
  /** Signed `/rollback` sent → the stand-in receives the ModifyListener that restores the weights. */
  latency: Summary;
  /** The floor: the same ALB adapter setting weights directly from the bench → the stand-in receives the ModifyListener. */
  baseline: Summary;
  ack: Summary;
  /** Calls about the same listener the stand-in received between the command and the change. */
  elbCallsBefore: Summary;
}

export const BAKING_OTHERS = 20;
const GATES = {
  intervalSeconds: 1,
  failureLimit: 0,
  inconclusiveLimit: 3,
  metrics: [
    { name: 'p99 latency', query: 'p99:trace.http.request.duration{service:acme-api,env:prod}', max: 0.8 },
    { name: 'error rate', query: 'sum:trace.http.request.errors{service:acme-api}.as_rate()', max: 0.01 },
  ],
};

/**
 * `/rollback` → weight change at the load balancer, with 20 other deployments baking, the
 * ELBv2 stand-in answering at once and after 150 ms. Bot and worker run in one process
 * (`npm start`); each run deploys acme-api to its first bake, then rolls it back.
 */
export async function measureRollbackLatency(ctx: BenchContext): Promise<RollbackRow[]> {
  const others = ctx.quick ? 5 : BAKING_OTHERS;
  // One more fleet service than bakes: it never deploys and carries the baseline's weight changes.
  const stage = await openStage({
    redisUrl: ctx.redisUrl,
    sandbox: { bakeSeconds: 3600, service: { gates: GATES }, fleet: { size: others + 1 } },
    cpuProfDir: ctx.cpuProfDir,
  });
  try {
    const { sandbox, store } = stage;
    const app = await stage.startAll('rollback-switchyard');
    const driver = new SlackDriver(sandbox, app.url);
    const baking = sandbox.fleet.slice(0, others);
    const spare = sandbox.fleet[others] as string;
    await inParallel(baking, 5, (name) => driver.requestAndApprove(name, 'v2.0.0'));
    await waitForBaking(store, baking, 120_000);
    ctx.log(`rollback: ${baking.length} deployments baking`);

    const spareTraffic = sandbox.catalog.services[spare]?.traffic;
    if (!spareTraffic) throw new BenchFailed(`${spare} has no traffic settings`);
    const spareTarget: TrafficTarget = {
      listenerArn: spareTraffic.listenerArn,
      targetGroups: spareTraffic.targetGroups,
    };
    const traffic = sandbox.providers().traffic;

    const rows: RollbackRow[] = [];
    const runs = ctx.quick ? 3 : 20;
    let toggles = 0;
    for (const elbLatencyMs of [0, 150]) {
      sandbox.elbv2.faults.latencyMs = elbLatencyMs;
      const latency: number[] = [];
      const baseline: number[] = [];
      const ack: number[] = [];
      const callsBefore: number[] = [];
      for (let run = 0; run < runs; run += 1) {
        const version = `v2.${elbLatencyMs}.${run}`;
        await driver.requestAndApprove('acme-api', version);
        await waitForBaking(store, ['acme-api'], 60_000);
        // Land anywhere within a gate interval, not always just after a tick.
        await jitter(1000);
        const sent = Date.now();
        const acked = await driver.requester.command('/rollback', 'acme-api bench: measuring rollback latency');
        if (acked.status !== 200)
          throw new BenchFailed('/rollback was not acknowledged', { status: acked.status, body: acked.body });
        const change = await weightChangeArrival(sandbox.elbv2, sandbox.listenerArn, sent, 30_000);
        latency.push(change.at - sent);
        callsBefore.push(change.callsBefore);
        ack.push(acked.ms);
        const done = await waitForPhase(store, 'acme-api', ['rolled-back', 'failed', 'succeeded'], 60_000);
        if (done.phase !== 'rolled-back')
          throw new BenchFailed(`acme-api ${version} ended ${done.phase}, not rolled-back`);

        const direct = Date.now();
        toggles += 1;
        const weights = toggles % 2 === 1 ? { blue: 0, green: 100 } : { blue: 100, green: 0 };
        await traffic.setWeights(spareTarget, weights);
        baseline.push((await weightChangeArrival(sandbox.elbv2, spareTarget.listenerArn, direct, 10_000)).at - direct);
      }
      const stillBaking = (await Promise.all(baking.map((name) => store.active(name)))).filter(isBaking).length;
      rows.push({
        elbLatencyMs,
        runs,
        bakingMeanwhile: stillBaking,
        latency: summarize(latency),
        baseline: summarize(baseline),
        ack: summarize(ack),
        elbCallsBefore: summarize(callsBefore),
      });
      ctx.log(
        `rollback with ELB ${elbLatencyMs} ms: p99 ${summarize(latency).p99} ms (baseline p99 ${summarize(baseline).p99} ms)`,
      );
    }
    sandbox.elbv2.faults.latencyMs = 0;
    return rows;
  } finally {
    await stage.close();
  }
}
