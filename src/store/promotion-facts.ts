import { promotionVerdict, type PromotionVerdict } from '../domain/promotion.js';
import type { Catalog } from '../runbook/catalog.js';
import { environmentOf, environmentsOf } from '../runbook/environments.js';
import type { DeploymentStore } from './deployment-store.js';

/** Deployments of the source environment looked at for `/deploy promote`'s candidates. */
export const PROMOTE_CANDIDATES_LOOKBACK = 50;

/**
 * May `version` of `service` go to `environment` now? The one place promotion facts are read:
 * the version's deployments in the environment it is promoted from, from Switchyard's own
 * records, handed to the pure rule. Eligible when the environment has no `promotedFrom`.
 */
export async function promotionVerdictFor(
  store: DeploymentStore,
  catalog: Catalog,
  target: { service: string; version: string; environment: string },
  now: number,
): Promise<PromotionVerdict> {
  const environment = environmentOf(catalog, target.environment);
  if (environment?.promotedFrom === undefined) return { eligible: true };
  const source = await store.versionHistory(target.service, environment.promotedFrom, target.version);
  return promotionVerdict(environment, source, now);
}

export type PromotionCandidate =
  | { found: true; environment: string; version: string; source: string; completedAt?: number }
  /** `refusals`: why each candidate looked at was not eligible, newest completion first. */
  | {
      found: false;
      environments: string[];
      refusals: { environment: string; version: string; verdict: PromotionVerdict }[];
    };

/**
 * What `/deploy promote <service> [<environment>]` deploys: the eligible version whose deployment
 * in the source environment completed last. Without an environment, the first environment (in
 * catalog order) whose `promotedFrom` has an eligible version. `environments` lists those looked at.
 */
export async function promotionCandidate(
  store: DeploymentStore,
  catalog: Catalog,
  service: string,
  environment: string | undefined,
  now: number,
): Promise<PromotionCandidate> {
  const targets = environmentsOf(catalog).filter(
    (e) => e.promotedFrom !== undefined && (environment === undefined || e.name === environment),
  );
  const refusals: Extract<PromotionCandidate, { found: false }>['refusals'] = [];
  for (const target of targets) {
    const source = target.promotedFrom as string;
    const completed = (await store.history(service, PROMOTE_CANDIDATES_LOOKBACK, source))
      .filter((d) => d.phase === 'succeeded' && d.finishedAt !== undefined)
      .sort((a, b) => (b.finishedAt as number) - (a.finishedAt as number));
    const versions = [...new Set(completed.map((d) => d.version))];
    for (const version of versions) {
      const verdict = await promotionVerdictFor(store, catalog, { service, version, environment: target.name }, now);
      if (verdict.eligible)
        return { found: true, environment: target.name, version, source, completedAt: verdict.completedAt };
      refusals.push({ environment: target.name, version, verdict });
    }
  }
  return { found: false, environments: targets.map((t) => t.name), refusals };
}
