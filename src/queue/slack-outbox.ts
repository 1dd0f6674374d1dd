import { DelayedError, Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { asSwitchyardError, describeError } from '../errors.js';
import {
  ChannelUnreadable,
  ChatFailed,
  type Blocks,
  type ChatProvider,
  type PostedMessage,
} from '../providers/chat/chat.js';
import { ANNOUNCEMENT_MESSAGE, type DeploymentStore } from '../store/deployment-store.js';
import { keys } from '../store/keys.js';

/** A message a deployment wants in Slack, posted once per (deployment, key). */
export interface OutboxMessage {
  deploymentId: string;
  key: string;
  channel: string;
  /** Set for a reply in the thread of a message posted outside the outbox. */
  threadTs?: string;
  /**
   * Set for a reply in the thread of this deployment's message of that key (its announcement):
   * the outbox looks its ts up when the reply goes out, which is after that message went.
   */
  inThreadOf?: string;
  text: string;
  blocks?: Blocks;
}

/** A message as it should read now (the announcement, an alert): the newest one asked for is what the next edit sends. */
export interface MessageEdit {
  deploymentId: string;
  /** The message's key: the outbox finds its ts among what it posted, unless `ts` is given. */
  key: string;
  channel: string;
  text: string;
  blocks: Blocks;
  /** The message's ts when it is known (or was posted outside the outbox). */
  ts?: string;
}

/** Where a message stands, for a handler that waits to learn whether its message went out. */
export type Delivery = { state: 'posted'; ts: string } | { state: 'failed'; reason: string } | { state: 'pending' };

interface EditJob {
  deploymentId: string;
  key?: string;
}

type OutboxJob = Job<OutboxMessage | EditJob>;

export interface OutboxPacing {
  /** Messages per second per channel (Slack allows about one, with short bursts). */
  messagesPerSecond: number;
  /** A message (the announcement's status line) is edited at most this often. */
  announcementEveryMs: number;
}

export interface OutboxWorkerOptions {
  concurrency?: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
}

const MESSAGE = 'message';
const EDIT = 'edit';
const BURST = 4;
/**
 * Every message but a new announcement: BullMQ takes jobs without a priority first, so under the
 * app-wide rate ceiling a just-submitted deployment is announced ahead of other deployments'
 * thread replies and status edits (its submitter waits for it; theirs can wait a moment).
 */
const FOLLOW_UP_PRIORITY = 10;
/**
 * How long a message waits before looking again whether the ones before it have gone out; a
 * safety net, as the message before it wakes it when it goes.
 */
const ORDER_RECHECK_MS = 1000;

const queueName = (prefix: string) => `${prefix}-slack`;
// BullMQ job ids may not contain ':'; keys do (`reply:step:3:done`).
const messageJobId = (m: Pick<OutboxMessage, 'deploymentId' | 'key'>) =>
  `msg-${m.deploymentId}-${m.key.replaceAll(':', '.')}`;
const isMessage = (job: OutboxJob): job is Job<OutboxMessage> => job.name === MESSAGE;

const EDIT_TTL_MS = 30 * 24 * 3600 * 1000;
/** How often a handler waiting for its message, or an edit waiting for its message to be posted, looks again. */
const POLL_MS = 100;

/** Puts a message at the end of its deployment's line (once: a message asked for again keeps its place). */
const TAKE_PLACE = `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local score = tonumber(ARGV[2])
if last[2] and tonumber(last[2]) >= score then score = tonumber(last[2]) + 1 end
redis.call('ZADD', KEYS[1], score, ARGV[1])
return 1
`;

/**
 * Token bucket per channel, shared by every worker through Redis. Returns 0 when a message may
 * go now (and takes a token), or the milliseconds until one may.
 */
const TAKE_TOKEN = `
local capacity = tonumber(ARGV[1])
local perMs = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * perMs)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / perMs) end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], 60000)
return wait
`;

/**
 * Switchyard's one way to write in Slack channels and threads: the announcement, every thread
 * reply, channel post and announcement edit is a job on its own queue, so a slow or failing
 * Slack never blocks a handler or a deployment step, and one writer owns each message. The bot
 * only enqueues (this class without `createWorker`); the worker role runs the worker. Messages
 * of a deployment go out in the order they were asked for, each once: a post is tagged with
 * message metadata, and a retry after an uncertain attempt (timeout, crash) first looks for
 * the tagged message before posting again. Posted messages' ts are recorded by key; replies
 * in the announcement's thread and its edits look it up there. 429s pause the queue for
 * Retry-After; other transient failures retry with exponential backoff and jitter.
 */
export class SlackOutbox {
  readonly queue: Queue<OutboxMessage | EditJob>;
  private readonly keys: ReturnType<typeof keys>;

  constructor(
    connection: ConnectionOptions,
    private readonly redis: Redis,
    readonly prefix: string,
    private readonly pacing: OutboxPacing,
  ) {
    this.queue = new Queue(queueName(prefix), {
      connection,
      prefix,
      defaultJobOptions: {
        attempts: 12,
        backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
        removeOnComplete: { age: 3600, count: 5000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    });
    this.keys = keys(prefix);
  }

  static nameFor(prefix: string): string {
    return queueName(prefix);
  }

  /** Queues a message; asking twice for the same key is one message. */
  async send(message: OutboxMessage): Promise<void> {
    const jobId = messageJobId(message);
    // The place in line is taken first: a job never runs without one.
    await this.redis.eval(TAKE_PLACE, 1, this.keys.outboxOrder(message.deploymentId), jobId, Date.now());
    await this.queue.add(
      MESSAGE,
      message,
      message.key === ANNOUNCEMENT_MESSAGE ? { jobId } : { jobId, priority: FOLLOW_UP_PRIORITY },
    );
  }

  /**
   * Waits up to `timeoutMs` for a message to go out or to be given up on; `pending` when it
   * is still trying (it keeps trying after that).
   */
  async delivery(deploymentId: string, key: string, timeoutMs: number): Promise<Delivery> {
    const deadline = Date.now() + timeoutMs;
    const jobId = messageJobId({ deploymentId, key });
    for (;;) {
      const ts = await this.redis.hget(this.keys.posted(deploymentId), key);
      if (ts) return { state: 'posted', ts };
      const job = await this.queue.getJob(jobId);
      if (job && (await job.getState()) === 'failed') return { state: 'failed', reason: job.failedReason };
      if (Date.now() >= deadline) return { state: 'pending' };
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** The announcement as it should now read (see `edit`). */
  async announce(edit: Omit<MessageEdit, 'key'>): Promise<void> {
    await this.edit({ ...edit, key: ANNOUNCEMENT_MESSAGE });
  }

  /**
   * Records how a message should now read and makes sure one edit is queued; edits of a
   * message are spaced by `announcementEveryMs` and each sends the newest version. An edit
   * asked for before the message went out waits for it.
   */
  async edit(edit: MessageEdit): Promise<void> {
    const { deploymentId, channel, text, blocks } = edit;
    const key = this.keys.edit(deploymentId, edit.key);
    const replies = await this.redis
      .multi()
      .hset(key, { channel, text, blocks: JSON.stringify(blocks), ...(edit.ts ? { ts: edit.ts } : {}) })
      .hincrby(key, 'version', 1)
      .pexpire(key, EDIT_TTL_MS)
      .hget(key, 'sentAt')
      .exec();
    const lastSentAt = Number(replies?.[3]?.[1] ?? 0);
    const delay = Math.max(0, lastSentAt + this.pacing.announcementEveryMs - Date.now());
    await this.queue.add(
      EDIT,
      { deploymentId, key: edit.key },
      {
        delay,
        priority: FOLLOW_UP_PRIORITY,
        deduplication: { id: `edit-${deploymentId}-${edit.key.replaceAll(':', '.')}`, keepLastIfActive: true },
      },
    );
  }

  /** Whether this message went out (its ts is recorded). */
  async posted(deploymentId: string, key: string): Promise<boolean> {
    return (await this.redis.hexists(this.keys.posted(deploymentId), key)) === 1;
  }

  /** Whether an edit of this message was ever asked for (within the 30 days edits are kept). */
  async edited(deploymentId: string, key: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.edit(deploymentId, key))) === 1;
  }

  /** The outbox's worker; run it wherever deployments are worked on. */
  createWorker(chat: ChatProvider, store: DeploymentStore, log: Logger, options: OutboxWorkerOptions): Worker {
    const worker = new Worker(
      queueName(this.prefix),
      async (job: OutboxJob, token?: string) => {
        if (isMessage(job)) return this.deliver(job, token, chat, store, log);
        return this.editMessage(job as Job<EditJob>, token, chat, store, log);
      },
      {
        connection: this.queue.opts.connection,
        prefix: this.prefix,
        concurrency: options.concurrency ?? 8,
        // A killed worker's message holds up the rest of its deployment's thread until BullMQ
        // notices: the same short lock and stall check as the deployment jobs.
        lockDuration: options.lockDurationMs,
        stalledInterval: options.stalledIntervalMs,
        maxStalledCount: 1000,
        // A ceiling for the whole app across channels and workers; 429s lower it further for Retry-After.
        limiter: { max: 50, duration: 1000 },
      },
    );
    worker.on('error', (error) => log.error({ err: error }, 'slack outbox worker error'));
    return worker;
  }

  private async deliver(
    job: Job<OutboxMessage>,
    token: string | undefined,
    chat: ChatProvider,
    store: DeploymentStore,
    log: Logger,
  ): Promise<void> {
    const m = job.data;
    const jobId = job.id as string;
    const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const postedEarlier = await store.postedTs(m.deploymentId, m.key);
    if (postedEarlier) {
      // An attempt killed after recording the announcement may not have got its permalink yet.
      if (m.key === ANNOUNCEMENT_MESSAGE && !(await store.announcementLink(m.deploymentId))) {
        await this.keepPermalink(chat, store, m.deploymentId, { channel: m.channel, ts: postedEarlier }, log);
      }
      return this.done(m, jobId);
    }
    const waitMs = (await this.waitForTurn(m, jobId)) || (await this.takeToken(m.channel));
    if (waitMs > 0) {
      await job.moveToDelayed(Date.now() + waitMs, token);
      throw new DelayedError();
    }
    const tag = { deploymentId: m.deploymentId, key: m.key };
    const threadTs = m.threadTs ?? (m.inThreadOf ? await store.postedTs(m.deploymentId, m.inThreadOf) : undefined);
    if (m.inThreadOf && !threadTs) {
      // Its line put it after that message, which was given up on: there is no thread to reply in.
      return this.failed(
        new ChatFailed(`the ${m.inThreadOf} of ${m.deploymentId} was never posted`, 'permanent'),
        m,
        jobId,
        true,
        log,
      );
    }
    try {
      // An earlier attempt may have reached Slack and died before recording it.
      const uncertain = await this.redis.hexists(this.keys.outboxSending(m.deploymentId), m.key);
      const earlier = uncertain ? await this.findEarlier(chat, m, threadTs, log) : undefined;
      await this.redis.hset(this.keys.outboxSending(m.deploymentId), m.key, Date.now());
      const posted: PostedMessage =
        earlier ??
        (threadTs
          ? await chat.reply(m.channel, threadTs, m.text, m.blocks, tag)
          : await chat.post(m.channel, m.text, m.blocks, tag));
      const announced =
        m.key === ANNOUNCEMENT_MESSAGE
          ? { at: Date.now(), actor: 'switchyard', type: 'announced', detail: `${m.channel} ${posted.ts}` }
          : undefined;
      await store.markPosted(m.deploymentId, m.key, posted.ts, announced);
      if (announced) await this.keepPermalink(chat, store, m.deploymentId, posted, log);
      await this.done(m, jobId);
    } catch (error) {
      await this.failed(error, m, jobId, finalAttempt, log);
    }
  }

  /**
   * Thread links come from Slack (`chat.getPermalink`), which knows the workspace's address; a
   * link that cannot be had now is left out of reports rather than guessed, and never holds up
   * the thread.
   */
  private async keepPermalink(
    chat: ChatProvider,
    store: DeploymentStore,
    deploymentId: string,
    posted: PostedMessage,
    log: Logger,
  ): Promise<void> {
    try {
      await store.markAnnouncementLink(deploymentId, await chat.permalink(posted.channel, posted.ts));
    } catch (error) {
      log.warn({ err: error, deploymentId }, 'no permalink for the announcement: reports show it without a link');
    }
  }

  /** The message an interrupted attempt may have posted; unknown (so post) when Slack cannot say. */
  private async findEarlier(
    chat: ChatProvider,
    m: OutboxMessage,
    threadTs: string | undefined,
    log: Logger,
  ): Promise<PostedMessage | undefined> {
    try {
      return await chat.findTagged(m.channel, { deploymentId: m.deploymentId, key: m.key }, threadTs);
    } catch (error) {
      const failure = asSwitchyardError(error);
      // Not knowing whether it went out where it cannot be looked for: posting could show it twice.
      if (failure.retriable || failure instanceof ChannelUnreadable) throw failure;
      // Losing a message is worse than showing it twice.
      log.warn(
        { deploymentId: m.deploymentId, key: m.key, err: failure },
        'cannot look for an earlier attempt; posting',
      );
      return undefined;
    }
  }

  private async editMessage(
    job: Job<EditJob>,
    token: string | undefined,
    chat: ChatProvider,
    store: DeploymentStore,
    log: Logger,
  ): Promise<void> {
    const { deploymentId } = job.data;
    const message = job.data.key ?? ANNOUNCEMENT_MESSAGE;
    const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const key = this.keys.edit(deploymentId, message);
    const wanted = await this.redis.hgetall(key);
    const version = Number(wanted.version ?? 0);
    if (!wanted.channel || version <= Number(wanted.sentVersion ?? 0)) return;
    const ts = wanted.ts ?? (await store.postedTs(deploymentId, message));
    if (!ts) {
      // Edited before it went out: wait for the post, unless it was given up on.
      const post = await this.queue.getJob(messageJobId({ deploymentId, key: message }));
      const state = post ? await post.getState() : 'unknown';
      if (state === 'completed' || state === 'failed' || state === 'unknown') return;
      await job.moveToDelayed(Date.now() + POLL_MS, token);
      throw new DelayedError();
    }
    // An edit queued while the previous one was being sent must still keep its distance.
    const notBefore = Number(wanted.sentAt ?? 0) + this.pacing.announcementEveryMs;
    if (notBefore > Date.now()) {
      await job.moveToDelayed(notBefore, token);
      throw new DelayedError();
    }
    try {
      await chat.update(wanted.channel, ts, wanted.text ?? '', JSON.parse(wanted.blocks ?? '[]') as Blocks);
      // Never move sentVersion backwards: a newer edit may have finished first.
      await this.redis.eval(
        "if tonumber(redis.call('HGET', KEYS[1], 'sentVersion') or '0') < tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], 'sentVersion', ARGV[1], 'sentAt', ARGV[2]) end",
        1,
        key,
        version,
        Date.now(),
      );
    } catch (error) {
      await this.failed(error, { deploymentId, key: message, channel: wanted.channel }, undefined, finalAttempt, log);
    }
  }

  /** 0 when every message the deployment asked for before this one has gone out (or given up). */
  private async waitForTurn(m: OutboxMessage, jobId: string): Promise<number> {
    const order = this.keys.outboxOrder(m.deploymentId);
    for (;;) {
      const [head] = await this.redis.zrange(order, '0', '0');
      if (!head || head === jobId) return 0;
      const ahead = await this.queue.getJob(head);
      const state = ahead ? await ahead.getState() : 'unknown';
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return ORDER_RECHECK_MS;
      // A message that will never be sent must not hold up the ones after it.
      await this.redis.zrem(order, head);
    }
  }

  private async takeToken(channel: string): Promise<number> {
    const perMs = this.pacing.messagesPerSecond / 1000;
    return Number(await this.redis.eval(TAKE_TOKEN, 1, this.keys.slackRate(channel), BURST, perMs, Date.now()));
  }

  private async done(m: Pick<OutboxMessage, 'deploymentId' | 'key'>, jobId: string): Promise<void> {
    await this.redis
      .multi()
      .hdel(this.keys.outboxSending(m.deploymentId), m.key)
      .zrem(this.keys.outboxOrder(m.deploymentId), jobId)
      .exec();
    await this.wakeNext(m.deploymentId);
  }

  /** The next message in line may be sleeping until its recheck: let it go now. */
  private async wakeNext(deploymentId: string): Promise<void> {
    const [next] = await this.redis.zrange(this.keys.outboxOrder(deploymentId), '0', '0');
    const job = next ? await this.queue.getJob(next) : undefined;
    // It may have left the delayed set by itself in between; then there is nothing to do.
    if (job && (await job.getState()) === 'delayed') await job.promote().catch(() => undefined);
  }

  private async failed(
    error: unknown,
    m: Pick<OutboxMessage, 'deploymentId' | 'key' | 'channel'>,
    jobId: string | undefined,
    finalAttempt: boolean,
    log: Logger,
  ): Promise<never> {
    const failure = asSwitchyardError(error);
    const context = { deploymentId: m.deploymentId, key: m.key, channel: m.channel };
    if (error instanceof ChatFailed && error.kind === 'rate-limited') {
      const retryAfterMs = error.retryAfterMs ?? 1000;
      log.warn({ ...context, retryAfterMs }, 'Slack rate limited the outbox; pausing it');
      await this.queue.rateLimit(retryAfterMs);
      throw Worker.RateLimitError();
    }
    if (!failure.retriable || finalAttempt) {
      log.error({ ...context, err: failure }, `giving up on a Slack message: ${describeError(failure)}`);
      if (jobId) await this.done(m, jobId);
      throw new UnrecoverableError(describeError(failure));
    }
    log.warn({ ...context, err: failure }, 'Slack message not sent yet; retrying');
    throw failure;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
