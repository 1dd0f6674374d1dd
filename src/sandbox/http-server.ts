import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

/** A canned answer a stand-in gives instead of its normal one (fault injection). */
export interface InjectedFault {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** How many requests it applies to; Infinity until cleared. */
  times: number;
  /** Only requests whose path (or Action, for query-protocol APIs) contains this. */
  match?: string;
  /** Never answer: the client sees a timeout. */
  hang?: boolean;
}

/** Controls shared by every stand-in: latency and failures to inject, requests seen. */
export class FaultControls {
  latencyMs = 0;
  private faults: InjectedFault[] = [];

  inject(fault: Partial<InjectedFault> & { status: number }): void {
    this.faults.push({ times: 1, ...fault });
  }

  clear(): void {
    this.faults = [];
    this.latencyMs = 0;
  }

  /** The fault to apply to this request, consuming one of its uses. */
  take(key: string): InjectedFault | undefined {
    const fault = this.faults.find((f) => f.times > 0 && (!f.match || key.includes(f.match)));
    if (fault) fault.times -= 1;
    return fault;
  }
}

export interface StandIn {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  close(): Promise<void>;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

/**
 * Starts an HTTP server on 127.0.0.1 (port 0 = any free port) that records every request,
 * applies injected latency and faults, then hands the request to `handler`.
 */
export async function startHttpStandIn(
  handler: Handler,
  options: { port?: number; faults?: FaultControls; faultKey?: (req: RecordedRequest) => string; log?: RecordedRequest[] } = {},
): Promise<StandIn> {
  const hanging = new Set<ServerResponse>();
  const server = createServer((incoming, res) => {
    void (async () => {
      const url = new URL(incoming.url ?? '/', 'http://localhost');
      const req: RecordedRequest = {
        method: incoming.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: incoming.headers,
        body: await readBody(incoming),
        at: Date.now(),
      };
      options.log?.push(req);
      const faults = options.faults;
      if (faults && faults.latencyMs > 0) await new Promise((r) => setTimeout(r, faults.latencyMs));
      const fault = faults?.take(options.faultKey ? options.faultKey(req) : req.path);
      if (fault?.hang) {
        hanging.add(res);
        return;
      }
      if (fault) {
        res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
        res.end(fault.body ?? '');
        return;
      }
      try {
        await handler(req, res);
      } catch (error) {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`stand-in error: ${(error as Error).message}`);
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
};
