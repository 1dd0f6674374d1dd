import { ProviderFailed } from '../../errors.js';

/** Block Kit blocks, kept opaque here; views/ builds them. */
export type Blocks = Record<string, unknown>[];

export interface PostedMessage {
  channel: string;
  ts: string;
}

/** Which deployment message a post is: carried with it, so a retry can find it (message metadata). */
export interface MessageTag {
  deploymentId: string;
  key: string;
}

/** What the worker says in Slack. */
export interface ChatProvider {
  post(channel: string, text: string, blocks?: Blocks, tag?: MessageTag): Promise<PostedMessage>;
  reply(channel: string, threadTs: string, text: string, blocks?: Blocks, tag?: MessageTag): Promise<PostedMessage>;
  update(channel: string, ts: string, text: string, blocks?: Blocks): Promise<void>;
  permalink(channel: string, ts: string): Promise<string>;
  /** A message posted earlier with `tag` in the channel (or in the thread of `threadTs`), if any. */
  findTagged(channel: string, tag: MessageTag, threadTs?: string): Promise<PostedMessage | undefined>;
}

/**
 * How a chat call failed, in the provider's own words: `rate-limited` (nothing may be sent until
 * `retryAfterMs` has passed), `retriable` (another try may work) or `permanent` (it never will).
 */
export type ChatFailureKind = 'rate-limited' | 'retriable' | 'permanent';

/** What every ChatProvider throws, so callers classify failures without knowing the adapter. */
export class ChatFailed extends ProviderFailed {
  readonly kind: ChatFailureKind;
  readonly retryAfterMs?: number;

  constructor(message: string, kind: ChatFailureKind, options: { cause?: unknown; retryAfterMs?: number } = {}) {
    super(message, { cause: options.cause, retriable: kind !== 'permanent' });
    this.kind = kind;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * The channel cannot be read to look for an earlier attempt (the bot is not a member and cannot
 * join it): whether that attempt posted is unknown, so the message must not be posted again.
 */
export class ChannelUnreadable extends ChatFailed {
  constructor(
    readonly channel: string,
    cause: unknown,
  ) {
    super(
      `cannot read ${channel} to look for an earlier attempt: the bot is not a member and could not join; invite it (/invite @switchyard)`,
      'permanent',
      { cause },
    );
  }
}
