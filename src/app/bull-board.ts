import type { CustomRoute } from '@slack/bolt';
import type { Queue } from 'bullmq';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Where the queue dashboard lives on the bot's HTTP server. */
export const BULL_BOARD_PATH = '/admin/queues';

export interface BasicCredential {
  user: string;
  password: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

// Digests have one length whatever was sent, so the comparison takes the same time for any guess.
const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** True when the request carries `Authorization: Basic` with exactly this user and password. */
export function hasCredential(header: string | undefined, expected: BasicCredential): boolean {
  const encoded = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '')?.[1];
  const given = encoded ? Buffer.from(encoded, 'base64').toString('utf8') : '';
  const userOk = timingSafeEqual(digest(given.split(':')[0] ?? ''), digest(expected.user));
  const passwordOk = timingSafeEqual(
    digest(given.includes(':') ? given.slice(given.indexOf(':') + 1) : ''),
    digest(expected.password),
  );
  return given.includes(':') && userOk && passwordOk;
}

/**
 * Bull Board over the deployment queue and the Slack outbox, read-only: retrying, removing or promoting a deployment
 * job by hand would bypass the intents the worker reconciles (a removed job strands its
 * deployment with the service lock held). Served behind HTTP basic auth.
 */
export function bullBoardRoutes(queues: Queue[], credential: BasicCredential): CustomRoute[] {
  // Bull Board and its Express adapter are loaded only when the dashboard is configured (about
  // 8 MiB that a bot without it does not carry); loading starts now, requests wait for it.
  const board: Promise<Handler> = Promise.all([
    import('@bull-board/api'),
    import('@bull-board/api/bullMQAdapter'),
    import('@bull-board/express'),
  ]).then(([{ createBullBoard }, { BullMQAdapter }, { ExpressAdapter }]) => {
    const adapter = new ExpressAdapter();
    adapter.setBasePath(BULL_BOARD_PATH);
    createBullBoard({
      queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })),
      serverAdapter: adapter,
      options: { uiConfig: { boardTitle: 'Switchyard queues' } },
    });
    return adapter.getRouter() as Handler;
  });
  board.catch(() => undefined);

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (!hasCredential(req.headers.authorization, credential)) {
      res.writeHead(401, {
        'www-authenticate': 'Basic realm="Switchyard queues", charset="UTF-8"',
        'content-type': 'text/plain',
      });
      res.end('the queue dashboard needs the BULL_BOARD_USER / BULL_BOARD_PASSWORD credential');
      return;
    }
    // The board routes relative to where it is mounted, as Express does for a mounted app.
    req.url = req.url?.slice(BULL_BOARD_PATH.length) || '/';
    if (!req.url.startsWith('/')) req.url = `/${req.url}`;
    const fail = (error: unknown) => {
      res.writeHead(error ? 500 : 404, { 'content-type': 'text/plain' });
      res.end(error ? 'queue dashboard error' : 'not found');
    };
    board.then((serve) => serve(req, res, fail), fail);
  };
  return [
    { path: BULL_BOARD_PATH, method: ['GET'], handler },
    { path: `${BULL_BOARD_PATH}/*rest`, method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'], handler },
  ];
}
