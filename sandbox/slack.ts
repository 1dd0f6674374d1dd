import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { FaultControls, sendJson, startHttpStandIn, type RecordedRequest } from './http-server.js';
import { startSocketModeStandIn, type SocketModeStandIn } from './slack-socket.js';
import {
  SANDBOX_IDENTITY,
  SlackWorkspace,
  type Json,
  type SandboxPerson,
  type SlackEphemeral,
  type SlackMessage,
  type SlackView,
} from './slack-workspace.js';

export { SANDBOX_IDENTITY };

/** The app-level token (xapp-…) the stand-in accepts for Socket Mode. */
export const SANDBOX_APP_TOKEN = 'xapp-1-A0SWITCHYARD-0000-sandbox';
export type { SandboxPerson, SlackEphemeral, SlackMessage, SlackView };

/** One Web API call that reached the stand-in's methods (injected faults answer before that). */
export interface SlackCall {
  method: string;
  /** Arguments as the method saw them: JSON-in-form fields parsed, the token left out. */
  args: Record<string, unknown>;
  at: number;
  ok: boolean;
  error?: string;
}

/** Where a response_url points: the message (block actions) or channel (commands) it answers. */
export interface ResponseTarget {
  channel?: string;
  ts?: string;
  user?: string;
}

export interface SlackResponsePost extends ResponseTarget {
  id: string;
  url: string;
  body: Record<string, unknown>;
  at: number;
}

export interface SlackStandIn {
  /** Base of the Web API, for WebClient's `slackApiUrl`: http://127.0.0.1:port/api/ */
  url: string;
  port: number;
  /** The only bot token the stand-in accepts. */
  token: string;
  /** The only app-level token (xapp-…) it accepts, for apps.connections.open. */
  appToken: string;
  /** Socket Mode: the WebSocket endpoint apps.connections.open points to, and what it sends. */
  socket: SocketModeStandIn;
  identity: typeof SANDBOX_IDENTITY;
  faults: FaultControls;
  /** Every API call answered, oldest first. */
  calls: SlackCall[];
  /** Every HTTP request received, including the ones a fault answered. */
  requests: RecordedRequest[];
  /** Posts to response_url endpoints, oldest first. */
  responses: SlackResponsePost[];
  /** Views opened, pushed or published, as they are now. */
  readonly views: SlackView[];
  callsTo(method: string): SlackCall[];
  /** Messages the bot posted (replies included), as they are after updates; deleted ones left out. */
  messages(channel?: string): SlackMessage[];
  /** The parent message and its replies. */
  thread(channel: string, ts: string): SlackMessage[];
  ephemerals(user?: string): SlackEphemeral[];
  /** A trigger_id as Slack sends with an interaction; views.open accepts it once, within 3 s. */
  issueTriggerId(options?: { user?: string; issuedAt?: number }): string;
  responseUrl(target?: ResponseTarget): string;
  /** Sets a user group's members (kept across `reset`, like the workspace's people). */
  setUserGroup(id: string, members: readonly string[]): void;
  /**
   * Makes someone a guest or an external user as users.info reports them (kept across `reset`);
   * `undefined` makes them a plain full member again. Everyone else is a full member.
   */
  setPerson(id: string, person: SandboxPerson | undefined): void;
  /**
   * Makes a channel one the bot cannot see, as a DM between two people or a private channel
   * without the bot: every method on it answers channel_not_found (kept across `reset`).
   */
  setUnreachable(channel: string, unreachable?: boolean): void;
  /**
   * Makes a public channel one the bot is not a member of: it may still post there
   * (chat:write.public), but conversations.history and .replies answer not_in_channel until it
   * joins (conversations.join) or is invited (kept across `reset`).
   */
  setOutsider(channel: string, outside?: boolean): void;
  /** The next `times` calls to `method` get 429 with Retry-After, as Slack throttles. */
  rateLimit(method: string, retryAfterSeconds?: number, times?: number): void;
  /** Resolves with the first call (already made or still to come) that matches. */
  waitFor(predicate: (call: SlackCall) => boolean, timeoutMs?: number): Promise<SlackCall>;
  reset(): void;
  close(): Promise<void>;
}

export interface SlackStandInOptions {
  port?: number;
  token?: string;
  appToken?: string;
  /** Channels that exist; by default any well-formed channel id does. */
  channels?: readonly string[];
  triggerTtlMs?: number;
}

/** Form fields that carry JSON, as WebClient flattens objects and arrays. */
const JSON_FIELDS = ['blocks', 'attachments', 'metadata', 'view', 'unfurls', 'user_auth_blocks'];
/** Slack lets a response_url be used five times within 30 minutes. */
const RESPONSE_URL_USES = 5;
const RESPONSE_URL_TTL_MS = 30 * 60_000;

function parseArgs(req: RecordedRequest): Json {
  const args: Json = Object.fromEntries(req.query);
  const type = String(req.headers['content-type'] ?? '');
  if (type.includes('application/json')) {
    Object.assign(args, req.body ? (JSON.parse(req.body) as Json) : {});
  } else {
    Object.assign(args, Object.fromEntries(new URLSearchParams(req.body)));
  }
  for (const key of JSON_FIELDS) {
    const value = args[key];
    if (typeof value === 'string' && /^\s*[[{]/.test(value)) args[key] = JSON.parse(value) as unknown;
  }
  return args;
}

const bearer = (header: string | undefined): string | undefined => /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];

export async function startSlackStandIn(options: SlackStandInOptions = {}): Promise<SlackStandIn> {
  const token = options.token ?? 'xoxb-sandbox-0000-switchyard';
  const appToken = options.appToken ?? SANDBOX_APP_TOKEN;
  const socket = await startSocketModeStandIn({ appId: SANDBOX_IDENTITY.appId });
  const faults = new FaultControls();
  const calls: SlackCall[] = [];
  const requests: RecordedRequest[] = [];
  const responses: SlackResponsePost[] = [];
  const responseUrls = new Map<string, ResponseTarget & { issuedAt: number; uses: number }>();
  const userGroups = new Map<string, readonly string[]>();
  const people = new Map<string, SandboxPerson>();
  const unreachable = new Set<string>();
  const outsideOf = new Set<string>();
  const newWorkspace = () =>
    new SlackWorkspace({
      channels: options.channels,
      triggerTtlMs: options.triggerTtlMs ?? 3000,
      now: Date.now,
      userGroups,
      people,
      unreachable,
      outsideOf,
    });
  let workspace = newWorkspace();
  let root = '';

  const answerResponseUrl = (req: RecordedRequest, res: ServerResponse, id: string): void => {
    const entry = responseUrls.get(id);
    if (req.method !== 'POST') return sendJson(res, 405, { ok: false, error: 'method_not_allowed' });
    if (!entry || Date.now() - entry.issuedAt > RESPONSE_URL_TTL_MS)
      return sendJson(res, 404, { ok: false, error: 'expired_url' });
    if (entry.uses >= RESPONSE_URL_USES) return sendJson(res, 404, { ok: false, error: 'used_url' });
    let body: Json;
    try {
      const type = String(req.headers['content-type'] ?? '');
      const raw = type.includes('application/json') ? req.body : (new URLSearchParams(req.body).get('payload') ?? '');
      body = JSON.parse(raw) as Json;
    } catch {
      return sendJson(res, 400, { ok: false, error: 'invalid_payload' });
    }
    entry.uses += 1;
    const { issuedAt: _issuedAt, uses: _uses, ...target } = entry;
    responses.push({ id, url: `${root}/response/${id}`, body, at: req.at, ...target });
    workspace.respond(target, body);
    sendJson(res, 200, { ok: true });
  };

  const server = await startHttpStandIn(
    (req, res) => {
      const response = /^\/response\/([\w-]+)$/.exec(req.path);
      if (response?.[1]) return answerResponseUrl(req, res, response[1]);
      const method = /^\/api\/([\w.]+)$/.exec(req.path)?.[1];
      if (!method) return sendJson(res, 404, { ok: false, error: 'unknown_method' });
      let args: Json;
      try {
        args = parseArgs(req);
      } catch {
        calls.push({ method, args: {}, at: req.at, ok: false, error: 'invalid_json' });
        return sendJson(res, 200, { ok: false, error: 'invalid_json' });
      }
      const given = bearer(req.headers.authorization) ?? (typeof args.token === 'string' ? args.token : undefined);
      delete args.token;
      // apps.connections.open takes the app-level token, and only it; every other method the bot token.
      const opensSocket = method === 'apps.connections.open';
      const result = !given
        ? { ok: false, error: 'not_authed' }
        : given !== (opensSocket ? appToken : token)
          ? { ok: false, error: opensSocket && given === token ? 'not_allowed_token_type' : 'invalid_auth' }
          : opensSocket
            ? { ok: true, url: socket.connectionUrl() }
            : workspace.call(method, args);
      const ok = result.ok === true;
      calls.push({ method, args, at: req.at, ok, ...(ok ? {} : { error: String(result.error) }) });
      sendJson(res, 200, result);
    },
    { port: options.port, faults, log: requests },
  );
  root = server.url;

  return {
    url: `${server.url}/api/`,
    port: server.port,
    token,
    appToken,
    socket,
    identity: SANDBOX_IDENTITY,
    faults,
    calls,
    requests,
    responses,
    get views() {
      return [...workspace.views.byId.values()];
    },
    callsTo: (method) => calls.filter((c) => c.method === method),
    messages: (channel) =>
      workspace.messages.filter((m) => !m.deleted && (channel === undefined || m.channel === channel)),
    thread: (channel, ts) => workspace.thread(channel, ts),
    ephemerals: (user) => workspace.ephemerals.filter((e) => user === undefined || e.user === user),
    issueTriggerId: (opts) => workspace.views.issueTriggerId(opts),
    responseUrl(target = {}) {
      const id = `${SANDBOX_IDENTITY.teamId}-${randomBytes(8).toString('hex')}`;
      responseUrls.set(id, { ...target, issuedAt: Date.now(), uses: 0 });
      return `${root}/response/${id}`;
    },
    setUserGroup(id, members) {
      userGroups.set(id, [...members]);
    },
    setPerson(id, person) {
      if (person) people.set(id, { ...person });
      else people.delete(id);
    },
    setUnreachable(channel, hidden = true) {
      if (hidden) unreachable.add(channel);
      else unreachable.delete(channel);
    },
    setOutsider(channel, outside = true) {
      if (outside) outsideOf.add(channel);
      else outsideOf.delete(channel);
    },
    rateLimit(method, retryAfterSeconds = 1, times = 1) {
      faults.inject({
        status: 429,
        times,
        match: `/api/${method}`,
        headers: { 'retry-after': String(retryAfterSeconds) },
        body: JSON.stringify({ ok: false, error: 'ratelimited' }),
      });
    },
    async waitFor(predicate, timeoutMs = 2000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = calls.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) {
          const seen = calls.map((c) => `${c.method}${c.ok ? '' : `(${c.error})`}`).join(', ') || 'none';
          throw new Error(`Slack stand-in: no matching call within ${timeoutMs} ms; calls seen: ${seen}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    reset() {
      calls.length = 0;
      requests.length = 0;
      responses.length = 0;
      responseUrls.clear();
      faults.clear();
      workspace = newWorkspace();
    },
    close: async () => {
      await socket.close();
      await server.close();
    },
  };
}
