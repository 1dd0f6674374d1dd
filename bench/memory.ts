import { sleep, type BenchContext } from './context.js';
import { inParallel, SlackDriver, waitForBaking } from './flows.js';
import { freePort } from './ports.js';
import { answers, spawnBareBolt, waitUntil, type BenchProcess } from './processes.js';
import { openStage } from './stage.js';
import { summarize, type Summary } from './stats.js';

export interface MemoryRow {
  /** The idle bot against the bare Bolt app, or the worker against itself idle. */
  role: 'bot' | 'worker';
  what: string;
  /** Resident set size in MiB, sampled every 250 ms. */
  rssMiB: Summary;
  baselineWhat: string;
  baselineRssMiB: Summary;
}

/** RSS samples of a process that is left alone for a while first (start-up garbage collected or not, as it would be). */
async function sampleRss(proc: BenchProcess, samples: number, settleMs: number): Promise<Summary> {
  await sleep(settleMs);
  const values: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    values.push(await proc.rssMiB());
    await sleep(250);
  }
  return summarize(values);
}

/**
 * Resident memory of an idle bot (against a bare Bolt app), and of one worker process with
 * 200 deployments baking (against the same process idle, before any deployment). The
 * baking deployments run their gates every 5 seconds against the Datadog stand-in.
 */
export async function measureMemory(ctx: BenchContext): Promise<MemoryRow[]> {
  const size = ctx.fleetSize;
  const samples = ctx.quick ? 8 : 20;
  const settleMs = ctx.quick ? 1000 : 3000;
  const gates = {
    intervalSeconds: 5,
    failureLimit: 0,
    inconclusiveLimit: 3,
    metrics: [
      { name: 'p99 latency', query: 'p99:trace.http.request.duration{service:acme-api,env:prod}', max: 0.8 },
      { name: 'error rate', query: 'sum:trace.http.request.errors{service:acme-api}.as_rate()', max: 0.01 },
    ],
  };
  const stage = await openStage({
    redisUrl: ctx.redisUrl,
    sandbox: { bakeSeconds: 3600, service: { gates }, fleet: { size } },
    cpuProfDir: ctx.cpuProfDir,
  });
  try {
    const rows: MemoryRow[] = [];
    const bot = await stage.startBot('memory-bot');
    const barePort = await freePort();
    const bare = spawnBareBolt('memory-bare-bolt', {
      env: { ...stage.env, PORT: String(barePort) },
    });
    try {
      await waitUntil(
        'the bare Bolt app to listen',
        () => answers(`http://127.0.0.1:${barePort}/slack/events`),
        30_000,
        bare,
      );
      const [botRss, bareRss] = await Promise.all([
        sampleRss(bot.proc, samples, settleMs),
        sampleRss(bare, samples, settleMs),
      ]);
      rows.push({
        role: 'bot',
        what: `idle bot (catalog of ${size + 1} services)`,
        rssMiB: botRss,
        baselineWhat: 'bare Bolt app, idle',
        baselineRssMiB: bareRss,
      });
    } finally {
      await bare.stop();
    }

    const worker = await stage.startWorker('memory-worker', { WORKER_CONCURRENCY: String(size) });
    const idleWorker = await sampleRss(worker, samples, settleMs);
    const driver = new SlackDriver(stage.sandbox, bot.url);
    await inParallel(stage.sandbox.fleet, 8, (name) => driver.requestAndApprove(name, 'v5.0.0'));
    await waitForBaking(stage.store, stage.sandbox.fleet, 180_000);
    ctx.log(`memory: ${size} deployments baking`);
    const bakingWorker = await sampleRss(worker, samples, settleMs);
    rows.push({
      role: 'worker',
      what: `worker, ${size} deployments baking`,
      rssMiB: bakingWorker,
      baselineWhat: 'the same worker idle',
      baselineRssMiB: idleWorker,
    });
    return rows;
  } finally {
    await stage.close();
  }
}
