import { messageBlockProblems } from './block-kit-limits.js';
import { arr, fail, invalidArguments, SlackViews, str, type Json, type SlackView } from './slack-views.js';

export type { Json, SlackView };

/** What the Slack stand-in knows about the one workspace and bot it pretends to be. */
export const SANDBOX_IDENTITY = {
  teamId: 'T0SANDBOX',
  teamDomain: 'sandbox',
  appId: 'A0SWITCHYARD',
  botId: 'B0SWITCHYARD',
  botUserId: 'U0SWITCHYARD',
  botName: 'switchyard',
} as const;

export interface SlackMessage {
  type: 'message';
  channel: string;
  ts: string;
  thread_ts?: string;
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  metadata?: unknown;
  user: string;
  bot_id: string;
  edited?: { user: string; ts: string };
  /** Set by a response_url post with `delete_original` or by chat.delete. */
  deleted?: boolean;
}

/** How a person differs from a full member of the sandbox workspace (users.info's flags). */
export interface SandboxPerson {
  /** A multi-channel guest. */
  is_restricted?: boolean;
  /** A single-channel guest. */
  is_ultra_restricted?: boolean;
  /** Someone from another organization seen through a Slack Connect channel. */
  is_stranger?: boolean;
  /** Another workspace's id for an external (Slack Connect) member. */
  team_id?: string;
  deleted?: boolean;
}

export interface SlackEphemeral {
  channel: string;
  user: string;
  text: string;
  blocks?: unknown[];
  thread_ts?: string;
  message_ts: string;
}

const isTrue = (value: unknown): boolean => value === true || value === 'true' || value === '1';

/** A message as the history methods return it: metadata only when `include_all_metadata` asks. */
function shown(message: SlackMessage, args: Json): Omit<SlackMessage, 'channel' | 'deleted'> {
  const { channel: _channel, deleted: _deleted, metadata, ...rest } = message;
  return isTrue(args.include_all_metadata) && metadata !== undefined ? { ...rest, metadata } : rest;
}

/** The in-memory state of the sandbox workspace and the Web API methods that read and change it. */
export class SlackWorkspace {
  readonly messages: SlackMessage[] = [];
  readonly ephemerals: SlackEphemeral[] = [];
  readonly views: SlackViews;
  private lastMicros = 0;

  constructor(
    private readonly options: {
      channels?: readonly string[];
      triggerTtlMs: number;
      now: () => number;
      /** User groups (S…) and their members, as `usergroups.users.list` answers. */
      userGroups?: ReadonlyMap<string, readonly string[]>;
      /** People who are not plain full members (guests, external users), by user id. */
      people?: ReadonlyMap<string, SandboxPerson>;
      /** Channels the bot cannot see (DMs between people, private channels without the bot). */
      unreachable?: ReadonlySet<string>;
      /** Public channels the bot is not a member of: it may post, not read, until it joins. */
      outsideOf?: Set<string>;
    },
  ) {
    this.views = new SlackViews(SANDBOX_IDENTITY, options);
  }

  /** Slack timestamps are seconds.micros; every new one is later than the one before. */
  nextTs(): string {
    const micros = Math.max(this.options.now() * 1000, this.lastMicros + 100);
    this.lastMicros = micros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  }

  find(channel: string, ts: string): SlackMessage | undefined {
    return this.messages.find((m) => m.channel === channel && m.ts === ts && !m.deleted);
  }

  thread(channel: string, ts: string): SlackMessage[] {
    const parent = this.find(channel, ts);
    const root = parent?.thread_ts ?? ts;
    return this.messages.filter((m) => m.channel === channel && !m.deleted && (m.ts === root || m.thread_ts === root));
  }

  /** Channel ids as Slack accepts them; a user id opens (and answers with) a DM channel. */
  resolveChannel(id: unknown): string | undefined {
    if (typeof id !== 'string') return undefined;
    if (/^[UW][A-Z0-9]{2,}$/.test(id)) return `D${id.slice(1)}`;
    if (!/^[CGD][A-Z0-9]{2,}$/.test(id)) return undefined;
    if (this.options.channels && !this.options.channels.includes(id)) return undefined;
    if (this.options.unreachable?.has(id)) return undefined;
    return id;
  }

  call(method: string, args: Json): Json {
    switch (method) {
      case 'api.test':
        return { ok: true, args };
      case 'auth.test':
        return {
          ok: true,
          url: `https://${SANDBOX_IDENTITY.teamDomain}.slack.com/`,
          team: 'Sandbox',
          user: SANDBOX_IDENTITY.botName,
          team_id: SANDBOX_IDENTITY.teamId,
          user_id: SANDBOX_IDENTITY.botUserId,
          bot_id: SANDBOX_IDENTITY.botId,
          is_enterprise_install: false,
        };
      case 'chat.postMessage':
        return this.postMessage(args);
      case 'chat.update':
        return this.update(args);
      case 'chat.delete':
        return this.remove(args);
      case 'chat.postEphemeral':
        return this.postEphemeral(args);
      case 'chat.getPermalink':
        return this.permalink(args);
      case 'conversations.replies':
        return this.replies(args);
      case 'conversations.history':
        return this.history(args);
      case 'conversations.join':
        return this.join(args);
      case 'views.open':
      case 'views.push':
        return this.views.open(method, args);
      case 'views.update':
        return this.views.update(args);
      case 'views.publish':
        return this.views.publish(args);
      case 'usergroups.users.list':
        return this.userGroupMembers(args);
      case 'users.info':
        return this.userInfo(args);
      case 'bots.info':
        return this.botInfo(args);
      default:
        return fail('unknown_method');
    }
  }

  /** Checks what chat.postMessage, chat.postEphemeral and chat.update have in common. */
  private content(args: Json): Json | undefined {
    const text = str(args.text);
    if (!text && !arr(args.blocks)?.length && !arr(args.attachments)?.length) return fail('no_text');
    if (text && text.length > 40_000) return fail('msg_too_long');
    const problems = messageBlockProblems(args.blocks);
    return problems.length > 0 ? fail('invalid_blocks', { response_metadata: { messages: problems } }) : undefined;
  }

  postMessage(args: Json): Json {
    const channel = this.resolveChannel(args.channel);
    if (!channel) return fail('channel_not_found');
    const invalid = this.content(args);
    if (invalid) return invalid;
    const message: SlackMessage = {
      type: 'message',
      channel,
      ts: this.nextTs(),
      ...(str(args.thread_ts) ? { thread_ts: str(args.thread_ts) } : {}),
      text: str(args.text) ?? '',
      ...(arr(args.blocks) ? { blocks: arr(args.blocks) } : {}),
      ...(arr(args.attachments) ? { attachments: arr(args.attachments) } : {}),
      ...(args.metadata !== undefined ? { metadata: args.metadata } : {}),
      user: SANDBOX_IDENTITY.botUserId,
      bot_id: SANDBOX_IDENTITY.botId,
    };
    this.messages.push(message);
    const { channel: _channel, ...shown } = message;
    return { ok: true, channel, ts: message.ts, message: shown };
  }

  private update(args: Json): Json {
    const channel = this.resolveChannel(args.channel);
    if (!channel) return fail('channel_not_found');
    const message = this.find(channel, String(args.ts ?? ''));
    if (!message) return fail('message_not_found');
    if (message.user !== SANDBOX_IDENTITY.botUserId) return fail('cant_update_message');
    const invalid = this.content(args);
    if (invalid) return invalid;
    this.applyEdit(message, args);
    const { channel: _channel, ...shown } = message;
    return { ok: true, channel, ts: message.ts, text: message.text, message: shown };
  }

  /** Replaces what an edit names: text, blocks, attachments (also used for replace_original). */
  applyEdit(message: SlackMessage, args: Json): void {
    if ('text' in args) message.text = str(args.text) ?? '';
    if ('blocks' in args) message.blocks = arr(args.blocks) ?? [];
    if ('attachments' in args) message.attachments = arr(args.attachments) ?? [];
    if ('metadata' in args) message.metadata = args.metadata;
    message.edited = { user: SANDBOX_IDENTITY.botUserId, ts: this.nextTs() };
  }

  private remove(args: Json): Json {
    const channel = this.resolveChannel(args.channel);
    if (!channel) return fail('channel_not_found');
    const message = this.find(channel, String(args.ts ?? ''));
    if (!message) return fail('message_not_found');
    message.deleted = true;
    return { ok: true, channel, ts: message.ts };
  }

  private postEphemeral(args: Json): Json {
    const channel = this.resolveChannel(args.channel);
    if (!channel) return fail('channel_not_found');
    const user = str(args.user);
    if (!user) return invalidArguments(['[ERROR] missing required field: user [json-pointer:/user]']);
    const invalid = this.content(args);
    if (invalid) return invalid;
    const message_ts = this.nextTs();
    this.ephemerals.push({
      channel,
      user,
      text: str(args.text) ?? '',
      ...(arr(args.blocks) ? { blocks: arr(args.blocks) } : {}),
      ...(str(args.thread_ts) ? { thread_ts: str(args.thread_ts) } : {}),
      message_ts,
    });
    return { ok: true, message_ts };
  }

  private permalink(args: Json): Json {
    const channel = this.resolveChannel(args.channel);
    if (!channel) return fail('channel_not_found');
    const message = this.find(channel, String(args.message_ts ?? ''));
    if (!message) return fail('message_not_found');
    const base = `https://${SANDBOX_IDENTITY.teamDomain}.slack.com/archives/${channel}/p${message.ts.replace('.', '')}`;
    const inThread = message.thread_ts && message.thread_ts !== message.ts;
    return { ok: true, channel, permalink: inThread ? `${base}?thread_ts=${message.thread_ts}&cid=${channel}` : base };
  }

  /** conversations.join: the bot becomes a member of a public channel. */
  private join(args: Json): Json {
    const channel = this.resolveChannel(args.channel);
    if (!channel) return fail('channel_not_found');
    this.options.outsideOf?.delete(channel);
    return { ok: true, channel: { id: channel, is_member: true } };
  }

  private replies(args: Json): Json {
    const channel = this.resolveChannel(args.channel);
    if (!channel) return fail('channel_not_found');
    if (this.options.outsideOf?.has(channel)) return fail('not_in_channel');
    const thread = this.thread(channel, String(args.ts ?? ''));
    if (thread.length === 0) return fail('thread_not_found');
    const messages = thread.map((message) => {
      const m = shown(message, args);
      if (m.thread_ts || thread.length === 1) return m;
      const replies = thread.slice(1);
      return { ...m, thread_ts: m.ts, reply_count: replies.length, latest_reply: replies.at(-1)?.ts };
    });
    return { ok: true, messages, has_more: false };
  }

  /** Top-level messages of a channel, newest first, as conversations.history lists them. */
  private history(args: Json): Json {
    const channel = this.resolveChannel(args.channel);
    if (!channel) return fail('channel_not_found');
    if (this.options.outsideOf?.has(channel)) return fail('not_in_channel');
    const limit = Math.min(Number(args.limit ?? 100) || 100, 999);
    const oldest = Number(args.oldest ?? 0);
    const topLevel = this.messages.filter(
      (m) => m.channel === channel && !m.deleted && (!m.thread_ts || m.thread_ts === m.ts) && Number(m.ts) > oldest,
    );
    const newestFirst = topLevel.reverse();
    return {
      ok: true,
      messages: newestFirst.slice(0, limit).map((m) => shown(m, args)),
      has_more: newestFirst.length > limit,
    };
  }

  /** usergroups.users.list: the members of a user group (S…). */
  private userGroupMembers(args: Json): Json {
    const id = str(args.usergroup);
    if (!id) return invalidArguments(['[ERROR] missing required field: usergroup [json-pointer:/usergroup]']);
    const members = this.options.userGroups?.get(id);
    return members ? { ok: true, users: [...members] } : fail('no_such_subteam');
  }

  /**
   * users.info, in Slack's shape: any well-formed user id is a full member of the sandbox team
   * unless `people` says otherwise (guests carry is_restricted / is_ultra_restricted, external
   * users another team_id or is_stranger).
   */
  private userInfo(args: Json): Json {
    const id = str(args.user);
    if (!id) return invalidArguments(['[ERROR] missing required field: user [json-pointer:/user]']);
    if (!/^[UW][A-Z0-9]{2,}$/.test(id)) return fail('user_not_found');
    const person = this.options.people?.get(id) ?? {};
    const isBot = id === SANDBOX_IDENTITY.botUserId;
    const name = isBot ? SANDBOX_IDENTITY.botName : id.toLowerCase();
    const { is_stranger, ...flags } = person;
    return {
      ok: true,
      user: {
        id,
        team_id: SANDBOX_IDENTITY.teamId,
        name,
        deleted: false,
        color: '9f69e7',
        real_name: name,
        tz: 'Europe/London',
        tz_label: 'Greenwich Mean Time',
        tz_offset: 0,
        profile: {
          real_name: name,
          display_name: name,
          avatar_hash: 'g0000000000',
          team: person.team_id ?? SANDBOX_IDENTITY.teamId,
          ...(isBot ? { bot_id: SANDBOX_IDENTITY.botId, api_app_id: SANDBOX_IDENTITY.appId } : {}),
        },
        is_admin: false,
        is_owner: false,
        is_primary_owner: false,
        is_restricted: false,
        is_ultra_restricted: false,
        is_bot: isBot,
        is_app_user: false,
        updated: 1_700_000_000,
        is_email_confirmed: !isBot,
        who_can_share_contact_card: 'EVERYONE',
        ...flags,
        // Slack sets is_stranger only on someone from another organization.
        ...(is_stranger ? { is_stranger: true } : {}),
      },
    };
  }

  /** bots.info: the sandbox's own bot (its app_id and bot user), or bot_not_found. */
  private botInfo(args: Json): Json {
    const id = str(args.bot);
    if (id && id !== SANDBOX_IDENTITY.botId) return fail('bot_not_found');
    return {
      ok: true,
      bot: {
        id: SANDBOX_IDENTITY.botId,
        deleted: false,
        name: SANDBOX_IDENTITY.botName,
        updated: 1_700_000_000,
        app_id: SANDBOX_IDENTITY.appId,
        user_id: SANDBOX_IDENTITY.botUserId,
        icons: {
          image_36: 'https://a.slack-edge.com/80588/img/plugins/app/bot_36.png',
          image_48: 'https://a.slack-edge.com/80588/img/plugins/app/bot_48.png',
          image_72: 'https://a.slack-edge.com/80588/img/plugins/app/service_72.png',
        },
      },
    };
  }

  /** A response_url post may replace or delete the message it came from, or post to its channel. */
  respond(target: { channel?: string; ts?: string } | undefined, body: Json): void {
    const message = target?.channel && target.ts ? this.find(target.channel, target.ts) : undefined;
    if (message && isTrue(body.delete_original)) message.deleted = true;
    else if (message && isTrue(body.replace_original)) this.applyEdit(message, body);
    else if (target?.channel && body.response_type === 'in_channel') {
      this.postMessage({ ...body, channel: target.channel });
    }
  }
}
