/** Block Kit blocks, kept opaque here; views/ builds them. */
export type Blocks = Record<string, unknown>[];

export interface PostedMessage {
  channel: string;
  ts: string;
}

/** What the worker says in Slack. */
export interface ChatProvider {
  post(channel: string, text: string, blocks?: Blocks): Promise<PostedMessage>;
  reply(channel: string, threadTs: string, text: string, blocks?: Blocks): Promise<PostedMessage>;
  update(channel: string, ts: string, text: string, blocks?: Blocks): Promise<void>;
  permalink(channel: string, ts: string): Promise<string>;
}
