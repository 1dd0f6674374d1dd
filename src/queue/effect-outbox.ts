import { DelayedError, Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { asSwitchyardError, describeError } from '../errors.js';
import { keys } from '../store/keys.js';

/**
 * A call to a system outside Slack that a deployment asks for: a page, a deploy marker, a
 * GitHub deployment status. Made once per (deployment, key); effects of one (deployment, lane)
 * are made in the order they were asked for, so a resolve never overtakes its trigger.
 */
export interface Effect {
  deploymentId: string;
  /** One call per key, however often a tick that runs again asks for it. */
  key: string;
  /** Effects that must not overtake each other share a lane (`github`, `page:pause`). */
  lane: string;
  /** Which handler makes the call. */
  kind: string;
  payload: unknown;
}

export interface EffectContext {
  deploymentId: string;
  key: string;
  /** What the handler of an earlier effect of this deployment returned (a GitHub deployment's id), if it succeeded. */
  resultOf(key: string): Promise<unknown>;
}

/** Makes one call; throws a `SwitchyardError` saying whether another try may succeed. Its return value is kept for later effects. */
export type EffectHandler = (payload: never, context: EffectContext) => Promise<unknown>;
export type EffectHandlers = Record<string, EffectHandler>;

export interface EffectWorkerOptions {
  concurrency?: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
}

/** How long results are kept unless told: as long as the deployment records (the default retention). */
const DEFAULT_RESULT_TTL_SECONDS = 90 * 24 * 3600;
/** How long an effect waits before looking again whether the ones before it in its lane are done. */
const ORDER_RECHECK_MS = 1000;

const queueName = (prefix: string) => `${prefix}-effects`;
// BullMQ job ids may not contain ':'; effect keys and lanes may.
const jobIdOf = (e: Pick<Effect, 'deploymentId' | 'key'>) => `fx-${e.deploymentId}-${e.key.replaceAll(':', '.')}`;

/** Puts an effect at the end of its lane (once: an effect asked for again keeps its place). */
const TAKE_PLACE = `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local score = tonumber(ARGV[2])
if last[2] and tonumber(last[2]) >= score then score = tonumber(last[2]) + 1 end
redis.call('ZADD', KEYS[1], score, ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
`;

/**
 * Switchyard's one way to call PagerDuty, Datadog's events and DORA APIs and GitHub's
 * deployments for a deployment: each call is a job on its own queue, so an outside system that
 * is slow or down never holds up a step or a rollback. The tick enqueues after its write; the
 * worker role runs the worker. A job id made from the deployment and key makes a call asked for
 * twice (a tick replayed after a crash) one job; a key that already has a result is never made
 * again. Failures retry with exponential backoff and jitter and are logged; one given up on is
 * logged as an error and lets the rest of its lane go on.
 */
export class EffectOutbox {
  readonly queue: Queue<Effect>;
  private readonly keys: ReturnType<typeof keys>;

  constructor(
    connection: ConnectionOptions,
    private readonly redis: Redis,
    readonly prefix: string,
    /**
     * How long an effect's result stays readable: as long as the deployment's record, since a
     * later deployment's effects read it (the GitHub deployment it replaces).
     */
    private readonly resultTtlSeconds: number = DEFAULT_RESULT_TTL_SECONDS,
  ) {
    this.queue = new Queue(queueName(prefix), {
      connection,
      prefix,
      defaultJobOptions: {
        // About half an hour of retries (0.5 s doubling): a longer outage is logged and given up on.
        attempts: 13,
        backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
        removeOnComplete: { age: 24 * 3600, count: 10000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    });
    this.keys = keys(prefix);
  }

  static nameFor(prefix: string): string {
    return queueName(prefix);
  }

  /** Queues an effect; asking twice for the same key is one call. */
  async send(effect: Effect): Promise<void> {
    const jobId = jobIdOf(effect);
    // The place in the lane is taken first: a job never runs without one.
    await this.redis.eval(
      TAKE_PLACE,
      1,
      this.keys.effectLane(effect.deploymentId, effect.lane),
      jobId,
      Date.now(),
      this.resultTtlSeconds,
    );
    await this.queue.add(effect.kind, effect, { jobId });
  }

  /** What the effect of `key` returned, `undefined` while it is not done (or was given up on). */
  async resultOf(deploymentId: string, key: string): Promise<unknown> {
    const raw = await this.redis.hget(this.keys.effectResults(deploymentId), key);
    return raw === null ? undefined : (JSON.parse(raw) as unknown);
  }

  /** The outbox's worker; run it wherever deployments are worked on. */
  createWorker(handlers: EffectHandlers, log: Logger, options: EffectWorkerOptions): Worker<Effect> {
    const worker = new Worker<Effect>(
      queueName(this.prefix),
      async (job, token) => this.make(job, token, handlers, log),
      {
        connection: this.queue.opts.connection,
        prefix: this.prefix,
        concurrency: options.concurrency ?? 8,
        lockDuration: options.lockDurationMs,
        stalledInterval: options.stalledIntervalMs,
        maxStalledCount: 1000,
      },
    );
    worker.on('error', (error) => log.error({ err: error }, 'effect outbox worker error'));
    return worker;
  }

  private async make(job: Job<Effect>, token: string | undefined, handlers: EffectHandlers, log: Logger) {
    const effect = job.data;
    const jobId = job.id as string;
    const context = { deploymentId: effect.deploymentId, key: effect.key, lane: effect.lane, kind: effect.kind };
    if (await this.redis.hexists(this.keys.effectResults(effect.deploymentId), effect.key)) {
      return this.done(effect, jobId);
    }
    const waitMs = await this.waitForTurn(effect, jobId);
    if (waitMs > 0) {
      await job.moveToDelayed(Date.now() + waitMs, token);
      throw new DelayedError();
    }
    const handler = handlers[effect.kind];
    if (!handler) {
      // A process built without that integration (no token configured): nothing to call.
      log.warn(context, `no handler for ${effect.kind} effects; skipping`);
      return this.done(effect, jobId);
    }
    try {
      const result = await handler(effect.payload as never, {
        deploymentId: effect.deploymentId,
        key: effect.key,
        resultOf: (key) => this.resultOf(effect.deploymentId, key),
      });
      // Kept even when the handler returned nothing: the hash also says which effects are done.
      await this.redis
        .multi()
        .hset(this.keys.effectResults(effect.deploymentId), effect.key, JSON.stringify(result ?? null))
        .expire(this.keys.effectResults(effect.deploymentId), this.resultTtlSeconds)
        .exec();
      await this.done(effect, jobId);
    } catch (error) {
      const failure = asSwitchyardError(error);
      const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (!failure.retriable || finalAttempt) {
        log.error({ ...context, err: failure }, `giving up on a ${effect.kind} call: ${describeError(failure)}`);
        await this.done(effect, jobId);
        throw new UnrecoverableError(describeError(failure));
      }
      log.warn({ ...context, err: failure }, `${effect.kind} call failed; retrying`);
      throw failure;
    }
  }

  /** 0 when every effect asked for before this one in its lane is done or given up on. */
  private async waitForTurn(effect: Effect, jobId: string): Promise<number> {
    const lane = this.keys.effectLane(effect.deploymentId, effect.lane);
    for (;;) {
      const [head] = await this.redis.zrange(lane, '0', '0');
      if (!head || head === jobId) return 0;
      const ahead = await this.queue.getJob(head);
      const state = ahead ? await ahead.getState() : 'unknown';
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return ORDER_RECHECK_MS;
      // An effect that will never be made must not hold up the ones after it.
      await this.redis.zrem(lane, head);
    }
  }

  private async done(effect: Effect, jobId: string): Promise<void> {
    const lane = this.keys.effectLane(effect.deploymentId, effect.lane);
    await this.redis.zrem(lane, jobId);
    // The next one in the lane may be sleeping until its recheck: let it go now.
    const [next] = await this.redis.zrange(lane, '0', '0');
    const job = next ? await this.queue.getJob(next) : undefined;
    if (job && (await job.getState()) === 'delayed') await job.promote().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
