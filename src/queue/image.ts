import type { ServiceConfig } from '../runbook/catalog.js';

/**
 * A version Switchyard deploys: a git SHA or a v-tag. The same rule `/deploy` applies; no `:`
 * or `@`, so a version can never carry a registry, a repository or a digest of its own.
 */
export const VERSION_PATTERN = /^(?=.{1,128}$)(?:[0-9a-f]{7,40}|v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$/;

/** A record whose version would not rebuild into the catalog's image: nothing is deployed from it. */
export class RefusedVersionError extends Error {
  override readonly name = 'RefusedVersionError';
}

/**
 * The image to run for a version, rebuilt from the catalog at every use. A Redis record holds
 * versions, never the image the worker deploys: whoever can write the record cannot make the
 * cluster pull another repository.
 */
export function imageFor(service: ServiceConfig, version: string | undefined, what = 'version'): string {
  if (version === undefined || !VERSION_PATTERN.test(version)) {
    throw new RefusedVersionError(
      `refusing to deploy: the record's ${what} ${JSON.stringify(version ?? null)} is not a git SHA or a v-tag, so no image is built from it`,
    );
  }
  return `${service.workload.image}:${version}`;
}
