import { createHmac, randomBytes } from 'node:crypto';
import { SANDBOX_IDENTITY, type SlackStandIn } from './slack.js';

/**
 * What Slack itself sends to an app: signed slash commands and interactivity payloads,
 * POSTed to the app's `/slack/events` exactly as Slack would, so tests and the sandbox
 * drive the real Bolt receiver (signature check included).
 */

export interface SlackRequestResult {
  status: number;
  body: string;
  /** The body parsed, when it is JSON (e.g. a view_submission's `response_action`). */
  json?: unknown;
  ms: number;
}

export interface SendOptions {
  /** The Slack stand-in that issues response_url and trigger_id (and knows the messages). */
  slack?: SlackStandIn;
  /** Unix seconds for `X-Slack-Request-Timestamp`; the default is now. */
  timestamp?: number;
  /** Sent instead of the computed signature. */
  signature?: string;
  /** Form-encoded unless told: the Events API posts JSON. */
  contentType?: string;
  timeoutMs?: number;
}

/** `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`, as Slack signs requests. */
export const sign = (secret: string, body: string, timestamp: number): string =>
  `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;

const eventsUrl = (appUrl: string): string =>
  /\/slack\/events\/?$/.test(appUrl) ? appUrl : `${appUrl.replace(/\/+$/, '')}/slack/events`;

/** A trigger_id that no stand-in issued, for requests sent without one. */
const looseTriggerId = (): string => `${Math.floor(Date.now() / 1000)}.0.${randomBytes(10).toString('hex')}`;
const looseResponseUrl = (): string =>
  `https://hooks.slack.com/commands/${SANDBOX_IDENTITY.teamId}/0/${randomBytes(12).toString('hex')}`;

/** POSTs a form body to the app with Slack's signature headers. */
export async function postSigned(
  appUrl: string,
  secret: string,
  body: string,
  options: SendOptions = {},
): Promise<SlackRequestResult> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const started = performance.now();
  const response = await fetch(eventsUrl(appUrl), {
    method: 'POST',
    headers: {
      'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': options.signature ?? sign(secret, body, timestamp),
    },
    body,
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  const text = await response.text();
  const ms = Math.round(performance.now() - started);
  let json: unknown;
  try {
    json = text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, body: text, ...(json !== undefined ? { json } : {}), ms };
}

export interface SlashCommandFields {
  command: string;
  text: string;
  user_id: string;
  channel_id: string;
  user_name?: string;
  channel_name?: string;
  team_id?: string;
  team_domain?: string;
  api_app_id?: string;
  response_url?: string;
  trigger_id?: string;
  token?: string;
}

/** A slash command's fields with Slack's own names (form fields over HTTP, a JSON payload over Socket Mode). */
export function slashCommandPayload(fields: SlashCommandFields, options: SendOptions = {}): Record<string, string> {
  return {
    token: fields.token ?? 'sandbox-verification-token',
    team_id: fields.team_id ?? SANDBOX_IDENTITY.teamId,
    team_domain: fields.team_domain ?? SANDBOX_IDENTITY.teamDomain,
    channel_id: fields.channel_id,
    channel_name: fields.channel_name ?? 'deployments',
    user_id: fields.user_id,
    user_name: fields.user_name ?? fields.user_id.toLowerCase(),
    command: fields.command,
    text: fields.text,
    api_app_id: fields.api_app_id ?? SANDBOX_IDENTITY.appId,
    is_enterprise_install: 'false',
    response_url:
      fields.response_url ??
      options.slack?.responseUrl({ channel: fields.channel_id, user: fields.user_id }) ??
      looseResponseUrl(),
    trigger_id: fields.trigger_id ?? options.slack?.issueTriggerId({ user: fields.user_id }) ?? looseTriggerId(),
  };
}

/** A slash command as Slack posts it: form fields with Slack's own names. */
export function slashCommand(
  appUrl: string,
  secret: string,
  fields: SlashCommandFields,
  options: SendOptions = {},
): Promise<SlackRequestResult> {
  return postSigned(appUrl, secret, new URLSearchParams(slashCommandPayload(fields, options)).toString(), options);
}

export interface ActionInput {
  action_id: string;
  block_id?: string;
  /** `button` unless told. */
  type?: string;
  value?: string;
  [field: string]: unknown;
}

export interface BlockActionInput {
  user_id: string;
  user_name?: string;
  actions: ActionInput[];
  /** The message the button is on; blocks and text come from the stand-in when it has the message. */
  channel_id?: string;
  message?: { ts: string; text?: string; blocks?: unknown[]; thread_ts?: string };
  /** The view the element is in (modal or Home tab), instead of a message. */
  view?: Record<string, unknown>;
  state?: Record<string, Record<string, unknown>>;
  response_url?: string;
  trigger_id?: string;
}

const userOf = (id: string, name?: string) => ({
  id,
  username: name ?? id.toLowerCase(),
  name: name ?? id.toLowerCase(),
  team_id: SANDBOX_IDENTITY.teamId,
});
const team = { id: SANDBOX_IDENTITY.teamId, domain: SANDBOX_IDENTITY.teamDomain };
const formPayload = (payload: unknown): string => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

/** A `block_actions` payload, as Slack posts it when a user presses a button or picks an option. */
export function blockAction(
  appUrl: string,
  secret: string,
  input: BlockActionInput,
  options: SendOptions = {},
): Promise<SlackRequestResult> {
  return postSigned(appUrl, secret, formPayload(blockActionPayload(input, options)), options);
}

/** The `block_actions` payload itself (the `payload` form field over HTTP, the envelope's payload over Socket Mode). */
export function blockActionPayload(input: BlockActionInput, options: SendOptions = {}): Record<string, unknown> {
  const slack = options.slack;
  const channel = input.channel_id;
  const known = channel && input.message ? slack?.messages(channel).find((m) => m.ts === input.message?.ts) : undefined;
  const message = input.message
    ? {
        type: 'message',
        user: SANDBOX_IDENTITY.botUserId,
        bot_id: SANDBOX_IDENTITY.botId,
        app_id: SANDBOX_IDENTITY.appId,
        team: SANDBOX_IDENTITY.teamId,
        ts: input.message.ts,
        text: input.message.text ?? known?.text ?? '',
        blocks: input.message.blocks ?? known?.blocks ?? [],
        ...((input.message.thread_ts ?? known?.thread_ts)
          ? { thread_ts: input.message.thread_ts ?? known?.thread_ts }
          : {}),
      }
    : undefined;
  const container = input.view
    ? { type: 'view', view_id: input.view.id }
    : { type: 'message', message_ts: input.message?.ts, channel_id: channel, is_ephemeral: false };
  const actionTs = `${(Date.now() / 1000).toFixed(6)}`;
  return {
    type: 'block_actions',
    user: userOf(input.user_id, input.user_name),
    api_app_id: SANDBOX_IDENTITY.appId,
    token: 'sandbox-verification-token',
    container,
    trigger_id: input.trigger_id ?? slack?.issueTriggerId({ user: input.user_id }) ?? looseTriggerId(),
    team,
    enterprise: null,
    is_enterprise_install: false,
    ...(channel ? { channel: { id: channel, name: 'deployments' } } : {}),
    ...(message ? { message } : {}),
    ...(input.view ? { view: input.view } : {}),
    state: { values: input.state ?? {} },
    ...(input.view
      ? {}
      : {
          response_url:
            input.response_url ??
            slack?.responseUrl({ channel, ts: input.message?.ts, user: input.user_id }) ??
            looseResponseUrl(),
        }),
    actions: input.actions.map(({ type, block_id, ...rest }) => ({
      type: type ?? 'button',
      block_id: block_id ?? randomBytes(3).toString('hex'),
      action_ts: actionTs,
      ...rest,
    })),
  };
}

export interface ViewSubmissionInput {
  user_id: string;
  user_name?: string;
  /** The view as opened (e.g. one of `slack.views`), or at least its callback_id. */
  view: Record<string, unknown> & { callback_id: string };
  /** state.values: block_id → action_id → element value (see `inputValue`). */
  values: Record<string, Record<string, unknown>>;
  trigger_id?: string;
}

/** A `view_submission` payload, as Slack posts it when a user submits a modal. */
export function viewSubmission(
  appUrl: string,
  secret: string,
  input: ViewSubmissionInput,
  options: SendOptions = {},
): Promise<SlackRequestResult> {
  return postSigned(appUrl, secret, formPayload(viewSubmissionPayload(input, options)), options);
}

/** The `view_submission` payload itself. */
export function viewSubmissionPayload(input: ViewSubmissionInput, options: SendOptions = {}): Record<string, unknown> {
  const id = typeof input.view.id === 'string' ? input.view.id : `V${randomBytes(5).toString('hex').toUpperCase()}`;
  const view = {
    type: 'modal',
    team_id: SANDBOX_IDENTITY.teamId,
    app_id: SANDBOX_IDENTITY.appId,
    bot_id: SANDBOX_IDENTITY.botId,
    private_metadata: '',
    external_id: '',
    blocks: [],
    hash: `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`,
    root_view_id: id,
    previous_view_id: null,
    ...input.view,
    id,
    state: { values: input.values },
  };
  return {
    type: 'view_submission',
    team,
    user: userOf(input.user_id, input.user_name),
    api_app_id: SANDBOX_IDENTITY.appId,
    token: 'sandbox-verification-token',
    trigger_id: input.trigger_id ?? options.slack?.issueTriggerId({ user: input.user_id }) ?? looseTriggerId(),
    view,
    response_urls: [],
    enterprise: null,
    is_enterprise_install: false,
  };
}

const option = (value: string, text = value) => ({ text: { type: 'plain_text', text, emoji: true }, value });

/** Element values as they appear in `view.state.values`. */
export const inputValue = {
  plainText: (value: string) => ({ type: 'plain_text_input', value }),
  checkboxes: (values: string[]) => ({ type: 'checkboxes', selected_options: values.map((v) => option(v)) }),
  staticSelect: (value: string | null) => ({
    type: 'static_select',
    selected_option: value === null ? null : option(value),
  }),
  radioButtons: (value: string | null) => ({
    type: 'radio_buttons',
    selected_option: value === null ? null : option(value),
  }),
  usersSelect: (user: string | null) => ({ type: 'users_select', selected_user: user }),
};

/** An Events API `event_callback` (e.g. `app_home_opened`), as Slack posts it: a signed JSON body. */
export function eventCallback(
  appUrl: string,
  secret: string,
  event: Record<string, unknown> & { type: string },
  options: SendOptions = {},
): Promise<SlackRequestResult> {
  const body = {
    token: 'sandbox-verification-token',
    team_id: SANDBOX_IDENTITY.teamId,
    api_app_id: SANDBOX_IDENTITY.appId,
    event: { event_ts: (Date.now() / 1000).toFixed(6), ...event },
    type: 'event_callback',
    event_id: `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      {
        enterprise_id: null,
        team_id: SANDBOX_IDENTITY.teamId,
        user_id: SANDBOX_IDENTITY.botUserId,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
  };
  return postSigned(appUrl, secret, JSON.stringify(body), { ...options, contentType: 'application/json' });
}

/** The challenge Slack sends when an app's Request URL is saved; the app must echo it. */
export function urlVerification(
  appUrl: string,
  secret: string,
  challenge: string,
  options: SendOptions = {},
): Promise<SlackRequestResult> {
  const body = JSON.stringify({ token: 'sandbox-verification-token', challenge, type: 'url_verification' });
  return postSigned(appUrl, secret, body, { ...options, contentType: 'application/json' });
}
