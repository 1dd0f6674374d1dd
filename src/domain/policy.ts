/** Who holds which role, as the catalog names them: Slack user ids (on-call may be a user group). */
export interface Roles {
  slack: { releaseManagers: string[]; onCall: string };
}

/** A service's own deployers; unset means anyone. */
export interface Deployers {
  deployers?: string[];
}

export const isReleaseManager = (catalog: Roles, user: string): boolean => catalog.slack.releaseManagers.includes(user);

/** `deployers` unset means anyone may deploy the service; release managers always may. */
export const mayDeploy = (catalog: Roles, service: Deployers, user: string): boolean =>
  !service.deployers || service.deployers.includes(user) || isReleaseManager(catalog, user);

/** On-call named as a user; a user group's members are not known without a Slack lookup. */
export const isOnCall = (catalog: Roles, user: string): boolean => catalog.slack.onCall === user;

/**
 * Why someone may deploy the service: `named` (a deployer or release manager: guests and
 * external users included, since the catalog names them) or `anyone` (the service has no
 * `deployers`, which means any full member of the workspace; the caller checks membership).
 */
export type Right = 'named' | 'anyone';

export function deployRight(catalog: Roles, service: Deployers, user: string): Right | undefined {
  if (service.deployers?.includes(user) || isReleaseManager(catalog, user)) return 'named';
  return service.deployers ? undefined : 'anyone';
}

/** As deployRight, with the on-call user named in the catalog; a user group's members need a Slack lookup. */
export function rollbackRight(catalog: Roles, service: Deployers, user: string): Right | undefined {
  if (isOnCall(catalog, user)) return 'named';
  return deployRight(catalog, service, user);
}

export const mayRollback = (catalog: Roles, service: Deployers, user: string): boolean =>
  mayDeploy(catalog, service, user) || isOnCall(catalog, user);
