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
