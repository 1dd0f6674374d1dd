import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';

/**
 * Errors of `chat.postEphemeral` that mean the bot cannot reach that channel at all: a DM
 * between people, or a private channel the bot is not in, answers `channel_not_found`.
 */
const UNREACHABLE = new Set(['channel_not_found', 'not_in_channel']);

const slackError = (error: unknown): string | undefined =>
  (error as { data?: { error?: unknown } } | undefined)?.data?.error as string | undefined;

/**
 * Tells one person something only they should see: an ephemeral message in the channel they
 * acted in, or, when the bot cannot post there, a message from the bot in their app DM
 * (`chat.postMessage` to the user id opens it). Never throws: returns how the message went.
 */
export async function tellUser(
  client: WebClient,
  log: Logger,
  message: { channel?: string; user: string; text: string },
): Promise<'ephemeral' | 'direct-message' | 'failed'> {
  const { channel, user, text } = message;
  if (channel) {
    try {
      await client.chat.postEphemeral({ channel, user, text });
      return 'ephemeral';
    } catch (error) {
      if (!UNREACHABLE.has(slackError(error) ?? '')) {
        log.warn({ err: error, channel, user }, 'could not send an ephemeral reply');
        return 'failed';
      }
      log.info(
        { channel, user, error: slackError(error) },
        'the ephemeral reply cannot reach that channel: sending a DM',
      );
    }
  }
  try {
    await client.chat.postMessage({ channel: user, text, unfurl_links: false });
    return 'direct-message';
  } catch (error) {
    log.warn({ err: error, user }, 'could not send a direct message either');
    return 'failed';
  }
}
