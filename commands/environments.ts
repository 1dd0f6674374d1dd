import { SwitchyardError } from '../src/errors.js';
import type { Catalog, ServiceConfig } from '../src/runbook/catalog.js';
import { defaultEnvironmentOf, serviceIn } from '../src/runbook/environments.js';

/**
 * ` in staging` where the catalog declares environments; nothing in a catalog without them,
 * whose one environment (production) messages never needed to name.
 */
export const inEnvironment = (catalog: Pick<Catalog, 'environments'>, environment: string): string =>
  catalog.environments ? ` in ${environment}` : '';

/** The environment a command acts on: the one named, else the catalog's default. */
export const targetEnvironment = (catalog: Catalog, named: string | undefined): string =>
  named ?? defaultEnvironmentOf(catalog);

/** A known service's configuration in a known environment (its overrides merged over its own keys). */
export function settingsIn(catalog: Catalog, service: string, environment: string): ServiceConfig {
  const settings = serviceIn(catalog, service, environment);
  if (!settings)
    throw new SwitchyardError('internal', `${service} has no configuration in ${environment}`, {
      context: { service },
    });
  return settings;
}
