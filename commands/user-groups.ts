import type { WebClient } from '@slack/web-api';
import { withDeadline } from '../src/deadline.js';
import { ProviderFailed } from '../src/errors.js';

/**
 * How long a user group's member list is trusted. Rotations change who is on-call a few times
 * a day; a minute keeps a burst of presses to one Slack call per group (Tier 2: ~20 calls a minute).
 */
export const USER_GROUP_CACHE_MS = 60_000;

/** A refusal or go-ahead goes in an ack, which Slack needs within 3 s. */
export const USER_GROUP_LOOKUP_DEADLINE_MS = 1500;

/** Who is in a Slack user group (S…), through `usergroups.users.list`. */
export interface UserGroupDirectory {
  /** Throws when Slack cannot say (an error, or no answer before the deadline). */
  members(group: string): Promise<ReadonlySet<string>>;
}

export function userGroupDirectory(
  client: WebClient,
  clock: () => number,
  options: { cacheMs?: number; deadlineMs?: number } = {},
): UserGroupDirectory {
  const { cacheMs = USER_GROUP_CACHE_MS, deadlineMs = USER_GROUP_LOOKUP_DEADLINE_MS } = options;
  const cached = new Map<string, { members: ReadonlySet<string>; until: number }>();
  // Presses that arrive together share one lookup per group instead of each calling Slack.
  const inFlight = new Map<string, Promise<ReadonlySet<string>>>();

  const lookUp = async (group: string): Promise<ReadonlySet<string>> => {
    const result = await client.usergroups.users.list({ usergroup: group });
    const members = new Set(result.users ?? []);
    cached.set(group, { members, until: clock() + cacheMs });
    return members;
  };

  return {
    async members(group) {
      const hit = cached.get(group);
      if (hit && clock() < hit.until) return hit.members;
      // A lookup that misses the deadline goes on and fills the cache for the next press.
      let pending = inFlight.get(group);
      if (!pending) {
        pending = lookUp(group).finally(() => inFlight.delete(group));
        inFlight.set(group, pending);
      }
      return withDeadline(
        pending,
        deadlineMs,
        () => new ProviderFailed(`the Slack lookup of ${group} took longer than ${deadlineMs} ms`),
      );
    },
  };
}
