import type { Catalog, ServiceConfig } from '../runbook/catalog.js';
import type { Deployment } from './deployment.js';

export const isReleaseManager = (catalog: Catalog, user: string): boolean =>
  catalog.slack.releaseManagers.includes(user);

/** `deployers` unset means anyone may deploy the service; release managers always may. */
export const mayDeploy = (catalog: Catalog, service: ServiceConfig, user: string): boolean =>
  !service.deployers || service.deployers.includes(user) || isReleaseManager(catalog, user);

/** On-call named as a user; a user group's members are not known without a Slack lookup. */
export const isOnCall = (catalog: Catalog, user: string): boolean => catalog.slack.onCall === user;

/**
 * Why someone may deploy the service: `named` (a deployer or release manager: guests and
 * external users included, since the catalog names them) or `anyone` (the service has no
 * `deployers`, which means any full member of the workspace; the caller checks membership).
 */
export type Right = 'named' | 'anyone';

export function deployRight(catalog: Catalog, service: ServiceConfig, user: string): Right | undefined {
  if (service.deployers?.includes(user) || isReleaseManager(catalog, user)) return 'named';
  return service.deployers ? undefined : 'anyone';
}

/** As deployRight, with the on-call user named in the catalog; a user group's members need a Slack lookup. */
export function rollbackRight(catalog: Catalog, service: ServiceConfig, user: string): Right | undefined {
  if (isOnCall(catalog, user)) return 'named';
  return deployRight(catalog, service, user);
}

export const mayRollback = (catalog: Catalog, service: ServiceConfig, user: string): boolean =>
  mayDeploy(catalog, service, user) || isOnCall(catalog, user);

export type DecisionRefusal = 'not-release-manager' | 'own-deployment';

/** Only a release manager decides, and never on their own request. */
export function decisionRefusal(catalog: Catalog, d: Deployment, user: string): DecisionRefusal | undefined {
  if (!isReleaseManager(catalog, user)) return 'not-release-manager';
  if (d.requester === user) return 'own-deployment';
  return undefined;
}
