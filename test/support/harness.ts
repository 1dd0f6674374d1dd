import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { startSwitchyard, type Roles, type RunningSwitchyard } from '../../src/app/bootstrap.js';
import { loadConfig } from '../../src/config.js';
import { isTerminal, type Deployment, type Phase } from '../../src/domain/deployment.js';
import { createLogger } from '../../src/logger.js';
import type { Providers } from '../../src/providers/providers.js';
import { DeploymentQueue } from '../../src/queue/deployment-queue.js';
import { EffectOutbox } from '../../src/queue/effect-outbox.js';
import { SlackOutbox } from '../../src/queue/slack-outbox.js';
import {
  CHANNELS,
  PEOPLE,
  SANDBOX_SIGNING_SECRET,
  startSandbox,
  type Sandbox,
  type SandboxOptions,
} from '../../sandbox/sandbox.js';
import type { SlackMessage } from '../../sandbox/slack.js';
import { SlackUser } from '../../sandbox/slack-user.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface Harness {
  sandbox: Sandbox;
  app: RunningSwitchyard;
  appUrl: string;
  prefix: string;
  redis: Redis;
  user(id: string): SlackUser;
  requester: SlackUser;
  releaseManager: SlackUser;
  otherManager: SlackUser;
  outsider: SlackUser;
  /** The newest announcement (top-level message with the deployment's buttons or decision) in #deployments. */
  announcement(): Promise<SlackMessage>;
  waitForPhase(phases: Phase[], timeoutMs?: number): Promise<Deployment>;
  only(): Promise<Deployment>;
  /**
   * Every key under the harness prefix except the ones each BullMQ worker (deployments, Slack
   * outbox, effect outbox) writes for itself when it starts (`…:meta`, `…:stalled-check`): records, locks,
   * fences, events, intents and jobs all count.
   */
  createdKeys(): Promise<string[]>;
  /** Starts a deployment through Slack and approves it; returns once the worker has it. */
  deployAndApprove(version: string, text?: string): Promise<Deployment>;
  close(): Promise<void>;
}

export const until = async <T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  what: string,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

/** Deletes every key under the prefix (records and BullMQ's), never the whole server. */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (found.length) await redis.del(...found);
  } while (cursor !== '0');
}

export async function startHarness(
  options: SandboxOptions & {
    roles?: Roles;
    env?: Record<string, string>;
    clock?: () => number;
    redisUrl?: string;
    /** Where the app logs (default: pino at TEST_LOG_LEVEL, silent unless set). */
    log?: Logger;
    /** Run the Slack outbox's worker in this process although the roles have no worker. */
    slackOutbox?: boolean;
    /** Adapters to use instead of `sandbox.providers()`, given the started sandbox. */
    providers?: (sandbox: Sandbox) => Providers;
  } = {},
): Promise<Harness> {
  const sandbox = await startSandbox(options);
  const prefix = `sy-test-${randomUUID().slice(0, 8)}`;
  const redisUrl = options.redisUrl ?? REDIS_URL;
  const config = loadConfig({
    SLACK_BOT_TOKEN: sandbox.slack.token,
    SLACK_SIGNING_SECRET: SANDBOX_SIGNING_SECRET,
    SLACK_API_URL: sandbox.slack.url,
    REDIS_URL: redisUrl,
    SWITCHYARD_PREFIX: prefix,
    PORT: '0',
    LOG_LEVEL: 'silent',
    WORKER_LOCK_MS: '3000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    SLACK_CHANNEL_MESSAGES_PER_SECOND: '100',
    ANNOUNCEMENT_UPDATE_MS: '200',
    ...options.env,
  });
  const log = options.log ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const app = await startSwitchyard({
    config,
    catalog: sandbox.catalog,
    roles: options.roles ?? { bot: true, worker: true },
    providers: options.providers ? options.providers(sandbox) : sandbox.providers({ log }),
    clock: options.clock,
    log,
  });
  // A bot on its own only enqueues Slack messages; the worker role sends them. A test without
  // worker processes asks for the outbox's worker alone, so what the bot posts reaches Slack.
  const outboxWorker = !options.slackOutbox
    ? undefined
    : app.ctx.outbox.createWorker(sandbox.providers().chat, app.store, app.ctx.log, {
        lockDurationMs: config.WORKER_LOCK_MS,
        stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS,
      });
  const appUrl = `http://127.0.0.1:${app.port}`;
  const redis = new Redis(redisUrl);
  const outbox = new Queue(SlackOutbox.nameFor(prefix), { connection: redis, prefix });
  const quiet = async (): Promise<boolean> => {
    const [deployments, messages] = await Promise.all([
      app.queue.queue.getJobCounts('active'),
      outbox.getJobCounts('active', 'waiting', 'delayed', 'prioritized'),
    ]);
    return deployments.active === 0 && Object.values(messages).every((n) => n === 0);
  };
  const user = (id: string) => new SlackUser(id, appUrl, sandbox.slack, SANDBOX_SIGNING_SECRET, CHANNELS.team);

  const harness: Harness = {
    sandbox,
    app,
    appUrl,
    prefix,
    redis,
    user,
    requester: user(PEOPLE.requester),
    releaseManager: user(PEOPLE.releaseManager),
    otherManager: user(PEOPLE.otherManager),
    outsider: user(PEOPLE.outsider),
    announcement: () =>
      until(
        () =>
          [...sandbox.slack.messages(CHANNELS.deployments)]
            .reverse()
            .find((m) => !m.thread_ts && m.text.includes('Production Deployment Scheduled')),
        // The outbox of a worker posts it: one in a process of its own may still be starting.
        10_000,
        'the announcement',
      ),
    only: async () => {
      const [d] = await app.store.recent(1);
      if (!d) throw new Error('no deployment recorded');
      return d;
    },
    waitForPhase: async (phases, timeoutMs = 20_000) => {
      const d = await until(
        async () => {
          const [latest] = await app.store.recent(1);
          return latest && phases.includes(latest.phase) ? latest : undefined;
        },
        timeoutMs,
        `a deployment in ${phases.join(' or ')}`,
      );
      // Slack messages go out through the outbox after the record is saved: let them land.
      if (isTerminal(d.phase)) await until(quiet, 10_000, 'the worker and the Slack outbox to go quiet');
      return d;
    },
    createdKeys: async () => {
      const queues = [DeploymentQueue.nameFor(prefix), SlackOutbox.nameFor(prefix), EffectOutbox.nameFor(prefix)];
      const bookkeeping = new Set(
        queues.flatMap((queue) => ['meta', 'stalled-check'].map((k) => `${prefix}:${queue}:${k}`)),
      );
      const found: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        found.push(...batch.filter((k) => !bookkeeping.has(k)));
      } while (cursor !== '0');
      return found.sort();
    },
    async deployAndApprove(version, text) {
      const { view } = await harness.requester.requestDeploy(text ?? `acme-api ${version}`);
      const submitted = await harness.requester.submitChecklist(view);
      if (submitted.status !== 200 || submitted.body) throw new Error(`checklist refused: ${submitted.body}`);
      const announcement = await harness.announcement();
      await harness.releaseManager.press(announcement, 'approve_deployment');
      return harness.waitForPhase(['running', 'rolling-back', 'succeeded', 'rolled-back', 'failed']);
    },
    async close() {
      await outbox.close();
      await outboxWorker?.close();
      await app.close();
      await sandbox.close();
      await deletePrefix(redis, prefix);
      await redis.quit();
    },
  };
  return harness;
}
