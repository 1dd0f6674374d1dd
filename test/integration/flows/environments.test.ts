import { afterEach, describe, expect, it } from 'vitest';
import type { Deployment } from '../../../src/domain/deployment.js';
import { localDateTime } from '../../../src/domain/promotion.js';
import { CHANNELS } from '../../../sandbox/sandbox.js';
import type { SlackMessage } from '../../../sandbox/slack.js';
import type { SlackUser } from '../../../sandbox/slack-user.js';
import { startHarness, until, type Harness } from '../../support/harness.js';

const STAGING_CHANNEL = 'C0STAGING';
const SOAK_SECONDS = 3600;

/** Staging, then production once a version has served in staging for an hour without a rollback. */
const ENVIRONMENTS = {
  defaultEnvironment: 'production',
  environments: {
    staging: { channel: STAGING_CHANNEL },
    production: { promotedFrom: 'staging', soakSeconds: SOAK_SECONDS },
  },
};

/** The app's clock, which a test moves forward (past a soak) without waiting. */
function movableClock() {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance: (ms: number) => {
      offset += ms;
    },
  };
}

let h: Harness;
afterEach(async () => h?.close());

const start = async (clock = movableClock()) => {
  h = await startHarness({ bakeSeconds: 1, catalog: ENVIRONMENTS, clock: clock.now });
  return clock;
};

/** The ephemeral answer `/…` sent `user` after the first `since` response posts. */
const responseTo = async (user: SlackUser, since: number): Promise<string> => {
  const post = await until(
    () => h.sandbox.slack.responses.slice(since).find((r) => r.user === user.id),
    5000,
    `a response to ${user.id}`,
  );
  return String(post.body.text ?? '');
};

/** A `/deploy …` that is refused after the ack: the refusal's text. */
const refused = async (user: SlackUser, text: string): Promise<string> => {
  const since = h.sandbox.slack.responses.length;
  const views = h.sandbox.slack.views.length;
  await user.command('/deploy', text);
  const answer = await responseTo(user, since);
  expect(h.sandbox.slack.views.length, `no checklist opened for /deploy ${text}`).toBe(views);
  return answer;
};

/** The announcement `title` (`Staging Deployment Scheduled: acme-api v1.5.0`) posted in `channel`. */
const announcementIn = (channel: string, title: string): Promise<SlackMessage> =>
  until(
    () => h.sandbox.slack.messages(channel).find((m) => !m.thread_ts && m.text.includes(title)),
    10_000,
    `${title} in ${channel}`,
  );

const recordOf = async (version: string, environment: string): Promise<Deployment> =>
  until(
    async () => (await h.app.store.recent(20)).find((d) => d.version === version && d.environment === environment),
    5000,
    `the record of ${version} in ${environment}`,
  );

const waitForPhaseOf = (id: string, phases: Deployment['phase'][]): Promise<Deployment> =>
  until(
    async () => {
      const d = await h.app.store.get(id);
      return d && phases.includes(d.phase) ? d : undefined;
    },
    30_000,
    `${id} in ${phases.join(' or ')}`,
  );

/** `/deploy acme-api <version> staging`, approved and run to completion in staging. */
async function completeInStaging(version: string): Promise<Deployment> {
  const { view } = await h.requester.requestDeploy(`acme-api ${version} staging`);
  expect(view.title).toMatchObject({ text: 'Deploy to staging' });
  expect((await h.requester.submitChecklist(view)).body).toBe('');
  const announcement = await announcementIn(STAGING_CHANNEL, `Staging Deployment Scheduled: acme-api ${version}`);
  await h.releaseManager.press(announcement, 'approve_deployment');
  const d = await recordOf(version, 'staging');
  const done = await waitForPhaseOf(d.id, ['succeeded', 'rolled-back', 'failed']);
  expect(done.phase).toBe('succeeded');
  return done;
}

describe('environments: staging → production promotion, enforced before the checklist', () => {
  it('production is refused before staging, while staging runs and during the soak; accepted after it', async () => {
    const clock = await start();

    expect(await refused(h.requester, 'acme-api v1.5.0')).toBe(
      ':no_entry: acme-api v1.5.0 has never been deployed to staging: production takes versions promoted from staging. Deploy it to staging first.',
    );
    expect(await h.app.store.recent(5)).toEqual([]);

    // In staging: its own channel, its own record, nothing in #deployments.
    const { view } = await h.requester.requestDeploy('acme-api v1.5.0 staging');
    expect((await h.requester.submitChecklist(view)).body).toBe('');
    const announcement = await announcementIn(STAGING_CHANNEL, 'Staging Deployment Scheduled: acme-api v1.5.0');
    const staged = await recordOf('v1.5.0', 'staging');
    expect(staged).toMatchObject({ environment: 'staging', channel: STAGING_CHANNEL, phase: 'awaiting-approval' });
    expect(h.sandbox.slack.messages(CHANNELS.deployments)).toEqual([]);

    expect(await refused(h.requester, 'acme-api v1.5.0 production')).toContain(
      'acme-api v1.5.0 is still being deployed to staging (awaiting-approval): production takes versions promoted from staging once it completes there.',
    );

    await h.releaseManager.press(announcement, 'approve_deployment');
    const done = await waitForPhaseOf(staged.id, ['succeeded', 'rolled-back', 'failed']);
    expect(done.phase).toBe('succeeded');

    const eligibleAt = (done.finishedAt as number) + SOAK_SECONDS * 1000;
    const soaking = await refused(h.requester, 'acme-api v1.5.0');
    expect(soaking).toContain('must serve there 1h without a rollback before production');
    expect(soaking).toContain(`eligible at ${localDateTime(eligibleAt, 'UTC').time}`);
    expect(soaking).toContain('(UTC)');
    expect(await h.app.store.activeId('acme-api', 'production')).toBeUndefined();

    clock.advance(SOAK_SECONDS * 1000);
    const promoted = await h.requester.requestDeploy('acme-api v1.5.0');
    expect(promoted.view.title).toMatchObject({ text: 'Deploy to production' });
    expect(JSON.stringify(promoted.view.blocks[0])).toContain('to production');
    expect((await h.requester.submitChecklist(promoted.view)).body).toBe('');
    const production = await announcementIn(CHANNELS.deployments, 'Production Deployment Scheduled: acme-api v1.5.0');
    expect(JSON.stringify(production.blocks)).not.toContain('Promotion skipped');
    expect(await recordOf('v1.5.0', 'production')).toMatchObject({ channel: CHANNELS.deployments, hotfix: false });
  }, 60_000);

  it('a hotfix skips promotion with its justification, and the announcement says that it did', async () => {
    await start();
    const { view } = await h.requester.requestDeploy('acme-api v1.5.9 hotfix');
    expect((await h.requester.submitChecklist(view, { justification: 'login outage, no time for staging' })).body).toBe(
      '',
    );
    const announcement = await announcementIn(CHANNELS.deployments, 'Production Deployment Scheduled: acme-api v1.5.9');
    const blocks = JSON.stringify(announcement.blocks);
    expect(blocks).toContain('*Hotfix justification:* login outage, no time for staging');
    expect(blocks).toContain(
      '*Promotion skipped (hotfix):* acme-api v1.5.9 has never been deployed to staging: production takes versions promoted from staging.',
    );
    expect(await recordOf('v1.5.9', 'production')).toMatchObject({
      hotfix: true,
      promotionSkipped: expect.stringContaining('never been deployed to staging'),
    });
  });

  it('/deploy promote opens the checklist for the eligible version that completed last in staging', async () => {
    const clock = await start();
    expect(await refused(h.requester, 'promote acme-api')).toBe(
      ':no_entry: no version of acme-api has completed in staging (for production) yet; nothing to promote',
    );
    await completeInStaging('v1.5.0');
    await completeInStaging('v1.5.1');

    const waiting = await refused(h.requester, 'promote acme-api');
    expect(waiting).toContain('no version of acme-api may be promoted now; the latest to complete: acme-api v1.5.1');
    expect(waiting).toContain('eligible at ');
    expect(await refused(h.requester, 'promote acme-api staging')).toContain(
      'staging takes no promotions (it has no promotedFrom)',
    );

    clock.advance(SOAK_SECONDS * 1000);
    const views = h.sandbox.slack.views.length;
    await h.requester.command('/deploy', 'promote acme-api');
    const view = await h.requester.latestView('deploy_checklist', views);
    expect(view.title).toMatchObject({ text: 'Deploy to production' });
    expect(JSON.stringify(view.blocks[0])).toContain('v1.5.1');
    expect((await h.requester.submitChecklist(view)).body).toBe('');
    await announcementIn(CHANNELS.deployments, 'Production Deployment Scheduled: acme-api v1.5.1');
    expect(await recordOf('v1.5.1', 'production')).toMatchObject({ environment: 'production' });

    // History and status are per environment and say which.
    const since = h.sandbox.slack.responses.length;
    await h.requester.command('/deploy', 'history acme-api staging');
    const history = await responseTo(h.requester, since);
    expect(history.split('\n')[0]).toBe('*Last 2 deployments of acme-api in staging*');
    expect(history).toContain('`v1.5.1`');
    const status = await refused(h.requester, 'status');
    expect(status).toContain('[production] *acme-api* `v1.5.1`');
    expect(status).not.toContain('[staging]');
  }, 90_000);
});

describe('environments: locks, freezes and refusals are per service and environment', () => {
  it('staging and production of one service are active at once; each has its own lock', async () => {
    await start();
    const { view } = await h.requester.requestDeploy('acme-api v1.5.0 staging');
    expect((await h.requester.submitChecklist(view)).body).toBe('');
    const staged = await recordOf('v1.5.0', 'staging');

    // Staging's lock does not hold production; production's own lock refuses a second one there.
    const hotfix = await h.requester.requestDeploy('acme-api v1.4.2 production hotfix');
    expect((await h.requester.submitChecklist(hotfix.view, { justification: 'urgent' })).body).toBe('');
    const live = await recordOf('v1.4.2', 'production');
    expect(await h.app.store.activeId('acme-api', 'staging')).toBe(staged.id);
    expect(await h.app.store.activeId('acme-api', 'production')).toBe(live.id);
    // A second one in the same environment queues behind that environment's active deployment.
    const queuedLive = await h.requester.requestDeploy('acme-api v1.4.3 hotfix');
    expect(JSON.stringify(queuedLive.view.blocks)).toContain('v1.4.2 by <@U0DEV1> is awaiting-approval');
    const queuedStaging = await h.requester.requestDeploy('acme-api v1.5.1 staging');
    expect(JSON.stringify(queuedStaging.view.blocks)).toContain('v1.5.0 by <@U0DEV1> is awaiting-approval');

    const status = await refused(h.requester, 'status acme-api');
    expect(status).toContain('*Active deployments* (2)');
    expect(status).toContain('[staging] *acme-api* `v1.5.0`');
    expect(status).toContain('[production] *acme-api* `v1.4.2`');
    const stagingOnly = await refused(h.requester, 'status acme-api staging');
    expect(stagingOnly).toContain('*Active deployments* (1)');
    expect(stagingOnly).not.toContain('v1.4.2');
  });

  it('a freeze of one environment does not block the other; a freeze without one blocks both', async () => {
    await start();
    expect(await refused(h.releaseManager, 'freeze acme-api staging load test')).toContain(
      'acme-api is frozen in staging: load test',
    );
    expect(await refused(h.requester, 'acme-api v1.5.0 staging')).toMatch(
      /^:no_entry: acme-api is frozen in staging by <@U0RM1> since .*: load test$/,
    );
    const production = await h.requester.requestDeploy('acme-api v1.5.0 hotfix');
    expect(production.view.title).toMatchObject({ text: 'Hotfix deploy' });

    expect(await refused(h.releaseManager, 'unfreeze acme-api production')).toBe(
      'acme-api was not frozen in production.',
    );
    expect(await refused(h.releaseManager, 'unfreeze acme-api staging')).toBe(
      ':sunny: acme-api is no longer frozen in staging.',
    );
    await h.requester.requestDeploy('acme-api v1.5.0 staging');

    expect(await refused(h.releaseManager, 'freeze all quarter close')).toContain(
      'All services are frozen in every environment: quarter close',
    );
    expect(await refused(h.requester, 'acme-api v1.5.1 staging')).toContain('all services are frozen by');
    expect(await refused(h.requester, 'acme-api v1.5.1 hotfix')).toContain('all services are frozen by');
    expect(await refused(h.releaseManager, 'unfreeze all staging')).toBe(
      'all is frozen in every environment, not in staging alone; `/deploy unfreeze all` lifts it.',
    );
  });

  it('an unknown environment is refused naming the known ones, and nothing is created', async () => {
    await start();
    const deploy = await h.requester.command('/deploy', 'acme-api v1.5.0 qa');
    expect((deploy.json as { text?: string }).text).toBe(
      ':warning: unknown option `qa`; accepted: blue-green, canary, rolling, hotfix, dry-run, at HH:MM[:SS]|YYYY-MM-DDTHH:MM[:SS]|next-window, or an environment (known environments: staging, production)',
    );
    const shift = await h.requester.command('/shift', 'acme-api qa 50');
    expect((shift.json as { text?: string }).text).toContain(
      'unknown environment `qa`; known environments: staging, production',
    );
    const promote = await h.requester.command('/deploy', 'promote acme-api qa');
    expect((promote.json as { text?: string }).text).toContain(
      'unknown environment `qa`; known environments: staging, production',
    );
    const history = await h.requester.command('/deploy', 'history acme-api qa');
    expect((history.json as { text?: string }).text).toContain('(or after an environment: staging, production)');
    const plan = await h.requester.command('/deploy', 'acme-api v1.5.0 staging dry-run');
    expect((plan.json as { text?: string }).text).toContain(
      '*Dry run: acme-api `v1.5.0` (blue-green) in staging*: nothing will change.',
    );
    const help = await h.requester.command('/deploy', 'help');
    expect((help.json as { text?: string }).text).toContain('Environments: staging, production (default production)');
    expect(h.sandbox.slack.views).toHaveLength(0);
    expect(await h.app.store.recent(5)).toEqual([]);
  });

  it('/rollback <service> staging acts on staging only', async () => {
    await start();
    const done = await completeInStaging('v1.5.0');
    let since = h.sandbox.slack.responses.length;
    await h.requester.command('/rollback', 'acme-api production broken');
    expect(await responseTo(h.requester, since)).toBe('acme-api has no deployment in production to roll back.');
    since = h.sandbox.slack.responses.length;
    await h.requester.command('/rollback', 'acme-api staging smoke failing');
    expect(await responseTo(h.requester, since)).toContain(
      'Rolling back acme-api v1.5.0 in staging to v1.4.1: smoke failing',
    );
    const rolledBack = await waitForPhaseOf(done.id, ['rolled-back']);
    expect(rolledBack.rollbackReason).toBe('smoke failing');
    expect(await h.app.store.blockedVersion('acme-api', 'v1.5.0', 'staging')).toMatchObject({
      deploymentId: done.id,
    });
    expect(await h.app.store.blockedVersion('acme-api', 'v1.5.0', 'production')).toBeUndefined();
    // Production now refuses the version: it was rolled back where it is promoted from.
    expect(await refused(h.requester, 'acme-api v1.5.0')).toContain('acme-api v1.5.0 was rolled back in staging at');
  }, 60_000);
});
