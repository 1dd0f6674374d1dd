import {
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  type ChatUpdateArguments,
  type WebClient,
} from '@slack/web-api';
import { ProviderFailed } from '../../errors.js';
import type { Blocks, ChatProvider, PostedMessage } from './chat.js';

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

/** Turns a WebClient failure into a ProviderFailed that says whether another try may help. */
export function slackFailure(method: string, error: unknown): ProviderFailed {
  if (error instanceof WebAPIPlatformError) {
    const code = error.data.error;
    const details = error.data.response_metadata?.messages?.join('; ');
    return new ProviderFailed(`Slack ${method} failed: ${code}${details ? ` (${details})` : ''}`, {
      cause: error,
      retriable: RETRIABLE_PLATFORM_ERRORS.has(code),
    });
  }
  if (error instanceof WebAPIRateLimitedError) {
    return new ProviderFailed(`Slack ${method} was rate limited (retry after ${error.retryAfter} s)`, { cause: error, retriable: true });
  }
  if (error instanceof WebAPIHTTPError) {
    return new ProviderFailed(`Slack ${method} answered HTTP ${error.statusCode}`, {
      cause: error,
      retriable: error.statusCode >= 500 || error.statusCode === 429,
    });
  }
  if (error instanceof WebAPIRequestError) {
    return new ProviderFailed(`Slack ${method} could not be reached: ${error.original.message}`, { cause: error, retriable: true });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ProviderFailed(`Slack ${method} failed: ${message}`, { cause: error, retriable: true });
}

/** ChatProvider over Slack's Web API; the WebClient's own retry policy handles 429s first. */
export class SlackChat implements ChatProvider {
  constructor(private readonly client: WebClient) {}

  async post(channel: string, text: string, blocks?: Blocks): Promise<PostedMessage> {
    return this.send('chat.postMessage', () => this.client.chat.postMessage({ channel, text, blocks: asSlackBlocks(blocks) }));
  }

  async reply(channel: string, threadTs: string, text: string, blocks?: Blocks): Promise<PostedMessage> {
    return this.send('chat.postMessage', () =>
      this.client.chat.postMessage({ channel, thread_ts: threadTs, text, blocks: asSlackBlocks(blocks) }),
    );
  }

  async update(channel: string, ts: string, text: string, blocks?: Blocks): Promise<void> {
    await this.call('chat.update', () => this.client.chat.update({ channel, ts, text, blocks: asSlackBlocks(blocks) }));
  }

  async permalink(channel: string, ts: string): Promise<string> {
    const result = await this.call('chat.getPermalink', () => this.client.chat.getPermalink({ channel, message_ts: ts }));
    if (!result.permalink) throw new ProviderFailed('Slack chat.getPermalink answered without a permalink', { retriable: false });
    return result.permalink;
  }

  private async send(method: string, request: () => Promise<{ channel?: string; ts?: string }>): Promise<PostedMessage> {
    const result = await this.call(method, request);
    if (!result.channel || !result.ts) {
      throw new ProviderFailed(`Slack ${method} answered without channel and ts`, { retriable: false });
    }
    return { channel: result.channel, ts: result.ts };
  }

  private async call<T>(method: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw slackFailure(method, error);
    }
  }
}
