import { App, HTTPReceiver, LogLevel, type HTTPReceiverOptions } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { ConfigInvalid } from '../errors.js';
import { registerCommands } from '../../commands/index.js';
import { trackSlackAcks } from './ack-lane.js';
import { boltLogger } from './bolt-logger.js';
import type { AppContext } from './context.js';
import { httpRoutes } from './http-routes.js';
import { guardSlackRequests, MAX_SLACK_BODY_BYTES } from './slack-request-guard.js';
import { workspaceGuard } from './workspace-guard.js';

/**
 * Bolt's HTTP receiver, built here because App does not pass `bodyLimit` on: bodies over 1 MB
 * get 413 unread, and requests signed for a time too far ahead get 401 (slack-request-guard).
 */
function httpReceiver(
  config: Config,
  log: Logger,
  options: Pick<HTTPReceiverOptions, 'customRoutes' | 'logger' | 'logLevel'>,
): HTTPReceiver {
  const signingSecret = config.SLACK_SIGNING_SECRET;
  if (!signingSecret) throw new ConfigInvalid('SLACK_SIGNING_SECRET is required to receive Slack requests over HTTP');
  const receiver = new HTTPReceiver({
    ...options,
    signingSecret,
    port: config.PORT,
    bodyLimit: MAX_SLACK_BODY_BYTES,
  });
  guardSlackRequests(receiver, log);
  trackSlackAcks(receiver);
  return receiver;
}

/**
 * The bot: Bolt over HTTP on PORT (POST /slack/events, GET /healthz, GET /metrics), or Socket
 * Mode when SLACK_APP_TOKEN is set.
 */
export function createBotApp(config: Config, ctx: AppContext): App {
  const common = {
    token: config.SLACK_BOT_TOKEN,
    clientOptions: config.SLACK_API_URL ? { slackApiUrl: config.SLACK_API_URL } : {},
    customRoutes: httpRoutes(ctx, { bullBoard: config }),
    logger: boltLogger(ctx.log),
    logLevel: config.LOG_LEVEL === 'debug' || config.LOG_LEVEL === 'trace' ? LogLevel.DEBUG : LogLevel.WARN,
    // No handler keeps conversation state; Bolt's default in-memory store would look every request up (and
    // build a "not found" error for each) before the listener could ack.
    convoStore: false as const,
  };
  const app = config.SLACK_APP_TOKEN
    ? new App({
        ...common,
        socketMode: true,
        appToken: config.SLACK_APP_TOKEN,
        installerOptions: { port: config.PORT },
      })
    : new App({ ...common, receiver: httpReceiver(config, ctx.log, common) });
  app.error(async (error) => {
    ctx.log.error({ err: error }, 'unhandled error in a Slack handler');
  });
  app.use(workspaceGuard(app.client, ctx.log));
  registerCommands(app, ctx);
  return app;
}
