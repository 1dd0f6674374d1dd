import type { WebClient } from '@slack/web-api';
import type { AppContext } from '../src/app/context.js';
import type { WorkspaceMembers } from '../src/app/workspace-guard.js';
import { isOnCall, rollbackRight } from '../src/domain/policy.js';
import { describeError } from '../src/errors.js';
import type { ServiceConfig } from '../src/runbook/catalog.js';
import { userGroupDirectory } from './user-groups.js';

/**
 * Whether someone is the catalog's on-call: that user, or a member of that user group (S…),
 * looked up through a cached, deadline-bound user group directory.
 */
export interface OnCallDirectory {
  /** Throws when Slack cannot say who is in the group. */
  includes(user: string): Promise<boolean>;
}

export function onCallDirectory(
  client: WebClient,
  ctx: Pick<AppContext, 'catalog' | 'clock'>,
  options: { cacheMs?: number; deadlineMs?: number } = {},
): OnCallDirectory {
  const group = ctx.catalog.slack.onCall;
  const groups = userGroupDirectory(client, ctx.clock, options);
  return {
    async includes(user) {
      if (isOnCall(ctx.catalog, user)) return true;
      if (!group.startsWith('S')) return false;
      return (await groups.members(group)).has(user);
    },
  };
}

/**
 * Who may roll back a service, press Roll back now, Resume or Acknowledge: its
 * deployers, release managers and on-call; for a service without deployers, any full member of
 * the workspace (not a guest or an external user). The refusal's `because` says when on-call or
 * membership could not be checked, so an on-call engineer refused by a Slack outage knows why.
 */
export async function rollbackPermission(
  ctx: Pick<AppContext, 'catalog' | 'log'>,
  onCall: OnCallDirectory,
  service: ServiceConfig,
  user: string,
  /** Absent, a service without deployers is open to nobody beyond those named. */
  members?: WorkspaceMembers,
): Promise<{ allowed: true } | { allowed: false; because?: string }> {
  const right = rollbackRight(ctx.catalog, service, user);
  if (right === 'named') return { allowed: true };
  const membership =
    right === 'anyone'
      ? ((await members?.check(user)) ?? { member: false, because: 'membership in the workspace could not be checked' })
      : undefined;
  if (membership?.member) return { allowed: true };
  try {
    if (await onCall.includes(user)) return { allowed: true };
  } catch (error) {
    ctx.log.warn({ err: error, userGroup: ctx.catalog.slack.onCall }, 'could not look up the on-call user group');
    return { allowed: false, because: `Slack did not say who is in the on-call group (${describeError(error)})` };
  }
  return membership && !membership.member ? { allowed: false, because: membership.because } : { allowed: false };
}
