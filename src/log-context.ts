import type { Logger } from 'pino';
import type { Deployment } from './domain/deployment.js';

/** A logger whose every line names the deployment, its service and the step it is at. */
export const deploymentLog = (log: Logger, d: Pick<Deployment, 'id' | 'service' | 'steps' | 'stepIndex'>): Logger =>
  log.child({ deploymentId: d.id, service: d.service, step: d.steps[d.stepIndex]?.kind ?? 'done' });
