import { performance } from 'node:perf_hooks';
import { BenchFailed } from './bench-error.js';
import { sleep, type BenchContext } from './context.js';
import { freePort } from './ports.js';
import { spawnSwitchyard, spawnSwitchyardFromSource, type BenchProcess, type SpawnOptions } from './processes.js';
import { openStage } from './stage.js';
import { ratio, summarize, type Summary } from './stats.js';

export interface ColdStartRow {
  what: string;
  runs: number;
  /** `node dist/main.js worker`, as shipped. */
  after: Summary;
  /** `node --import tsx src/main.ts worker`, the way it ran before it was compiled. */
  before: Summary;
  medianRatio: number;
}

const POLL_MS = 10;

/**
 * Milliseconds from spawning a worker process to its worker being connected to the deployment
 * queue (BullMQ's blocking connection, named for the queue, in CLIENT LIST): from then on a
 * waiting job is taken. Each process is stopped before the next one starts.
 */
async function timeToReady(
  spawnWorker: () => BenchProcess,
  workers: () => Promise<number>,
  timeoutMs: number,
): Promise<number> {
  // The previous process's connections are gone before the clock starts.
  for (const deadline = performance.now() + 5000; (await workers()) > 0; await sleep(POLL_MS))
    if (performance.now() > deadline) throw new BenchFailed('a worker from an earlier run is still connected');
  const started = performance.now();
  const proc = spawnWorker();
  try {
    for (;;) {
      if (proc.child.exitCode !== null)
        throw new BenchFailed(`${proc.name} exited (${proc.child.exitCode}) before taking jobs`, {
          output: proc.tail(),
        });
      if ((await workers()) > 0) return performance.now() - started;
      if (performance.now() - started > timeoutMs)
        throw new BenchFailed(`${proc.name} was not taking jobs after ${timeoutMs} ms`, { output: proc.tail() });
      await sleep(POLL_MS);
    }
  } finally {
    await proc.stop();
  }
}

/**
 * Worker cold start, the compiled entry against the TypeScript loader it replaced, alternating
 * run by run so that both see the same machine. This is what a resumed deployment waits for
 * after a worker is replaced (on top of the lock expiring).
 */
export async function measureColdStart(ctx: BenchContext): Promise<ColdStartRow[]> {
  const runs = ctx.quick ? 3 : 10;
  const stage = await openStage({ redisUrl: ctx.redisUrl, sandbox: {}, cpuProfDir: undefined });
  try {
    const workers = () => stage.queue.getWorkersCount();
    const samples = { after: [] as number[], before: [] as number[] };
    for (let i = 0; i < runs; i += 1) {
      const order = i % 2 === 0 ? (['after', 'before'] as const) : (['before', 'after'] as const);
      for (const way of order) {
        const options: SpawnOptions = { env: { ...stage.env, PORT: String(await freePort()) } };
        const ms = await timeToReady(
          () =>
            way === 'after'
              ? spawnSwitchyard('worker', `cold-start-dist-${i}`, options)
              : spawnSwitchyardFromSource('worker', `cold-start-tsx-${i}`, options),
          workers,
          60_000,
        );
        samples[way].push(ms);
      }
    }
    const row: ColdStartRow = {
      what: 'worker cold start: process start → taking jobs',
      runs,
      after: summarize(samples.after),
      before: summarize(samples.before),
      medianRatio: 0,
    };
    row.medianRatio = ratio(row.after.median, row.before.median);
    ctx.log(
      `cold start: node dist/main.js worker median ${row.after.median.toFixed(0)} ms, tsx src/main.ts worker median ${row.before.median.toFixed(0)} ms`,
    );
    return [row];
  } finally {
    await stage.close();
  }
}
