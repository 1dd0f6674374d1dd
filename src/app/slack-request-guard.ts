import type { HTTPReceiver } from '@slack/bolt';
import type { Logger } from 'pino';

/**
 * The largest request body the bot reads. Slack's own payloads stay far below it (a view
 * submission of a 100-block modal is a few hundred KB); Bolt's default is 4 MB.
 */
export const MAX_SLACK_BODY_BYTES = 1024 * 1024;

/** Slack signs the request time; a request more than five minutes away from ours is refused. */
export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

/**
 * Checks Bolt leaves to the body or does not make, done on the headers before Bolt reads the
 * body:
 * - a `Content-Length` over the limit gets 413 with `Connection: close`. Bolt would answer 413
 *   too but leave the unread body on a kept-alive socket, which then breaks the next request
 *   sent on it.
 * - an `X-Slack-Request-Timestamp` more than five minutes in the future gets 401. Bolt refuses
 *   stale timestamps but accepts future ones, so a request signed for a later time could be
 *   replayed until then. A missing or malformed header is left to Bolt, which refuses it.
 * The wall clock is used, as Bolt uses it, never the app's injectable clock.
 */
export function guardSlackRequests(receiver: HTTPReceiver, log: Logger, clock: () => number = Date.now): void {
  const handle = receiver.requestListener;
  receiver.requestListener = (req, res) => {
    if (req.method !== 'POST') return handle(req, res);
    const declared = req.headers['content-length'];
    // A body of unknown length may stop being read at the limit: never reuse its socket.
    if (declared === undefined) res.shouldKeepAlive = false;
    const length = Number(declared ?? 0);
    if (length > MAX_SLACK_BODY_BYTES) {
      log.warn({ contentLength: length, url: req.url }, 'refused a Slack request body over the size limit');
      res.writeHead(413, { connection: 'close' }).end();
      return;
    }
    const header = req.headers['x-slack-request-timestamp'];
    const timestamp = typeof header === 'string' && /^\d+$/.test(header) ? Number(header) : undefined;
    if (timestamp !== undefined && timestamp - clock() / 1000 > MAX_CLOCK_SKEW_SECONDS) {
      log.warn({ timestamp, url: req.url }, 'refused a Slack request signed for a time more than five minutes ahead');
      res.writeHead(401, { connection: 'close' }).end();
      return;
    }
    handle(req, res);
  };
}
