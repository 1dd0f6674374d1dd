import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * Slack's Socket Mode, as an app sees it: `apps.connections.open` (app-level token) answers a
 * `ws://` URL; on connect Slack sends `hello`; requests arrive as envelopes (`slash_commands`,
 * `interactive`, `events_api`) with an `envelope_id`, a `payload` and `accepts_response_payload`;
 * the app acknowledges each by sending `{ envelope_id, payload? }` back. Slack recycles
 * connections with a routine `disconnect` (reason `warning` first, then `refresh_requested`),
 * after which the app opens a new one.
 */

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

export interface SocketAck {
  envelope_id: string;
  /** What the app answered with the ack (a slash command's text, a view_submission's response_action…). */
  payload?: Record<string, unknown>;
  /** Milliseconds from the envelope to its ack. */
  ms: number;
}

export interface SocketModeStandIn {
  /** Base of the ws:// URLs `apps.connections.open` hands out. */
  url: string;
  /** A fresh connection URL with its own ticket, as apps.connections.open returns. */
  connectionUrl(): string;
  /** Connections opened so far (each got a `hello`). */
  readonly connections: number;
  /** Resolves once at least `count` connections have been opened and greeted, the last still open. */
  connected(count?: number, timeoutMs?: number): Promise<void>;
  /** Sends an envelope on the open connection; resolves with the app's ack, rejects if none comes in time. */
  send(
    type: EnvelopeType,
    payload: Record<string, unknown>,
    options?: { acceptsResponsePayload?: boolean; timeoutMs?: number },
  ): Promise<SocketAck>;
  /**
   * A routine disconnect: `{type:'disconnect', reason}` on the open connection (`warning` comes
   * before Slack recycles a connection, `refresh_requested` when it does). The app closes and
   * opens a new connection; resolves once that one is greeted.
   */
  disconnect(reason: 'refresh_requested' | 'warning', timeoutMs?: number): Promise<void>;
  /**
   * The connection breaks without a word (a network failure, a load balancer timing out): the
   * open socket is terminated, no `disconnect` first. The app notices and opens a new one.
   */
  drop(): void;
  /** Envelope ids the app acknowledged, in order. */
  readonly acks: SocketAck[];
  close(): Promise<void>;
}

const PING_MS = 5000;

export async function startSocketModeStandIn(options: { appId: string }): Promise<SocketModeStandIn> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const url = `ws://127.0.0.1:${port}`;
  const tickets = new Set<string>();
  const pending = new Map<string, { sentAt: number; resolve: (ack: SocketAck) => void }>();
  const acks: SocketAck[] = [];
  let current: WebSocket | undefined;
  let connections = 0;
  const host = `applink-sandbox-${randomBytes(3).toString('hex')}`;

  server.on('connection', (socket, request) => {
    const ticket = new URL(request.url ?? '/', url).searchParams.get('ticket') ?? '';
    // A ticket is good for one connection, as Slack's are.
    if (!tickets.delete(ticket)) {
      socket.close(4001, 'invalid ticket');
      return;
    }
    current = socket;
    connections += 1;
    const ping = setInterval(() => socket.ping(), PING_MS);
    socket.on('close', () => {
      clearInterval(ping);
      if (current === socket) current = undefined;
    });
    socket.on('message', (data) => {
      let message: { envelope_id?: unknown; payload?: unknown };
      try {
        message = JSON.parse(String(data)) as typeof message;
      } catch {
        return;
      }
      const id = typeof message.envelope_id === 'string' ? message.envelope_id : undefined;
      const waiting = id ? pending.get(id) : undefined;
      if (!id || !waiting) return;
      pending.delete(id);
      const payload = message.payload as Record<string, unknown> | undefined;
      const ack: SocketAck = {
        envelope_id: id,
        ...(payload && Object.keys(payload).length > 0 ? { payload } : {}),
        ms: Date.now() - waiting.sentAt,
      };
      acks.push(ack);
      waiting.resolve(ack);
    });
    socket.send(
      JSON.stringify({
        type: 'hello',
        num_connections: server.clients.size,
        debug_info: { host, build_number: 118, approximate_connection_time: 18060 },
        connection_info: { app_id: options.appId },
      }),
    );
  });

  const waitUntil = async (ready: () => boolean, timeoutMs: number, what: string): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      if (Date.now() > deadline) throw new Error(`Socket Mode stand-in: ${what} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  const isOpen = () => current !== undefined && current.readyState === current.OPEN;

  return {
    url,
    connectionUrl() {
      const ticket = randomUUID();
      tickets.add(ticket);
      return `${url}/link/?ticket=${ticket}&app_id=${options.appId}`;
    },
    get connections() {
      return connections;
    },
    get acks() {
      return acks;
    },
    connected: (count = 1, timeoutMs = 5000) =>
      waitUntil(() => connections >= count && isOpen(), timeoutMs, `no connection #${count}`),
    send(type, payload, { acceptsResponsePayload = false, timeoutMs = 3000 } = {}) {
      const socket = current;
      if (!socket || !isOpen()) return Promise.reject(new Error('Socket Mode stand-in: the app is not connected'));
      const envelope_id = randomUUID();
      return new Promise<SocketAck>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(envelope_id);
          reject(new Error(`Socket Mode stand-in: no ack for ${type} envelope ${envelope_id} within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(envelope_id, {
          sentAt: Date.now(),
          resolve: (ack) => {
            clearTimeout(timer);
            resolve(ack);
          },
        });
        socket.send(JSON.stringify({ envelope_id, payload, type, accepts_response_payload: acceptsResponsePayload }));
      });
    },
    async disconnect(reason, timeoutMs = 10_000) {
      const socket = current;
      if (!socket || !isOpen()) throw new Error('Socket Mode stand-in: the app is not connected');
      const before = connections;
      socket.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host } }));
      await waitUntil(() => connections > before && isOpen(), timeoutMs, 'the app did not reconnect');
    },
    drop() {
      const socket = current;
      if (!socket || !isOpen()) throw new Error('Socket Mode stand-in: the app is not connected');
      socket.terminate();
    },
    async close() {
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
