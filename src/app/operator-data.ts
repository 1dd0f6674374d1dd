import type { Deployment, RollbackIntent } from '../domain/deployment.js';
import { DORA_WINDOW_DAYS, doraByService, doraFor, type DoraFigures } from '../domain/dora.js';
import type { HomeData } from '../../views/app-home.js';
import { environmentNames } from '../runbook/environments.js';
import type { AppContext } from './context.js';

const DAY_MS = 86_400_000;
/** Records read per service for the DORA window; far more than any team deploys in a month. */
export const DORA_RECORDS_PER_SERVICE = 1000;
const HOME_RECENT = 15;

/**
 * The active deployment of each service named in each environment named (every catalog service
 * and environment by default), each followed by those queued or scheduled behind it.
 */
export async function activeDeployments(
  ctx: AppContext,
  services: readonly string[] = Object.keys(ctx.catalog.services),
  environments: readonly string[] = environmentNames(ctx.catalog),
): Promise<Deployment[]> {
  const found = await Promise.all(
    services.flatMap((name) =>
      environments.map(async (environment) => {
        const [active, queued] = await Promise.all([
          ctx.store.active(name, environment),
          ctx.store.queued(name, environment),
        ]);
        return active ? [active, ...queued] : queued;
      }),
    ),
  );
  return found.flat();
}

/**
 * A service's records requested since `from`, newest first, read by score from its history so
 * that a long history costs nothing.
 */
export async function recordsSince(
  ctx: AppContext,
  service: string,
  from: number,
  limit = DORA_RECORDS_PER_SERVICE,
  environment?: string,
): Promise<Deployment[]> {
  return ctx.store.historySince(service, from, limit, environment);
}

/** The first rollback request of each rolled-back record, for DORA's time to restore. */
async function rollbackIntents(ctx: AppContext, records: readonly Deployment[]): Promise<Map<string, RollbackIntent>> {
  const rolledBack = records.filter((d) => d.phase === 'rolled-back');
  const intents = await Promise.all(
    rolledBack.map(async (d) => [d.id, (await ctx.store.intents(d.id)).rollback] as const),
  );
  return new Map(intents.filter((entry): entry is readonly [string, RollbackIntent] => entry[1] !== undefined));
}

/**
 * The DORA four of every catalog service over the last `windowDays`, from the records in Redis:
 * per service, and per service and environment where the catalog declares environments.
 */
export async function doraFromRedis(
  ctx: AppContext,
  now: number,
  windowDays = DORA_WINDOW_DAYS,
): Promise<DoraFigures[]> {
  const services = Object.keys(ctx.catalog.services);
  // A deployment requested just before the window may have finished inside it.
  const from = now - (windowDays + 1) * DAY_MS;
  const environments = environmentNames(ctx.catalog);
  const records = (
    await Promise.all(
      services.flatMap((service) =>
        environments.map((environment) => recordsSince(ctx, service, from, DORA_RECORDS_PER_SERVICE, environment)),
      ),
    )
  ).flat();
  const options = { now, windowDays, rollbackIntents: await rollbackIntents(ctx, records) };
  if (!ctx.catalog.environments) return doraByService(services, records, options);
  return services.flatMap((service) =>
    environments.map((environment) => doraFor(service, records, { ...options, environment })),
  );
}

/** Everything the Home tab shows, read from Redis. */
export async function homeData(ctx: AppContext): Promise<HomeData> {
  const now = ctx.clock();
  const [active, recent, dora] = await Promise.all([
    activeDeployments(ctx),
    ctx.store.recent(HOME_RECENT),
    doraFromRedis(ctx, now),
  ]);
  return { now, active, recent, dora, windowDays: DORA_WINDOW_DAYS, namesEnvironments: !!ctx.catalog.environments };
}
