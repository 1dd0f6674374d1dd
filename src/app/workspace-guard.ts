import type { AnyMiddlewareArgs, Context, Middleware } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { describeError, ProviderFailed } from '../errors.js';

/**
 * Only this app in its own workspace is served. Slack signs every request with the app's signing
 * secret, but the same secret may sign requests for another installation or another app sharing
 * it (a copied config, a second workspace): each request's `team_id` and `api_app_id` must be the
 * ones Slack reports for the bot token (`auth.test` gives team_id and bot_id; `bots.info` on that
 * bot gives its app_id). A request from anywhere else is acknowledged, refused and changes nothing;
 * one without a team id is refused too.
 *
 * The guard also hands each request a `WorkspaceMembers` directory (in Bolt's `context`), so
 * handlers can tell a full member of the workspace from a guest or an external (Slack Connect)
 * user where a permission is "anyone".
 */

/** The workspace and app this bot token belongs to. */
export interface OwnIdentity {
  teamId: string;
  appId: string;
}

/** How long a users.info answer is trusted: a guest promoted or a member deactivated shows within a minute. */
export const MEMBER_CACHE_MS = 60_000;
/** The answer goes in the command's ack, which Slack needs within 3 s. */
export const MEMBER_LOOKUP_DEADLINE_MS = 1500;
/** Answers kept at most; the oldest go first. */
const MEMBER_CACHE_SIZE = 5000;

export type Membership = { member: true } | { member: false; because: string };

/** Whether a user is a full member of the app's workspace (not a guest, not from another organization). */
export interface WorkspaceMembers {
  /** Resolves with the answer, or with a refusal sentence when Slack could not say. */
  check(user: string): Promise<Membership>;
}

const withDeadline = <T>(work: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProviderFailed(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
};

/** Reads `users.info`: guests (single- and multi-channel), strangers and other teams' users are not members. */
export function membershipOf(
  user: {
    team_id?: string;
    deleted?: boolean;
    is_restricted?: boolean;
    is_ultra_restricted?: boolean;
    is_stranger?: boolean;
  },
  teamId: string,
): Membership {
  const only = 'what is open to anyone is open to full members of this workspace only';
  if (user.deleted) return { member: false, because: `your account is deactivated` };
  if (user.is_ultra_restricted) return { member: false, because: `you are a single-channel guest; ${only}` };
  if (user.is_restricted) return { member: false, because: `you are a guest; ${only}` };
  if (user.is_stranger || (user.team_id !== undefined && user.team_id !== teamId))
    return { member: false, because: `you are from another organization (Slack Connect); ${only}` };
  return { member: true };
}

export function workspaceMembers(
  client: WebClient,
  identity: () => Promise<OwnIdentity>,
  options: { clock?: () => number; cacheMs?: number; deadlineMs?: number; log?: Logger } = {},
): WorkspaceMembers {
  const { clock = Date.now, cacheMs = MEMBER_CACHE_MS, deadlineMs = MEMBER_LOOKUP_DEADLINE_MS } = options;
  const cache = new Map<string, { answer: Membership; until: number }>();
  const inFlight = new Map<string, Promise<Membership>>();

  const lookUp = async (user: string): Promise<Membership> => {
    const [{ teamId }, result] = await Promise.all([identity(), client.users.info({ user })]);
    if (!result.user) throw new ProviderFailed('users.info answered without a user');
    const answer = membershipOf(result.user, teamId);
    cache.delete(user);
    if (cache.size >= MEMBER_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(user, { answer, until: clock() + cacheMs });
    return answer;
  };

  return {
    async check(user) {
      const cached = cache.get(user);
      if (cached && clock() < cached.until) return cached.answer;
      let pending = inFlight.get(user);
      if (!pending) {
        // A lookup that misses the deadline goes on and fills the cache for the next request.
        pending = lookUp(user).finally(() => inFlight.delete(user));
        inFlight.set(user, pending);
      }
      try {
        return await withDeadline(pending, deadlineMs, 'the Slack lookup of your account');
      } catch (error) {
        options.log?.warn({ err: error, user }, 'users.info failed: refusing what only full members may do');
        return {
          member: false,
          because: `Slack did not confirm that you are a full member of this workspace (${describeError(error)}); try again in a moment`,
        };
      }
    },
  };
}

/** `auth.test` then `bots.info`, once; a failure is not kept, so the next request asks again. */
export function ownIdentity(client: WebClient): () => Promise<OwnIdentity> {
  let found: Promise<OwnIdentity> | undefined;
  const ask = async (): Promise<OwnIdentity> => {
    const auth = await client.auth.test();
    if (!auth.team_id || !auth.bot_id) throw new ProviderFailed('auth.test did not report team_id and bot_id');
    const bot = await client.bots.info({ bot: auth.bot_id });
    if (!bot.bot?.app_id) throw new ProviderFailed(`bots.info did not report the app_id of ${auth.bot_id}`);
    return { teamId: auth.team_id, appId: bot.bot.app_id };
  };
  return () => {
    found ??= ask().catch((error: unknown) => {
      found = undefined;
      throw error;
    });
    return found;
  };
}

const MEMBERS = 'switchyardWorkspaceMembers';

/** The directory the guard put in a request's context. */
export function membersOf(context: Context): WorkspaceMembers {
  const members = context[MEMBERS] as WorkspaceMembers | undefined;
  if (!members) throw new Error('the workspace guard is not registered: register workspaceGuard before the handlers');
  return members;
}

/** team_id and api_app_id, wherever the kind of request carries them. */
function origin(body: Record<string, unknown>): { teamId?: string; appId?: string } {
  const team = body.team as { id?: unknown } | null | undefined;
  const teamId = typeof body.team_id === 'string' ? body.team_id : typeof team?.id === 'string' ? team.id : undefined;
  const appId = typeof body.api_app_id === 'string' ? body.api_app_id : undefined;
  return { teamId, appId };
}

/**
 * Global Bolt middleware: refuses requests from another workspace or app before any handler runs,
 * and gives the others the member directory. The app's own ids are asked for at the first
 * request that reaches the app (two Web API calls, then kept), so a request that fails its
 * signature check costs no Slack call.
 */
export function workspaceGuard(
  client: WebClient,
  log: Logger,
  clock: () => number = Date.now,
): Middleware<AnyMiddlewareArgs> {
  const identity = ownIdentity(client);
  const members = workspaceMembers(client, identity, { clock, log });

  return async (args) => {
    const { body, context, next } = args;
    const ack = (args as { ack?: (response?: unknown) => Promise<void> }).ack;
    const isCommand = typeof (body as { command?: unknown }).command === 'string';
    const refuse = async (text: string) => {
      await ack?.(isCommand ? { response_type: 'ephemeral', text: `:no_entry: ${text}` } : undefined);
    };
    let own: OwnIdentity;
    try {
      own = await identity();
    } catch (error) {
      log.error({ err: error }, 'refused a Slack request: could not learn which workspace and app are ours');
      return refuse(
        `Switchyard could not confirm with Slack which workspace it serves (${describeError(error)}); nothing was done. Try again in a moment.`,
      );
    }
    const from = origin(body as unknown as Record<string, unknown>);
    // Slack sends api_app_id with every request; one without it is judged by its team alone.
    if (from.teamId !== own.teamId || (from.appId !== undefined && from.appId !== own.appId)) {
      log.warn(
        { teamId: from.teamId, appId: from.appId, expectedTeamId: own.teamId, expectedAppId: own.appId },
        'refused a Slack request from another workspace or app',
      );
      return refuse('This Switchyard serves only its own workspace and app; nothing was done.');
    }
    context[MEMBERS] = members;
    await next();
  };
}
