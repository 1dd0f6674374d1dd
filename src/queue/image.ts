import { imageTagProblem, versionProblem } from '../domain/version.js';
import type { ServiceConfig } from '../runbook/catalog.js';

/** A record whose version would not rebuild into the catalog's image: nothing is deployed from it. */
export class RefusedVersionError extends Error {
  override readonly name = 'RefusedVersionError';
}

/**
 * The image to run for a version, rebuilt from the catalog at every use. A Redis record holds
 * versions, never the image the worker deploys: whoever can write the record cannot make the
 * cluster pull another repository. The version being deployed must pass the rule `/deploy`
 * applied (the service's `versionPattern`, or a git SHA or a v-tag). A previous version, the
 * one a rollback returns to, need only be an image tag (no `:` or `@`, so no registry or digest
 * of its own): it was accepted when it was deployed, and the catalog's rule may have changed
 * since, which must never stop a rollback.
 */
export function imageFor(
  service: ServiceConfig,
  version: string | undefined,
  what: 'version' | 'previous version' = 'version',
): string {
  const rule =
    what === 'previous version'
      ? { problem: imageTagProblem, name: 'an image tag' }
      : {
          problem: (v: string) => versionProblem(v, service.versionPattern),
          name:
            service.versionPattern === undefined ? 'a git SHA or a v-tag' : `a match of \`${service.versionPattern}\``,
        };
  const problem = version === undefined ? 'it is missing' : rule.problem(version);
  if (problem !== undefined) {
    throw new RefusedVersionError(
      `refusing to deploy: the record's ${what} ${JSON.stringify(version ?? null)} is not ${rule.name} (${problem}), so no image is built from it`,
    );
  }
  return `${service.workload.image}:${version}`;
}
