import {
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  type ChatUpdateArguments,
  type WebClient,
} from '@slack/web-api';
import { recordSlackError } from '../../metrics.js';
import {
  ChannelUnreadable,
  ChatFailed,
  type Blocks,
  type ChatProvider,
  type MessageTag,
  type PostedMessage,
} from './chat.js';

type SlackBlocks = Extract<ChatUpdateArguments, { blocks: unknown }>['blocks'];

/** Platform errors that say "Slack is struggling", not "the request is wrong". */
const RETRIABLE_PLATFORM_ERRORS = new Set([
  'ratelimited',
  'rate_limited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'team_added_to_org',
]);

// Block Kit builders stay free of SDK types (views/ are pure data), so the cast lives here.
const asSlackBlocks = (blocks: Blocks | undefined): SlackBlocks => blocks as unknown as SlackBlocks;

/** The metadata event type of every message the worker posts. */
export const MESSAGE_EVENT_TYPE = 'switchyard_message';

const metadataOf = (tag: MessageTag | undefined) =>
  tag
    ? { event_type: MESSAGE_EVENT_TYPE, event_payload: { deployment_id: tag.deploymentId, key: tag.key } }
    : undefined;

const hasTag = (
  message: { metadata?: { event_type?: string; event_payload?: Record<string, unknown> } },
  tag: MessageTag,
): boolean =>
  message.metadata?.event_type === MESSAGE_EVENT_TYPE &&
  message.metadata.event_payload?.deployment_id === tag.deploymentId &&
  message.metadata.event_payload?.key === tag.key;

const isNotInChannel = (error: unknown): boolean =>
  error instanceof ChatFailed &&
  error.cause instanceof WebAPIPlatformError &&
  error.cause.data.error === 'not_in_channel';

/** Turns a WebClient failure into the chat provider's ChatFailed: rate limited, retriable or permanent. */
export function slackFailure(method: string, error: unknown): ChatFailed {
  if (error instanceof WebAPIPlatformError) {
    const code = error.data.error;
    const details = error.data.response_metadata?.messages?.join('; ');
    return new ChatFailed(
      `Slack ${method} failed: ${code}${details ? ` (${details})` : ''}`,
      RETRIABLE_PLATFORM_ERRORS.has(code) ? 'retriable' : 'permanent',
      { cause: error },
    );
  }
  if (error instanceof WebAPIRateLimitedError) {
    const retryAfterMs = error.retryAfter * 1000;
    return new ChatFailed(`Slack ${method} was rate limited (retry after ${retryAfterMs / 1000} s)`, 'rate-limited', {
      cause: error,
      retryAfterMs,
    });
  }
  if (error instanceof WebAPIHTTPError) {
    return new ChatFailed(
      `Slack ${method} answered HTTP ${error.statusCode}`,
      error.statusCode >= 500 || error.statusCode === 429 ? 'retriable' : 'permanent',
      { cause: error },
    );
  }
  if (error instanceof WebAPIRequestError) {
    return new ChatFailed(`Slack ${method} could not be reached: ${error.original.message}`, 'retriable', {
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ChatFailed(`Slack ${method} failed: ${message}`, 'retriable', { cause: error });
}

/**
 * ChatProvider over Slack's Web API. The worker's WebClient should reject rate-limited calls
 * and not retry by itself: the outbox retries, and looks for a tagged message first.
 */
export class SlackChat implements ChatProvider {
  constructor(private readonly client: WebClient) {}

  async post(channel: string, text: string, blocks?: Blocks, tag?: MessageTag): Promise<PostedMessage> {
    return this.send('chat.postMessage', () =>
      this.client.chat.postMessage({
        channel,
        text,
        blocks: asSlackBlocks(blocks),
        metadata: metadataOf(tag),
        unfurl_links: false,
      }),
    );
  }

  async reply(
    channel: string,
    threadTs: string,
    text: string,
    blocks?: Blocks,
    tag?: MessageTag,
  ): Promise<PostedMessage> {
    return this.send('chat.postMessage', () =>
      this.client.chat.postMessage({
        channel,
        thread_ts: threadTs,
        text,
        blocks: asSlackBlocks(blocks),
        metadata: metadataOf(tag),
      }),
    );
  }

  /**
   * Reading a channel needs membership; the bot may post to a public channel it is not in
   * (chat:write.public), so a lookup there answers not_in_channel: it joins the channel
   * (channels:join) and looks again. If it cannot join, ChannelUnreadable: nobody can say
   * whether the earlier attempt posted.
   */
  async findTagged(channel: string, tag: MessageTag, threadTs?: string): Promise<PostedMessage | undefined> {
    try {
      return await this.lookForTagged(channel, tag, threadTs);
    } catch (error) {
      if (!isNotInChannel(error)) throw error;
      try {
        await this.call('conversations.join', () => this.client.conversations.join({ channel }));
        return await this.lookForTagged(channel, tag, threadTs);
      } catch (joinError) {
        if (joinError instanceof ChatFailed && joinError.kind !== 'permanent') throw joinError;
        throw new ChannelUnreadable(channel, joinError);
      }
    }
  }

  private async lookForTagged(channel: string, tag: MessageTag, threadTs?: string): Promise<PostedMessage | undefined> {
    const result = threadTs
      ? await this.call('conversations.replies', () =>
          this.client.conversations.replies({ channel, ts: threadTs, include_all_metadata: true, limit: 1000 }),
        )
      : await this.call('conversations.history', () =>
          this.client.conversations.history({ channel, include_all_metadata: true, limit: 200 }),
        );
    const found = (result.messages ?? []).find((m) => hasTag(m as Parameters<typeof hasTag>[0], tag));
    return found?.ts ? { channel, ts: found.ts } : undefined;
  }

  async update(channel: string, ts: string, text: string, blocks?: Blocks): Promise<void> {
    await this.call('chat.update', () => this.client.chat.update({ channel, ts, text, blocks: asSlackBlocks(blocks) }));
  }

  async permalink(channel: string, ts: string): Promise<string> {
    const result = await this.call('chat.getPermalink', () =>
      this.client.chat.getPermalink({ channel, message_ts: ts }),
    );
    if (!result.permalink) throw new ChatFailed('Slack chat.getPermalink answered without a permalink', 'permanent');
    return result.permalink;
  }

  private async send(
    method: string,
    request: () => Promise<{ channel?: string; ts?: string }>,
  ): Promise<PostedMessage> {
    const result = await this.call(method, request);
    if (!result.channel || !result.ts) {
      throw new ChatFailed(`Slack ${method} answered without channel and ts`, 'permanent');
    }
    return { channel: result.channel, ts: result.ts };
  }

  private async call<T>(method: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      recordSlackError(method, error);
      throw slackFailure(method, error);
    }
  }
}
