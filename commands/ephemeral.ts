import type { BlockAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { AppContext } from '../src/app/context.js';

/** A reply to a slash command (its ack or a later `respond`) that only the person who typed it sees. */
export const ephemeral = (text: string) => ({ response_type: 'ephemeral' as const, text });

/**
 * An ephemeral reply to whoever pressed a button, in the channel the button is in. Best effort:
 * a reply Slack refuses is logged, never thrown, as the press itself has been handled.
 */
export async function tellUser(
  ctx: Pick<AppContext, 'log'>,
  client: WebClient,
  body: BlockAction,
  text: string,
): Promise<void> {
  const channel = body.channel?.id ?? body.container?.channel_id;
  if (!channel) return;
  await client.chat
    .postEphemeral({ channel, user: body.user.id, text })
    .catch((error: unknown) => ctx.log.warn({ err: error }, 'could not send an ephemeral reply'));
}
