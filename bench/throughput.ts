import type { Deployment } from '../src/domain/deployment.js';
import { acmeSmokeChecks, CHANNELS } from '../sandbox/sandbox.js';
import { BenchFailed } from './bench-error.js';
import type { BenchContext } from './context.js';
import { inParallel, SlackDriver } from './flows.js';
import { spawnTs, waitUntil, type BenchProcess } from './processes.js';
import type { SmokeEndpointsReady } from './smoke-endpoints.js';
import { commandDelta } from './redis-server.js';
import type { PrivateRedis } from './redis-server.js';
import { openStage, type Stage } from './stage.js';
import { summarize, type Summary } from './stats.js';

export interface WorkerSetup {
  processes: number;
  /** BullMQ concurrency of each worker process (WORKER_CONCURRENCY). */
  concurrency: number;
}

export interface ThroughputRow extends WorkerSetup {
  deployments: number;
  runs: number;
  /** Deployments that failed or rolled back instead of succeeding, over all runs, and a few of their reasons. */
  failed: number;
  failureReasons: string[];
  /** Deployments that succeeded per second, from the release of the queue to the last one ended; one figure per run. */
  perSecond: Summary;
  /** Queue released (every job runnable at once) → each deployment's first step starts. */
  queueLatencyMs: Summary;
  /** Queue released → each deployment finished. */
  completionMs: Summary;
  /** Redis commands while the worker(s) ran the deployments, per deployment (INFO commandstats). */
  redisCommandsPerDeployment: number;
  /** Of those, script runs (EVAL / EVALSHA); commands a script runs inside Redis are counted one by one in the total. */
  redisScriptsPerDeployment: number;
  /** Redis commands of the bot's part (requests, checklists, approvals), per deployment. */
  botRedisCommandsPerDeployment: number;
  topCommands: Record<string, number>;
  /** Slack posts and edits per deployment: at Slack's one message per second per channel, the time a burst takes to reach #deployments. */
  slackCallsPerDeployment: number;
  /** The floor: one deployment alone on the same setup. */
  alone: { completionMs: Summary; queueLatencyMs: Summary; redisCommands: number };
}

interface Batch {
  queueLatency: number[];
  completion: number[];
  perSecond: number;
  workerCommands: Record<string, number>;
  botCommands: Record<string, number>;
  /** Slack Web API calls (posts and edits) the worker made in the window, per deployment. */
  slackCalls: number;
  /** Why each deployment that did not succeed ended as it did. */
  failures: string[];
}

/**
 * Slack allows about one message per second per channel and the outbox keeps to it: 200
 * deployments' thread replies would take minutes to drain into one #deployments. The stand-in
 * has no such limit, so the pacing is lifted here to measure the worker, not Slack's limit
 * (reported separately as messages per deployment).
 */
const UNPACED_MESSAGES_PER_SECOND = 1000;

/** The thread message each way a deployment can end starts with (seed 001's templates). */
const ENDINGS = ['✅ *Deployment Complete*', '❌ *Deployment Failed*', '⚠️ *Deployment Rolled Back*'];

/** Deployments of `version` whose ending (success, failure or rollback) is in their thread. */
const endedCount = (stage: Stage, version: string): number =>
  stage.sandbox.slack
    .messages(CHANNELS.deployments)
    .filter(
      (m) => m.thread_ts && ENDINGS.some((ending) => m.text.startsWith(ending)) && m.text.includes(`\`${version}\``),
    ).length;

/**
 * Requests and approves `services` through the bot while the queue is paused, then releases
 * the queue at once and waits for every deployment's ending in its thread, counting the
 * Redis commands of each part. Endings are watched on the Slack stand-in so that the bench
 * itself sends no Redis command while the workers run. A deployment that fails (a smoke check
 * over its latency bound on a saturated machine, say) is counted and its reason kept.
 */
async function runBatch(
  stage: Stage,
  redis: PrivateRedis,
  driver: SlackDriver,
  services: readonly string[],
  version: string,
  timeoutMs: number,
): Promise<Batch> {
  await stage.queue.pause();
  const beforeBot = await redis.commandCounts();
  await inParallel(services, 8, (name) => driver.requestAndApprove(name, version));
  const ids = await Promise.all(services.map(async (name) => (await stage.store.active(name))?.id));
  await waitUntil(
    `${services.length} approvals to be recorded`,
    async () =>
      (await Promise.all(ids.map((id) => (id ? stage.store.intents(id) : {})))).every(
        (i) => 'decision' in i && i.decision,
      ),
    30_000,
  );
  const released = await redis.commandCounts();
  const t0 = Date.now();
  await stage.queue.resume();
  try {
    await waitUntil(
      `${services.length} deployments of ${version} to end`,
      () => endedCount(stage, version) >= services.length,
      timeoutMs,
    );
  } catch (error) {
    throw new BenchFailed(
      `${services.length} deployments of ${version} did not all complete`,
      await whereTheyAre(stage, services, version),
      { cause: error },
    );
  }
  const after = await redis.commandCounts();
  const slackCalls = stage.sandbox.slack.calls.filter((c) => c.at >= t0 && c.method.startsWith('chat.')).length;
  const records = (await Promise.all(services.map((name) => stage.store.history(name, 1)))).map(([d]) => d);
  const ended = records.filter((d): d is Deployment => d?.version === version && d.finishedAt !== undefined);
  const done = ended.filter((d) => d.phase === 'succeeded');
  if (done.length === 0)
    throw new BenchFailed(
      `none of the ${services.length} deployments of ${version} succeeded`,
      await whereTheyAre(stage, services, version),
    );
  const completion = done.map((d) => (d.finishedAt as number) - t0);
  const lastEnd = Math.max(...ended.map((d) => (d.finishedAt as number) - t0));
  return {
    queueLatency: done.map((d) => (d.stepRecords[0]?.startedAt ?? Number.NaN) - t0),
    completion,
    perSecond: (done.length * 1000) / lastEnd,
    failures: ended
      .filter((d) => d.phase !== 'succeeded')
      .map((d) => `${d.phase}: ${d.failureReason ?? d.rollbackReason ?? 'no reason recorded'}`),
    workerCommands: commandDelta(released, after),
    botCommands: commandDelta(beforeBot, released),
    slackCalls: slackCalls / services.length,
  };
}

/** For a batch that did not finish: how many records are in which phase and step, and how many endings reached Slack. */
async function whereTheyAre(
  stage: Stage,
  services: readonly string[],
  version: string,
): Promise<Record<string, unknown>> {
  const records = (await Promise.all(services.map((name) => stage.store.history(name, 1)))).map(([d]) => d);
  const phases: Record<string, number> = {};
  for (const d of records) {
    const where =
      d?.version === version
        ? `${d.phase}${d.phase === 'running' ? `@${d.steps[d.stepIndex]?.kind}` : ''}`
        : 'no record';
    phases[where] = (phases[where] ?? 0) + 1;
  }
  const failures = records
    .filter((d) => d?.failureReason)
    .slice(0, 3)
    .map((d) => `${d?.service}: ${d?.failureReason}`);
  return { phases, endingsInSlack: endedCount(stage, version), failures, jobs: await stage.queue.getJobCounts() };
}

const total = (counts: Record<string, number>): number => Object.values(counts).reduce((sum, n) => sum + n, 0);

const top = (counts: Record<string, number>, per: number, n = 10): Record<string, number> =>
  Object.fromEntries(
    Object.entries(counts)
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([command, calls]) => [command, Math.round((calls / per) * 10) / 10]),
  );

async function smokeEndpointsUrl(endpoints: BenchProcess): Promise<string> {
  const ready = await new Promise<SmokeEndpointsReady>((resolve, reject) => {
    endpoints.child.once('message', (message: SmokeEndpointsReady) => resolve(message));
    endpoints.child.once('exit', (code) =>
      reject(new BenchFailed(`the smoke endpoints exited (${code})`, { output: endpoints.tail() })),
    );
  });
  return `http://127.0.0.1:${ready.port}`;
}

/**
 * 200 services deploying at once (zero-second bakes) through one worker process and through
 * four, BullMQ concurrency set per process with WORKER_CONCURRENCY. The bot runs in a process
 * of its own; each setup also deploys one service alone first, as its floor.
 */
export async function measureThroughput(ctx: BenchContext, redis: PrivateRedis): Promise<ThroughputRow[]> {
  const size = ctx.fleetSize;
  const runs = ctx.quick ? 1 : 2;
  const setups: WorkerSetup[] = [
    { processes: 1, concurrency: size },
    { processes: 4, concurrency: Math.ceil(size / 4) },
  ];
  const endpoints = spawnTs('smoke-endpoints', 'bench/smoke-endpoints.ts', [], { env: {}, ipc: true });
  const smokeUrl = await smokeEndpointsUrl(endpoints);
  const stage = await openStage({
    redisUrl: ctx.redisUrl,
    sandbox: { bakeSeconds: 0, fleet: { size, service: { smoke: acmeSmokeChecks(smokeUrl) } } },
    cpuProfDir: ctx.cpuProfDir,
  }).catch(async (error: unknown) => {
    await endpoints.stop();
    throw error;
  });
  try {
    const bot = await stage.startBot('throughput-bot');
    const driver = new SlackDriver(stage.sandbox, bot.url);
    const rows: ThroughputRow[] = [];
    let release = 0;
    for (const setup of setups) {
      const workers: BenchProcess[] = [];
      for (let i = 0; i < setup.processes; i += 1) {
        workers.push(
          await stage.startWorker(`throughput-worker-${setup.processes}x${setup.concurrency}-${i + 1}`, {
            WORKER_CONCURRENCY: String(setup.concurrency),
            SLACK_CHANNEL_MESSAGES_PER_SECOND: String(UNPACED_MESSAGES_PER_SECOND),
          }),
        );
      }
      try {
        const alone: Batch[] = [];
        for (let run = 0; run < runs; run += 1) {
          release += 1;
          alone.push(await runBatch(stage, redis, driver, ['acme-api'], `v4.${release}.0`, 60_000));
        }
        const batches: Batch[] = [];
        for (let run = 0; run < runs; run += 1) {
          release += 1;
          batches.push(await runBatch(stage, redis, driver, stage.sandbox.fleet, `v4.${release}.0`, 300_000));
          ctx.log(
            `throughput ${setup.processes}×${setup.concurrency}: ${batches.at(-1)?.perSecond.toFixed(1)} deployments/s`,
          );
        }
        const workerCommands = batches.map((b) => b.workerCommands).reduce(sumCounts, {});
        const botCommands = batches.map((b) => b.botCommands).reduce(sumCounts, {});
        const deployed = size * runs;
        rows.push({
          ...setup,
          deployments: size,
          runs,
          failed: batches.reduce((sum, b) => sum + b.failures.length, 0),
          failureReasons: [...new Set(batches.flatMap((b) => b.failures))].slice(0, 5),
          perSecond: summarize(batches.map((b) => b.perSecond)),
          queueLatencyMs: summarize(batches.flatMap((b) => b.queueLatency)),
          completionMs: summarize(batches.flatMap((b) => b.completion)),
          redisCommandsPerDeployment: total(workerCommands) / deployed,
          redisScriptsPerDeployment: ((workerCommands.eval ?? 0) + (workerCommands.evalsha ?? 0)) / deployed,
          botRedisCommandsPerDeployment: total(botCommands) / deployed,
          topCommands: top(workerCommands, deployed),
          slackCallsPerDeployment: batches.reduce((sum, b) => sum + b.slackCalls, 0) / runs,
          alone: {
            completionMs: summarize(alone.flatMap((b) => b.completion)),
            queueLatencyMs: summarize(alone.flatMap((b) => b.queueLatency)),
            redisCommands: total(alone.map((b) => b.workerCommands).reduce(sumCounts, {})) / runs,
          },
        });
      } finally {
        await Promise.all(workers.map((w) => w.stop()));
      }
    }
    return rows;
  } finally {
    await stage.close();
    await endpoints.stop();
  }
}

const sumCounts = (a: Record<string, number>, b: Record<string, number>): Record<string, number> => {
  const out = { ...a };
  for (const [command, calls] of Object.entries(b)) out[command] = (out[command] ?? 0) + calls;
  return out;
};
