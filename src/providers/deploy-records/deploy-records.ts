/** What a deploy marker is about; its tags are `service:`, `env:`, `version:` and `deployment_id:`. */
export interface DeployMarker {
  deploymentId: string;
  service: string;
  environment: string;
  version: string;
  title: string;
  text: string;
  /** How the marker shows: a start or a shift is info, a completion success, a rollback an error. */
  kind: 'info' | 'success' | 'error';
  /** When it happened (ms since epoch). */
  at: number;
}

/** A deployment that changed what serves users, for the DORA deployment frequency and lead time. */
export interface DoraDeployment {
  deploymentId: string;
  service: string;
  environment: string;
  version: string;
  startedAt: number;
  finishedAt: number;
}

/** A rollback, for the DORA change failure rate and time to restore. */
export interface DoraFailure {
  deploymentId: string;
  service: string;
  environment: string;
  version: string;
  name: string;
  startedAt: number;
  finishedAt?: number;
}

/**
 * Where deployments are recorded for dashboards and DORA metrics (Datadog). Each call is one
 * request; it throws when it did not go through, and the caller (a durable outbox) retries.
 */
export interface DeployRecordsProvider {
  marker(marker: DeployMarker): Promise<void>;
  doraDeployment(deployment: DoraDeployment): Promise<void>;
  doraFailure(failure: DoraFailure): Promise<void>;
}

/** The tags every record of a deployment carries. */
export const deploymentTags = (d: { service: string; environment: string; version: string; deploymentId: string }) => [
  `service:${d.service}`,
  `env:${d.environment}`,
  `version:${d.version}`,
  `deployment_id:${d.deploymentId}`,
];
