import { ErrorCode, LogLevel, WebClient, type WebAPICallError } from '@slack/web-api';
import type { Config } from '../config.js';
import { ConfigInvalid } from '../errors.js';

/**
 * Checked by every process before it serves anything (the bot and the worker both need the
 * token), so a placeholder or revoked token stops it at start with one line naming the
 * variable, instead of a healthy-looking process whose every Slack call fails later.
 */

/** How long Slack may take to answer `auth.test` at start. */
export const SLACK_CHECK_DEADLINE_MS = 10_000;

/** What Slack's `auth.test` refusals mean for the person who set the token. */
const SLACK_REFUSALS: Record<string, string> = {
  invalid_auth:
    "it is not a valid token: copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page",
  not_authed: "it is empty: copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page",
  token_revoked: 'it was revoked: reinstall the app to the workspace and copy the new Bot User OAuth Token',
  token_expired: 'it has expired: reinstall the app (or turn off token rotation) and copy the new token',
  account_inactive: "the app's bot user or its workspace is deactivated",
  not_allowed_token_type: 'it is not a bot token: use the Bot User OAuth Token (xoxb-…)',
};

/**
 * `auth.test` with the bot token. A refusal or an unreachable Slack stops the process: both
 * roles post or read through this token, and nothing works without it.
 */
export async function checkSlackToken(
  config: Pick<Config, 'SLACK_BOT_TOKEN' | 'SLACK_API_URL'>,
  deadlineMs = SLACK_CHECK_DEADLINE_MS,
): Promise<void> {
  const apiUrl = config.SLACK_API_URL ?? 'https://slack.com/api/';
  const client = new WebClient(config.SLACK_BOT_TOKEN, {
    slackApiUrl: apiUrl,
    retryConfig: { retries: 0 },
    timeout: deadlineMs,
    // The client's own warning about the failed request would repeat, less clearly, what the error says.
    logLevel: LogLevel.ERROR,
  });
  try {
    await client.auth.test();
  } catch (error) {
    const slackError = error as Partial<WebAPICallError> & { data?: { error?: string }; original?: Error };
    if (slackError.code === ErrorCode.PlatformError) {
      const refusal = slackError.data?.error ?? 'unknown_error';
      const meaning = SLACK_REFUSALS[refusal] ?? 'see https://api.slack.com/methods/auth.test#errors';
      throw new ConfigInvalid(`SLACK_BOT_TOKEN was refused by Slack (${refusal}): ${meaning}`);
    }
    const reason = slackError.original?.message ?? (error instanceof Error ? error.message : String(error));
    throw new ConfigInvalid(
      `SLACK_BOT_TOKEN could not be checked: Slack did not answer auth.test at ${apiUrl} (${reason})` +
        (config.SLACK_API_URL ? '; check SLACK_API_URL' : '; check the network path to slack.com'),
    );
  }
}
