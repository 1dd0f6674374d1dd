import type { Deployment } from '../../src/domain/deployment.js';
import { createLogger } from '../../src/logger.js';
import { DeploymentTicker, type TickerDeps } from '../../src/queue/deployment-ticker.js';
import { CHANNELS } from '../../sandbox/sandbox.js';
import type { SlackMessage } from '../../sandbox/slack.js';
import { until, type Harness } from './harness.js';

/** The record of the sandbox's acme-api deployment of `version` (the newest 20 are searched). */
export const recordOf = (h: Harness, version: string): Promise<Deployment> =>
  until(
    async () => (await h.app.store.recent(20)).find((d) => d.version === version),
    5000,
    `the record of ${version}`,
  );

/** The announcement of acme-api `version` in #deployments, once the outbox posted it. */
export const announcementOf = (h: Harness, version: string, timeoutMs = 5000): Promise<SlackMessage> =>
  until(
    () =>
      h.sandbox.slack
        .messages(CHANNELS.deployments)
        .find((m) => !m.thread_ts && m.text.includes(`Deployment Scheduled: acme-api ${version} `)),
    timeoutMs,
    `the announcement of ${version}`,
  );

/**
 * A ticker on the harness's store, catalog, stand-ins and Slack outbox, outside any BullMQ
 * worker: what a worker's job run does, driven by the test (`effects` and `queue` as the case needs).
 */
export const tickerBeside = (h: Harness, deps: Pick<TickerDeps, 'effects' | 'queue'>): DeploymentTicker =>
  new DeploymentTicker({
    catalog: h.sandbox.catalog,
    store: h.app.store,
    providers: h.sandbox.providers(),
    log: createLogger('silent'),
    clock: Date.now,
    outbox: h.app.ctx.outbox,
    ...deps,
  });
