import { App, LogLevel } from '@slack/bolt';
import type { Config } from '../config.js';
import { registerCommands } from '../../commands/index.js';
import type { AppContext } from './context.js';
import { httpRoutes } from './http-routes.js';

/**
 * The bot: Bolt over HTTP on PORT (POST /slack/events, GET /healthz, GET /metrics), or Socket
 * Mode when SLACK_APP_TOKEN is set.
 */
export function createBotApp(config: Config, ctx: AppContext): App {
  const common = {
    token: config.SLACK_BOT_TOKEN,
    signingSecret: config.SLACK_SIGNING_SECRET,
    clientOptions: config.SLACK_API_URL ? { slackApiUrl: config.SLACK_API_URL } : {},
    customRoutes: httpRoutes(ctx),
    logLevel: config.LOG_LEVEL === 'debug' || config.LOG_LEVEL === 'trace' ? LogLevel.DEBUG : LogLevel.WARN,
  };
  const app = config.SLACK_APP_TOKEN
    ? new App({ ...common, socketMode: true, appToken: config.SLACK_APP_TOKEN, installerOptions: { port: config.PORT } })
    : new App({ ...common, port: config.PORT });
  app.error(async (error) => {
    ctx.log.error({ err: error }, 'unhandled error in a Slack handler');
  });
  registerCommands(app, ctx);
  return app;
}
