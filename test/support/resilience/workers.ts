import { startSwitchyard, type RunningSwitchyard } from '../../../src/app/bootstrap.js';
import { loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/logger.js';
import { SANDBOX_SIGNING_SECRET } from '../../../sandbox/sandbox.js';
import type { Harness } from '../harness.js';
import { REDIS_URL } from '../harness.js';

/**
 * Another worker on the harness's Redis prefix, in this process: the replacement that takes over
 * a killed worker's deployment, as a second worker already running in production would. Lock and
 * stall settings are the product's defaults unless `env` says otherwise, so the time it takes to
 * pick the deployment up is the one an install gets.
 */
export function startReplacementWorker(
  h: Harness,
  options: { redisUrl?: string; env?: Record<string, string> } = {},
): Promise<RunningSwitchyard> {
  const config = loadConfig({
    SLACK_BOT_TOKEN: h.sandbox.slack.token,
    SLACK_SIGNING_SECRET: SANDBOX_SIGNING_SECRET,
    SLACK_API_URL: h.sandbox.slack.url,
    REDIS_URL: options.redisUrl ?? REDIS_URL,
    SWITCHYARD_PREFIX: h.prefix,
    PORT: '0',
    LOG_LEVEL: 'silent',
    SLACK_CHANNEL_MESSAGES_PER_SECOND: '100',
    ANNOUNCEMENT_UPDATE_MS: '200',
    ...options.env,
  });
  return startSwitchyard({
    config,
    catalog: h.sandbox.catalog,
    roles: { bot: false, worker: true },
    providers: h.sandbox.providers(),
    log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
  });
}

/** When BullMQ last handed the deployment's job to a worker (ms since epoch), if it ever did. */
export async function jobActivatedAt(h: Harness, id: string): Promise<number | undefined> {
  const job = await h.app.queue.queue.getJob(id);
  return job?.processedOn ?? undefined;
}

/** The deployment job's BullMQ state (`active`, `delayed`, …). */
export async function jobState(h: Harness, id: string): Promise<string> {
  const job = await h.app.queue.queue.getJob(id);
  return job ? await job.getState() : 'missing';
}
