import { LogLevel, WebClient } from '@slack/web-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderFailed } from '../../../src/errors.js';
import { SlackChat } from '../../../src/providers/chat/slack.js';
import { startSlackStandIn, type SlackStandIn } from '../../../sandbox/slack.js';

const CHANNEL = 'C0DEPLOYS';

const clientFor = (slack: SlackStandIn, token = slack.token) =>
  new WebClient(token, {
    slackApiUrl: slack.url,
    logLevel: LogLevel.ERROR,
    retryConfig: { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 10 },
  });

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

describe('SlackChat against the Slack stand-in', () => {
  let slack: SlackStandIn;
  let chat: SlackChat;

  beforeAll(async () => {
    slack = await startSlackStandIn();
    chat = new SlackChat(clientFor(slack));
  });
  afterAll(() => slack.close());
  beforeEach(() => slack.reset());

  it('posts a message and answers with its channel and a Slack-shaped ts', async () => {
    const posted = await chat.post(CHANNEL, 'Deploying acme-api abc1234', [section('*acme-api* abc1234')]);

    expect(posted.channel).toBe(CHANNEL);
    expect(posted.ts).toMatch(/^\d{10}\.\d{6}$/);
    const [message] = slack.messages(CHANNEL);
    expect(message).toMatchObject({
      ts: posted.ts,
      text: 'Deploying acme-api abc1234',
      blocks: [section('*acme-api* abc1234')],
    });
    expect(slack.callsTo('chat.postMessage')[0]?.args).toMatchObject({
      channel: CHANNEL,
      blocks: [section('*acme-api* abc1234')],
    });
  });

  it('replies in the thread and updates the parent; timestamps keep increasing', async () => {
    const parent = await chat.post(CHANNEL, 'announcement');
    const first = await chat.reply(CHANNEL, parent.ts, 'preflight ok');
    const second = await chat.reply(CHANNEL, parent.ts, 'deploy idle ok');
    await chat.update(CHANNEL, parent.ts, 'announcement: shifting 10%', [section('10%')]);

    expect(first.ts > parent.ts && second.ts > first.ts).toBe(true);
    const thread = slack.thread(CHANNEL, parent.ts);
    expect(thread.map((m) => m.text)).toEqual(['announcement: shifting 10%', 'preflight ok', 'deploy idle ok']);
    expect(thread[0]?.blocks).toEqual([section('10%')]);
    expect(thread[0]?.edited).toBeDefined();

    const client = clientFor(slack);
    const replies = await client.conversations.replies({ channel: CHANNEL, ts: parent.ts });
    expect(replies.messages?.map((m) => m.text)).toEqual([
      'announcement: shifting 10%',
      'preflight ok',
      'deploy idle ok',
    ]);
    expect(replies.messages?.[0]?.reply_count).toBe(2);
  });

  it('gives a permalink for a message and for a thread reply', async () => {
    const parent = await chat.post(CHANNEL, 'announcement');
    const reply = await chat.reply(CHANNEL, parent.ts, 'reply');

    expect(await chat.permalink(CHANNEL, parent.ts)).toBe(
      `https://sandbox.slack.com/archives/${CHANNEL}/p${parent.ts.replace('.', '')}`,
    );
    expect(await chat.permalink(CHANNEL, reply.ts)).toContain(`?thread_ts=${parent.ts}&cid=${CHANNEL}`);
  });

  it('waits out a 429 with Retry-After and then posts once', async () => {
    slack.rateLimit('chat.postMessage', 1);
    const started = Date.now();

    const posted = await chat.post(CHANNEL, 'after throttling');

    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(slack.requests.filter((r) => r.path === '/api/chat.postMessage')).toHaveLength(2);
    expect(slack.messages(CHANNEL).map((m) => m.ts)).toEqual([posted.ts]);
  });

  it('retries a 503 from the WebClient and reports a retriable failure when it persists', async () => {
    slack.faults.inject({ status: 503, times: 3, match: 'chat.postMessage', body: 'upstream unavailable' });

    const error = await chat.post(CHANNEL, 'x').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProviderFailed);
    expect(error).toMatchObject({ code: 'provider_failed', retriable: true });
    expect((error as Error).message).toContain('HTTP 503');
  });

  it('reports an invalid token as a failure that another try will not fix', async () => {
    const wrong = new SlackChat(clientFor(slack, 'xoxb-not-the-one'));

    const error = await wrong.post(CHANNEL, 'x').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProviderFailed);
    expect(error).toMatchObject({ retriable: false });
    expect((error as Error).message).toBe('Slack chat.postMessage failed: invalid_auth');
    expect(slack.messages()).toEqual([]);
  });

  it('refuses what Slack refuses: unknown message, bad channel, more than 50 blocks', async () => {
    await expect(chat.update(CHANNEL, '1700000000.000100', 'x')).rejects.toThrow('message_not_found');
    await expect(chat.post('#deployments', 'x')).rejects.toThrow('channel_not_found');

    const blocks = Array.from({ length: 51 }, (_, i) => section(`line ${i}`));
    const error = await chat.post(CHANNEL, 'too long', blocks).catch((e: unknown) => e);
    expect(error).toMatchObject({ retriable: false });
    expect((error as Error).message).toContain('invalid_blocks');
    expect((error as Error).message).toContain('no more than 50 items allowed [json-pointer:/blocks]');
  });

  it('keeps blocks when an update gives none, as Slack does', async () => {
    const parent = await chat.post(CHANNEL, 'a', [section('kept')]);
    await chat.update(CHANNEL, parent.ts, 'b');

    expect(slack.messages(CHANNEL)[0]).toMatchObject({ text: 'b', blocks: [section('kept')] });
  });
});
