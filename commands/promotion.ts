import type { AppContext } from '../src/app/context.js';
import { promotionRefusalText } from '../src/domain/promotion.js';
import { environmentOf } from '../src/runbook/environments.js';
import { promotionCandidate, promotionVerdictFor } from '../src/store/promotion-facts.js';

const refusalContext = (ctx: AppContext, service: string, version: string, target: string) => ({
  service,
  version,
  target,
  now: ctx.clock(),
  timeZone: ctx.catalog.window?.timezone,
});

/**
 * Why `version` may not go to `environment` yet (never deployed, still running or rolled back
 * in the environment it is promoted from, or not soaked there long enough); undefined when it may.
 */
export async function promotionRefusal(
  ctx: AppContext,
  service: string,
  version: string,
  environment: string,
): Promise<string | undefined> {
  const verdict = await promotionVerdictFor(ctx.store, ctx.catalog, { service, version, environment }, ctx.clock());
  return verdict.eligible
    ? undefined
    : promotionRefusalText(verdict.refusal, refusalContext(ctx, service, version, environment));
}

/** `/deploy promote`: the environment and version to open the checklist for, or why there is none. */
export async function promoteTarget(
  ctx: AppContext,
  service: string,
  environment: string | undefined,
): Promise<{ environment: string; version: string } | { refusal: string }> {
  if (environment !== undefined && environmentOf(ctx.catalog, environment)?.promotedFrom === undefined)
    return {
      refusal: `${environment} takes no promotions (it has no promotedFrom); deploy a version there with \`/deploy ${service} &lt;version&gt; ${environment}\``,
    };
  const candidate = await promotionCandidate(ctx.store, ctx.catalog, service, environment, ctx.clock());
  if (candidate.found) return { environment: candidate.environment, version: candidate.version };
  if (candidate.environments.length === 0)
    return { refusal: 'no environment takes promotions: none of the catalog environments has promotedFrom' };
  const [latest] = candidate.refusals;
  if (!latest || latest.verdict.eligible) {
    const sources = candidate.environments
      .map((name) => `${environmentOf(ctx.catalog, name)?.promotedFrom} (for ${name})`)
      .join(', ');
    return { refusal: `no version of ${service} has completed in ${sources} yet; nothing to promote` };
  }
  return {
    refusal: `no version of ${service} may be promoted now; the latest to complete: ${promotionRefusalText(
      latest.verdict.refusal,
      refusalContext(ctx, service, latest.version, latest.environment),
    )}`,
  };
}
