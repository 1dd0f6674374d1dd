import { App, HTTPReceiver, LogLevel, SocketModeReceiver, type HTTPReceiverOptions } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { ConfigInvalid } from '../errors.js';
import { registerCommands } from '../../commands/index.js';
import { trackSlackAcks } from './ack-lane.js';
import { boltLogger } from './bolt-logger.js';
import type { AppContext, SlackConnectionState } from './context.js';
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
 * How long the Socket Mode connection may be down before the bot reports itself not ready. Slack
 * recycles connections routinely and the client waits 5 s before it opens the next one; a bot
 * still without a connection after this long is failing to reconnect.
 */
export const SOCKET_RECONNECT_GRACE_MS = 15_000;

/**
 * What readiness reads from the Socket Mode client (`@slack/socket-mode`'s SocketModeClient): the
 * last state it announced, and since when it has been without a connection. A bot that never
 * connected, or has been down longer than the grace, is not connected.
 */
export function socketConnection(
  client: { on(event: string, listener: () => void): unknown },
  clock: () => number,
  graceMs = SOCKET_RECONNECT_GRACE_MS,
): () => SlackConnectionState {
  let state = 'connecting';
  let everConnected = false;
  let downSince: number | undefined = clock();
  const down = (name: string) => () => {
    state = name;
    downSince ??= clock();
  };
  for (const name of ['connecting', 'authenticated', 'reconnecting', 'disconnecting', 'disconnected'])
    client.on(name, down(name));
  // The WebSocket itself closed; the client reconnects after a delay, announcing `reconnecting`.
  client.on('close', down('closed'));
  client.on('connected', () => {
    state = 'connected';
    everConnected = true;
    downSince = undefined;
  });
  return () => {
    if (downSince === undefined) return { connected: true, state };
    const downMs = clock() - downSince;
    return {
      connected: everConnected && downMs < graceMs,
      state: `${state} (no connection for ${Math.round(downMs / 1000)} s)`,
    };
  };
}

/**
 * The bot: Bolt over HTTP on PORT (POST /slack/events, GET /livez, /healthz, /metrics), or Socket
 * Mode when SLACK_APP_TOKEN is set (the routes then on a server of their own, started by bootstrap).
 */
export function createBotApp(config: Config, ctx: AppContext): App {
  const common = {
    token: config.SLACK_BOT_TOKEN,
    clientOptions: config.SLACK_API_URL ? { slackApiUrl: config.SLACK_API_URL } : {},
    logger: boltLogger(ctx.log),
    logLevel: config.LOG_LEVEL === 'debug' || config.LOG_LEVEL === 'trace' ? LogLevel.DEBUG : LogLevel.WARN,
    // No handler keeps conversation state; Bolt's default in-memory store would look every request up (and
    // build a "not found" error for each) before the listener could ack.
    convoStore: false as const,
  };
  let app: App;
  if (config.SLACK_APP_TOKEN) {
    // Built here rather than by App, so readiness can follow its client's connection.
    const receiver = new SocketModeReceiver({
      appToken: config.SLACK_APP_TOKEN,
      logger: common.logger,
      logLevel: common.logLevel,
      // Where apps.connections.open goes. The probes and /metrics are served apart (ops-server.ts):
      // this receiver would not say which port its own server took.
      installerOptions: { clientOptions: common.clientOptions },
    });
    ctx.slackConnection = socketConnection(receiver.client, ctx.clock);
    app = new App({ ...common, socketMode: true, receiver });
  } else {
    const customRoutes = httpRoutes(ctx, { bullBoard: config });
    app = new App({ ...common, receiver: httpReceiver(config, ctx.log, { ...common, customRoutes }) });
  }
  app.error(async (error) => {
    ctx.log.error({ err: error }, 'unhandled error in a Slack handler');
  });
  app.use(workspaceGuard(app.client, ctx.log));
  registerCommands(app, ctx);
  return app;
}
