import { DelayedError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { DeploymentQueue, type DeploymentJobData } from './deployment-queue.js';
import { DeploymentTicker, type TickerDeps } from './deployment-ticker.js';

export type WorkerDeps = TickerDeps;

export interface WorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
}

/**
 * The BullMQ worker: each job run is one or more ticks of one deployment. A deployment that
 * must wait moves its job to the delayed set (`DelayedError`) instead of holding a worker. On
 * close (SIGTERM) BullMQ waits for the running jobs; each finishes its current tick only.
 */
export function createDeploymentWorker(deps: WorkerDeps, options: WorkerOptions): Worker<DeploymentJobData> {
  const ticker = new DeploymentTicker(deps);
  // Set once close() is called (SIGTERM): the step running finishes and is saved, and no new
  // one starts here; the job goes back to the delayed set for another worker.
  let closing = false;
  const worker = new Worker<DeploymentJobData>(
    DeploymentQueue.nameFor(options.prefix),
    async (job: Job<DeploymentJobData>, token?: string) => {
      const result = await ticker.run(job.data.id, () => closing);
      if (result.kind !== 'wait') return result.kind;
      // Wake-up times are on the injected clock; BullMQ's delayed set is on the wall clock.
      await job.moveToDelayed(Date.now() + Math.max(0, result.until - deps.clock()), token);
      throw new DelayedError();
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      // A deployment job may be interrupted many times (worker restarts) and must not fail for it.
      maxStalledCount: 1000,
    },
  );
  worker.on('closing', () => {
    closing = true;
  });
  worker.on('error', (error) => deps.log.error({ err: error }, 'worker error'));
  return worker;
}
