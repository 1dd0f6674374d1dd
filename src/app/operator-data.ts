import type { Deployment, RollbackIntent } from '../domain/deployment.js';
import { DORA_WINDOW_DAYS, doraByService, type DoraFigures } from '../domain/dora.js';
import type { HomeData } from '../../views/app-home.js';
import type { AppContext } from './context.js';

const DAY_MS = 86_400_000;
/** Records read per service for the DORA window; far more than any team deploys in a month. */
export const DORA_RECORDS_PER_SERVICE = 1000;
const HOME_RECENT = 15;

/** The active deployment of each service named (every catalog service by default). */
export async function activeDeployments(
  ctx: AppContext,
  services: readonly string[] = Object.keys(ctx.catalog.services),
): Promise<Deployment[]> {
  const found = await Promise.all(services.map((name) => ctx.store.active(name)));
  return found.filter((d): d is Deployment => d !== undefined);
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
): Promise<Deployment[]> {
  return ctx.store.historySince(service, from, limit);
}

/** The first rollback request of each rolled-back record, for DORA's time to restore. */
async function rollbackIntents(ctx: AppContext, records: readonly Deployment[]): Promise<Map<string, RollbackIntent>> {
  const rolledBack = records.filter((d) => d.phase === 'rolled-back');
  const intents = await Promise.all(
    rolledBack.map(async (d) => [d.id, (await ctx.store.intents(d.id)).rollback] as const),
  );
  return new Map(intents.filter((entry): entry is readonly [string, RollbackIntent] => entry[1] !== undefined));
}

/** The DORA four of every catalog service over the last `windowDays`, from the records in Redis. */
export async function doraFromRedis(
  ctx: AppContext,
  now: number,
  windowDays = DORA_WINDOW_DAYS,
): Promise<DoraFigures[]> {
  const services = Object.keys(ctx.catalog.services);
  // A deployment requested just before the window may have finished inside it.
  const from = now - (windowDays + 1) * DAY_MS;
  const records = (await Promise.all(services.map((service) => recordsSince(ctx, service, from)))).flat();
  return doraByService(services, records, { now, windowDays, rollbackIntents: await rollbackIntents(ctx, records) });
}

/** Everything the Home tab shows, read from Redis. */
export async function homeData(ctx: AppContext): Promise<HomeData> {
  const now = ctx.clock();
  const [active, recent, dora] = await Promise.all([
    activeDeployments(ctx),
    ctx.store.recent(HOME_RECENT),
    doraFromRedis(ctx, now),
  ]);
  return { now, active, recent, dora, windowDays: DORA_WINDOW_DAYS };
}
