import { createServer, ServerResponse, type IncomingMessage } from 'node:http';
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
  /** Only requests with this HTTP method (a PATCH, not the GET of the same path). */
  method?: string;
  /** Matching requests let through before the fault starts (the second ModifyListener, say). */
  skip?: number;
  /** Never answer: the client sees a timeout. */
  hang?: boolean;
  /** Drop the connection without an answer, as a proxy or a restarting server does (ECONNRESET). */
  reset?: boolean;
  /**
   * Do the work, then drop the connection before answering: the client cannot tell whether its
   * request happened (a post made, a weight set), as after a timeout on the way back.
   */
  dropAnswer?: boolean;
}

/** What `inject` takes: an answer (status), or no answer at all (hang, reset, dropAnswer). */
export type FaultSpec = Partial<InjectedFault> &
  ({ status: number } | { hang: true } | { reset: true } | { dropAnswer: true });

/** Controls shared by every stand-in: latency and failures to inject, requests seen. */
export class FaultControls {
  latencyMs = 0;
  private faults: InjectedFault[] = [];

  inject(fault: FaultSpec): void {
    this.faults.push({ times: 1, status: 500, ...fault });
  }

  clear(): void {
    this.faults = [];
    this.latencyMs = 0;
  }

  /** Requests still to be answered by an injected fault. */
  pending(): number {
    return this.faults.reduce((sum, f) => sum + f.times, 0);
  }

  /** The fault to apply to this request, consuming one of its uses. */
  take(key: string, method?: string): InjectedFault | undefined {
    for (const fault of this.faults) {
      if (fault.times <= 0 || (fault.match && !key.includes(fault.match)) || (fault.method && fault.method !== method))
        continue;
      if (fault.skip) {
        fault.skip -= 1;
        continue;
      }
      fault.times -= 1;
      return fault;
    }
    return undefined;
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
  options: {
    port?: number;
    faults?: FaultControls;
    faultKey?: (req: RecordedRequest) => string;
    log?: RecordedRequest[];
  } = {},
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
      const fault = faults?.take(options.faultKey ? options.faultKey(req) : req.path, req.method);
      if (fault?.hang) {
        hanging.add(res);
        return;
      }
      if (fault?.reset) {
        incoming.socket.destroy();
        return;
      }
      if (fault?.dropAnswer) {
        // A response never attached to the socket: the handler's answer goes nowhere.
        await Promise.resolve(handler(req, new ServerResponse(incoming))).catch(() => undefined);
        incoming.socket.destroy();
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

export const sendJson = (
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
};
