import type { Deployment } from './deployment.js';

/** Where a deployment runs: its environment, or `production` for a record that names none. */
export const environmentOf = (d: Deployment): string => {
  const environment = (d as { environment?: unknown }).environment;
  return typeof environment === 'string' && environment !== '' ? environment : 'production';
};
