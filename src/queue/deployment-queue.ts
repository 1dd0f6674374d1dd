import { Queue, type ConnectionOptions } from 'bullmq';

export const DEPLOYMENT_JOB = 'deployment';

export interface DeploymentJobData {
  id: string;
}

const queueName = (prefix: string) => `${prefix}-deployments`;

/** The BullMQ queue holding one durable job per deployment (jobId = deployment id). */
export class DeploymentQueue {
  readonly queue: Queue<DeploymentJobData>;

  constructor(
    connection: ConnectionOptions,
    readonly prefix: string,
  ) {
    this.queue = new Queue<DeploymentJobData>(queueName(prefix), {
      connection,
      prefix,
      defaultJobOptions: {
        removeOnComplete: 1000,
        removeOnFail: 1000,
        attempts: 5,
        backoff: { type: 'exponential', delay: 1000 },
      },
    });
  }

  static nameFor(prefix: string): string {
    return queueName(prefix);
  }

  /** Adds the deployment's job; adding it twice is one job (BullMQ dedupes on jobId). */
  async add(id: string): Promise<void> {
    await this.queue.add(DEPLOYMENT_JOB, { id }, { jobId: id });
  }

  /** A second job for a finished deployment that is being rolled back after completion. */
  async addRollback(id: string, fence: number): Promise<void> {
    await this.queue.add(DEPLOYMENT_JOB, { id }, { jobId: `${id}-rollback-${fence}` });
  }

  /**
   * Makes the worker look at a deployment now instead of at its next scheduled tick (a
   * decision or a rollback was recorded). A job that is running picks the intent up at its
   * next tick within the same run; one caught between states is retried for a moment.
   */
  async wake(id: string): Promise<void> {
    for (let attempt = 0; attempt < 40; attempt += 1) {
      const job = await this.queue.getJob(id);
      if (!job) return;
      const state = await job.getState();
      if (state !== 'delayed') {
        if (state !== 'active') return;
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      try {
        await job.promote();
        return;
      } catch {
        // The job left the delayed set between the two calls; look again.
      }
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
