import { randomUUID } from 'node:crypto';
import { WebClient } from '@slack/web-api';
import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { MESSAGE_EVENT_TYPE, SlackChat } from '../../../src/providers/chat/slack.js';
import { SlackOutbox, type OutboxPacing } from '../../../src/queue/slack-outbox.js';
import { startSlackStandIn, type SlackStandIn } from '../../../sandbox/slack.js';
import { ANNOUNCEMENT_MESSAGE, DeploymentStore } from '../../../src/store/deployment-store.js';
import { keys } from '../../../src/store/keys.js';
import { deployment } from '../../unit/fixtures.js';
import { deletePrefix, REDIS_URL, until } from '../../support/harness.js';

const CHANNEL = 'C0DEPLOYS';
const DEPLOYMENT = 'acme-api-20261122-abcd';

describe('SlackOutbox against the Slack stand-in, real Redis and BullMQ', () => {
  let slack: SlackStandIn;
  let redis: Redis;
  let prefix: string;
  let outbox: SlackOutbox;
  let store: DeploymentStore;
  let worker: Worker | undefined;

  const start = (pacing: OutboxPacing = { messagesPerSecond: 200, announcementEveryMs: 300 }) => {
    outbox = new SlackOutbox(redis, redis, prefix, pacing);
    const chat = new SlackChat(
      new WebClient(slack.token, { slackApiUrl: slack.url, rejectRateLimitedCalls: true, retryConfig: { retries: 0 } }),
    );
    worker = outbox.createWorker(chat, store, createLogger('silent'), {
      lockDurationMs: 3000,
      stalledIntervalMs: 1000,
    });
  };

  /** The announcement a thread hangs from, posted the way the bot posts it. */
  const announcement = async (): Promise<string> => {
    const chat = new SlackChat(new WebClient(slack.token, { slackApiUrl: slack.url }));
    return (await chat.post(CHANNEL, 'Production Deployment Scheduled')).ts;
  };

  const replies = (threadTs: string) => slack.thread(CHANNEL, threadTs).filter((m) => m.ts !== threadTs);

  beforeEach(async () => {
    slack = await startSlackStandIn();
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    prefix = `sy-outbox-${randomUUID().slice(0, 8)}`;
    store = new DeploymentStore(redis, prefix);
  });

  afterEach(async () => {
    await worker?.close();
    await outbox.close();
    await deletePrefix(redis, prefix);
    await redis.quit();
    await slack.close();
  });

  it('posts a deployment’s replies in the order they were asked for, each tagged with its key', async () => {
    start();
    const ts = await announcement();
    for (let i = 0; i < 25; i += 1) {
      await outbox.send({
        deploymentId: DEPLOYMENT,
        key: `reply:step:${i}`,
        channel: CHANNEL,
        threadTs: ts,
        text: `step ${i}`,
      });
    }
    await until(() => replies(ts).length === 25, 10_000, '25 replies');
    expect(replies(ts).map((m) => m.text)).toEqual(Array.from({ length: 25 }, (_, i) => `step ${i}`));
    expect(replies(ts)[3]?.metadata).toEqual({
      event_type: MESSAGE_EVENT_TYPE,
      event_payload: { deployment_id: DEPLOYMENT, key: 'reply:step:3' },
    });
    // Slack has the message a moment before the outbox records it.
    expect(await until(() => store.postedTs(DEPLOYMENT, 'reply:step:24'), 3000, 'the last reply recorded')).toBe(
      replies(ts)[24]?.ts,
    );
  });

  describe('the announcement’s thread link', () => {
    const record = deployment({
      id: DEPLOYMENT,
      channel: CHANNEL,
      announcementTs: undefined,
      announcementLink: undefined,
    });
    const announce = () =>
      outbox.send({
        deploymentId: DEPLOYMENT,
        key: ANNOUNCEMENT_MESSAGE,
        channel: CHANNEL,
        text: 'Production Deployment Scheduled',
      });

    beforeEach(async () => {
      await redis.set(keys(prefix).deployment(DEPLOYMENT), JSON.stringify(record));
      await redis.zadd(keys(prefix).all(), record.requestedAt, DEPLOYMENT);
    });

    it('is Slack’s permalink for the posted announcement, with the workspace’s address', async () => {
      start();
      await announce();
      const read = await until(
        async () => ((await store.get(DEPLOYMENT))?.announcementLink ? store.get(DEPLOYMENT) : undefined),
        5000,
        'the permalink recorded',
      );
      const ts = read?.announcementTs as string;
      expect(read?.announcementLink).toBe(`https://sandbox.slack.com/archives/${CHANNEL}/p${ts.replace('.', '')}`);
      expect(slack.calls.filter((c) => c.method === 'chat.getPermalink')).toHaveLength(1);
      expect((await store.recent(5)).find((d) => d.id === DEPLOYMENT)?.announcementLink).toBe(read?.announcementLink);
    });

    it('is fetched when an attempt was killed after recording the announcement but before its permalink', async () => {
      const ts = await announcement();
      await store.markPosted(DEPLOYMENT, ANNOUNCEMENT_MESSAGE, ts);
      start();
      await announce();
      const link = await until(() => store.announcementLink(DEPLOYMENT), 5000, 'the permalink recorded');
      expect(link).toBe(`https://sandbox.slack.com/archives/${CHANNEL}/p${ts.replace('.', '')}`);
      // Nothing was posted again: the one announcement, and no replies.
      expect(slack.messages().filter((m) => m.text === 'Production Deployment Scheduled')).toHaveLength(1);
    });

    it('is left out, not guessed, when chat.getPermalink fails; the announcement still counts as posted', async () => {
      slack.faults.inject({ status: 500, match: '/api/chat.getPermalink', times: Infinity });
      start();
      await announce();
      const read = await until(
        async () => ((await store.get(DEPLOYMENT))?.announcementTs ? store.get(DEPLOYMENT) : undefined),
        5000,
        'the announcement recorded',
      );
      await until(() => outbox.posted(DEPLOYMENT, ANNOUNCEMENT_MESSAGE), 2000, 'posted');
      expect(read?.announcementLink).toBeUndefined();
      expect(slack.thread(CHANNEL, read?.announcementTs as string)).toHaveLength(1);
    });
  });

  it('posts a key once however often it is asked for, also after it went out', async () => {
    start();
    const ts = await announcement();
    const message = {
      deploymentId: DEPLOYMENT,
      key: 'reply:success',
      channel: CHANNEL,
      threadTs: ts,
      text: 'Deployed',
    };
    await Promise.all([outbox.send(message), outbox.send(message), outbox.send(message)]);
    await until(() => replies(ts).length === 1, 5000, 'the reply');
    await outbox.send(message);
    await outbox.send({ ...message, key: 'reply:after', text: 'after' });
    await until(() => replies(ts).length === 2, 5000, 'the next reply');
    expect(replies(ts).map((m) => m.text)).toEqual(['Deployed', 'after']);
  });

  it('waits out a 429 for its Retry-After, then posts once; messages stay in order', async () => {
    start();
    const ts = await announcement();
    const before = slack.requests.length;
    slack.rateLimit('chat.postMessage', 1, 1);
    await outbox.send({ deploymentId: DEPLOYMENT, key: 'reply:a', channel: CHANNEL, threadTs: ts, text: 'first' });
    await outbox.send({ deploymentId: DEPLOYMENT, key: 'reply:b', channel: CHANNEL, threadTs: ts, text: 'second' });
    await until(() => replies(ts).length === 2, 10_000, 'both replies');
    expect(replies(ts).map((m) => m.text)).toEqual(['first', 'second']);
    const limited = slack.requests.slice(before).find((r) => r.path === '/api/chat.postMessage');
    const posted = slack.callsTo('chat.postMessage').filter((c) => c.ok && c.args.thread_ts === ts);
    // Lower bound only: Retry-After was 1 s, so nothing may go out sooner.
    expect((posted[0]?.at ?? 0) - (limited?.at ?? 0)).toBeGreaterThanOrEqual(900);
  });

  it('retries a 5xx with backoff and posts once', async () => {
    start();
    const ts = await announcement();
    slack.faults.inject({ status: 503, body: 'upstream unavailable', times: 2, match: '/api/chat.postMessage' });
    await outbox.send({
      deploymentId: DEPLOYMENT,
      key: 'reply:rollback',
      channel: CHANNEL,
      threadTs: ts,
      text: 'Rolled back',
    });
    await until(() => replies(ts).length === 1, 15_000, 'the reply after two 503s');
    expect(slack.requests.filter((r) => r.path === '/api/chat.postMessage').length).toBeGreaterThanOrEqual(4);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(replies(ts)).toHaveLength(1);
  });

  it('finds the message an interrupted attempt already posted instead of posting it again', async () => {
    start();
    const ts = await announcement();
    // What a worker killed between Slack's answer and recording it leaves behind: the tagged message and the marker.
    const chat = new SlackChat(new WebClient(slack.token, { slackApiUrl: slack.url }));
    const earlier = await chat.reply(CHANNEL, ts, 'Rolled back', undefined, {
      deploymentId: DEPLOYMENT,
      key: 'reply:rollback',
    });
    await redis.hset(`${prefix}:sending:${DEPLOYMENT}`, 'reply:rollback', Date.now());
    await outbox.send({
      deploymentId: DEPLOYMENT,
      key: 'reply:rollback',
      channel: CHANNEL,
      threadTs: ts,
      text: 'Rolled back',
    });
    await until(() => store.postedTs(DEPLOYMENT, 'reply:rollback'), 5000, 'the message recorded as posted');
    expect(await store.postedTs(DEPLOYMENT, 'reply:rollback')).toBe(earlier.ts);
    expect(replies(ts)).toHaveLength(1);
    expect(
      slack
        .callsTo('conversations.replies')
        .some((c) => c.args.include_all_metadata === 'true' || c.args.include_all_metadata === true),
    ).toBe(true);
  });

  it('also finds a top-level post of an interrupted attempt through conversations.history', async () => {
    start();
    const chat = new SlackChat(new WebClient(slack.token, { slackApiUrl: slack.url }));
    const earlier = await chat.post('C0INCIDENT', 'Deployment Rolled Back', undefined, {
      deploymentId: DEPLOYMENT,
      key: 'post:C0INCIDENT:rollback',
    });
    await redis.hset(`${prefix}:sending:${DEPLOYMENT}`, 'post:C0INCIDENT:rollback', Date.now());
    await outbox.send({
      deploymentId: DEPLOYMENT,
      key: 'post:C0INCIDENT:rollback',
      channel: 'C0INCIDENT',
      text: 'Deployment Rolled Back',
    });
    await until(() => store.postedTs(DEPLOYMENT, 'post:C0INCIDENT:rollback'), 5000, 'the post recorded');
    expect(await store.postedTs(DEPLOYMENT, 'post:C0INCIDENT:rollback')).toBe(earlier.ts);
    expect(slack.messages('C0INCIDENT')).toHaveLength(1);
  });

  describe('a retried post to a channel the bot is not a member of (it may post there, not read)', () => {
    const KEY = 'post:C0INCIDENT:rollback';
    /** An attempt that posted and died before recording it, in a channel the bot never joined. */
    const interrupted = async () => {
      slack.setOutsider('C0INCIDENT');
      const chat = new SlackChat(new WebClient(slack.token, { slackApiUrl: slack.url }));
      const earlier = await chat.post('C0INCIDENT', 'Deployment Rolled Back', undefined, {
        deploymentId: DEPLOYMENT,
        key: KEY,
      });
      await redis.hset(`${prefix}:sending:${DEPLOYMENT}`, KEY, Date.now());
      return earlier;
    };

    it('joins the channel to look, finds the earlier post and does not post again', async () => {
      start();
      const earlier = await interrupted();
      await outbox.send({ deploymentId: DEPLOYMENT, key: KEY, channel: 'C0INCIDENT', text: 'Deployment Rolled Back' });
      await until(() => store.postedTs(DEPLOYMENT, KEY), 5000, 'the post recorded');
      expect(await store.postedTs(DEPLOYMENT, KEY)).toBe(earlier.ts);
      expect(slack.messages('C0INCIDENT')).toHaveLength(1);
      expect(slack.callsTo('conversations.history').map((c) => c.error ?? 'ok')).toEqual(['not_in_channel', 'ok']);
      expect(slack.callsTo('conversations.join')).toHaveLength(1);
    });

    it('when it cannot join, gives the message up, saying to invite the bot, rather than post it twice', async () => {
      start();
      await interrupted();
      slack.faults.inject({
        status: 200,
        body: JSON.stringify({ ok: false, error: 'missing_scope', needed: 'channels:join' }),
        times: Infinity,
        match: '/api/conversations.join',
      });
      await outbox.send({ deploymentId: DEPLOYMENT, key: KEY, channel: 'C0INCIDENT', text: 'Deployment Rolled Back' });
      const failed = await until(async () => (await outbox.queue.getFailed())[0], 5000, 'the message given up');
      expect(failed.failedReason).toContain('cannot read C0INCIDENT to look for an earlier attempt');
      expect(failed.failedReason).toContain('/invite @switchyard');
      expect(slack.messages('C0INCIDENT')).toHaveLength(1);
      expect(await store.postedTs(DEPLOYMENT, KEY)).toBeUndefined();
    });
  });

  it('gives up on a message Slack refuses for good and lets the next ones through', async () => {
    start();
    const ts = await announcement();
    await outbox.send({ deploymentId: DEPLOYMENT, key: 'post:C0GONE:x', channel: 'not-a-channel', text: 'lost cause' });
    await outbox.send({ deploymentId: DEPLOYMENT, key: 'reply:next', channel: CHANNEL, threadTs: ts, text: 'next' });
    await until(() => replies(ts).length === 1, 5000, 'the message after the refused one');
    const failed = await outbox.queue.getFailed();
    expect(failed.map((j) => j.failedReason)).toEqual([expect.stringContaining('channel_not_found')]);
    expect(failed[0]?.attemptsMade).toBe(1);
  });

  it('a new announcement goes out ahead of the follow-ups already waiting under the app-wide ceiling', async () => {
    start();
    await worker?.pause();
    // 120 other deployments' channel posts: more than two seconds of work at 50 jobs a second.
    for (let i = 0; i < 120; i += 1) {
      await outbox.send({
        deploymentId: `other-${i}`,
        key: `post:${CHANNEL}:note`,
        channel: CHANNEL,
        text: `note ${i}`,
      });
    }
    await outbox.send({ deploymentId: DEPLOYMENT, key: ANNOUNCEMENT_MESSAGE, channel: CHANNEL, text: 'announced' });
    worker?.resume();

    await until(() => store.postedTs(DEPLOYMENT, ANNOUNCEMENT_MESSAGE), 10_000, 'the announcement');
    const order = slack.callsTo('chat.postMessage').map((c) => String(c.args.text));
    // The worker takes up to its concurrency (8) at once; the announcement is in its first round.
    expect(order.indexOf('announced')).toBeGreaterThanOrEqual(0);
    expect(order.indexOf('announced')).toBeLessThan(8);
    await until(() => slack.callsTo('chat.postMessage').length === 121, 15_000, 'every note too');
  });

  it('paces one channel: after the burst, messages go out no faster than the rate', async () => {
    start({ messagesPerSecond: 4, announcementEveryMs: 300 });
    const ts = await announcement();
    for (let i = 0; i < 10; i += 1) {
      await outbox.send({ deploymentId: DEPLOYMENT, key: `reply:${i}`, channel: CHANNEL, threadTs: ts, text: `m${i}` });
    }
    await until(() => replies(ts).length === 10, 15_000, 'ten paced replies');
    const times = slack
      .callsTo('chat.postMessage')
      .filter((c) => c.args.thread_ts === ts)
      .map((c) => c.at);
    // A burst of 4, then 6 more at 4 per second: at least ~1.5 s from the first to the last.
    expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(1200);
  });

  it('edits the announcement at most once per interval, always ending on the newest version', async () => {
    start({ messagesPerSecond: 200, announcementEveryMs: 400 });
    const ts = await announcement();
    for (let i = 1; i <= 20; i += 1) {
      await outbox.announce({
        deploymentId: DEPLOYMENT,
        channel: CHANNEL,
        ts,
        text: `status ${i}`,
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `status ${i}` } }],
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await until(
      () => slack.messages(CHANNEL).find((m) => m.ts === ts && m.text === 'status 20'),
      5000,
      'the last status',
    );
    const edits = slack.callsTo('chat.update').map((c) => c.at);
    // 20 changes over ~1 s, spaced 400 ms apart: a handful of edits, not twenty.
    expect(edits.length).toBeLessThanOrEqual(5);
    expect(edits.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < edits.length; i += 1) expect((edits[i] ?? 0) - (edits[i - 1] ?? 0)).toBeGreaterThanOrEqual(350);
  });
});
