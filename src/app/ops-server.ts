import type { CustomRoute } from '@slack/bolt';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The HTTP server of a worker-only process (`npm run start:worker`), or of a bot on Socket Mode:
 * /livez and /healthz for its probes and /metrics. A bot over HTTP serves the same routes itself.
 */
export async function startOpsServer(routes: CustomRoute[], port: number, log: Logger): Promise<OpsServer> {
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const method = (req.method ?? 'GET').toUpperCase();
    const route = routes.find(
      (r) =>
        r.path === path && (Array.isArray(r.method) ? r.method : [r.method]).some((m) => m.toUpperCase() === method),
    );
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`no ${method} ${path} here: this process serves GET /livez, GET /healthz and GET /metrics`);
      return;
    }
    Promise.resolve(route.handler(Object.assign(req, { params: {} }), res)).catch((error: unknown) => {
      log.error({ err: error, path }, 'ops route failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
