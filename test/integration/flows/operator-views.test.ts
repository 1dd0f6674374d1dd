import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment } from '../../../src/domain/deployment.js';
import { formatDuration } from '../../../src/domain/steps.js';
import { doraFromRedis } from '../../../src/app/operator-data.js';
import { inputValue } from '../../../sandbox/slack-requests.js';
import type { SlackUser } from '../../../sandbox/slack-user.js';
import type { SlackView } from '../../../sandbox/slack.js';
import { HOME_REFRESH_ACTION } from '../../../views/app-home.js';
import { startHarness, until, type Harness } from '../../support/harness.js';
import { doraFieldsOf, homeText, requestAndDecide } from '../../support/operator.js';

const P99 = 'p99:trace.http.request.duration{service:acme-api,env:prod}';
const ERRORS =
  'sum:trace.http.request.errors{service:acme-api}.as_rate()/sum:trace.http.request.hits{service:acme-api}.as_rate()';

/** The app's clock, which a test may stop: a bake then never ends and its deployment stays active. */
function stoppableClock() {
  let stoppedAt: number | undefined;
  return {
    now: () => stoppedAt ?? Date.now(),
    stop: () => {
      stoppedAt = Date.now();
    },
    start: () => {
      stoppedAt = undefined;
    },
  };
}

const responseTo = async (h: Harness, user: SlackUser, since: number): Promise<string> => {
  const post = await until(
    () => h.sandbox.slack.responses.slice(since).find((r) => r.user === user.id),
    5000,
    `a response to ${user.id}`,
  );
  return String(post.body.text ?? '');
};

/**
 * One sandbox history with every outcome, made through Slack as people would: v1.5.0 succeeds,
 * v1.6.0 is rolled back by its p99 gate, v1.7.0 is rejected, v1.8.0 fails on ImagePullBackOff,
 * and v1.9.0 is left baking (the app's clock stopped) so that it stays active.
 */
describe('status, history and the Home tab on a history of mixed outcomes', () => {
  const clock = stoppableClock();
  let h: Harness;
  const done: Record<string, Deployment> = {};
  let active: Deployment;

  beforeAll(async () => {
    const gates = {
      intervalSeconds: 1,
      failureLimit: 0,
      inconclusiveLimit: 3,
      metrics: [
        { name: 'p99', query: P99, max: 0.8 },
        { name: 'errors', query: ERRORS, max: 0.01 },
      ],
    };
    h = await startHarness({ bakeSeconds: 2, clock: clock.now, service: { gates } });
    const finish = async (version: string) => {
      const d = await h.waitForPhase(['succeeded', 'rolled-back', 'failed', 'rejected'], 30_000);
      expect(d.version).toBe(version);
      done[version] = d;
    };

    await requestAndDecide(h, 'acme-api v1.5.0');
    await finish('v1.5.0');

    h.sandbox.datadog.setMetric(/p99/, 1.5);
    await requestAndDecide(h, 'acme-api v1.6.0');
    await finish('v1.6.0');
    h.sandbox.datadog.setMetric(/p99/, 0.35);

    await requestAndDecide(h, 'acme-api v1.7.0', 'reject');
    await h.releaseManager.submitView(await h.releaseManager.latestView('reject_reason'), {
      reason: { value: inputValue.plainText('not during the sale') },
    });
    await finish('v1.7.0');

    h.sandbox.kubernetes.failImage(/:v1\.8\.0$/, 'ImagePullBackOff');
    await requestAndDecide(h, 'acme-api v1.8.0');
    await finish('v1.8.0');

    await requestAndDecide(h, 'acme-api v1.9.0');
    active = await until(
      async () => {
        const [d] = await h.app.store.recent(1);
        return d?.version === 'v1.9.0' && d.steps[d.stepIndex]?.kind === 'bake' && d.lastGateRun ? d : undefined;
      },
      15_000,
      'v1.9.0 baking with gate readings',
    );
    clock.stop();
  }, 120_000);

  afterAll(async () => {
    clock.start();
    await h?.close();
  });

  it('made one record of each outcome', () => {
    expect(Object.fromEntries(Object.entries(done).map(([version, d]) => [version, d.phase]))).toEqual({
      'v1.5.0': 'succeeded',
      'v1.6.0': 'rolled-back',
      'v1.7.0': 'rejected',
      'v1.8.0': 'failed',
    });
  });

  it('/deploy status: service, version, strategy, step, weights, bake time left, gate readings, thread link', async () => {
    const since = h.sandbox.slack.responses.length;
    const ack = await h.outsider.command('/deploy', 'status');
    expect(ack.status).toBe(200);
    const text = await responseTo(h, h.outsider, since);
    const bake = active.stepIndex + 1;
    expect(text).toContain('*Active deployments* (1)');
    expect(text).toContain('*acme-api* `v1.9.0` (blue-green) by <@U0DEV1>');
    // v1.5.0 left green live, so v1.9.0 went to blue.
    expect([active.liveColor, active.newColor]).toEqual(['green', 'blue']);
    expect(text).toMatch(/▰▱▱ 10% on blue · baking [0-9]s left · p99 350ms · errors 0\.1%/);
    expect(text).toContain(`step ${bake}/${active.steps.length}: bake at 10% for 2s`);
    expect(text).toContain('weights green 90% / blue 10%');
    expect(text).toMatch(/gates pass \d+s ago/);
    // The link is the one Slack's chat.getPermalink gave, with the workspace's own address.
    const permalink = `https://sandbox.slack.com/archives/${active.channel}/p${(active.announcementTs as string).replace('.', '')}`;
    expect(text).toContain(`<${permalink}|thread>`);
    expect(text).not.toContain('v1.8.0');

    const one = h.sandbox.slack.responses.length;
    await h.outsider.command('/deploy', 'status acme-api');
    expect(await responseTo(h, h.outsider, one)).toContain('`v1.9.0`');
  });

  it('/deploy history: version, requester, approver, outcome, duration and the reason, newest first', async () => {
    const since = h.sandbox.slack.responses.length;
    await h.outsider.command('/deploy', 'history acme-api 10');
    const lines = (await responseTo(h, h.outsider, since)).split('\n');
    expect(lines[0]).toBe('*Last 5 deployments of acme-api*');
    expect(lines[1]).toMatch(/^• `v1\.9\.0` by <@U0DEV1>, approved by <@U0RM1>: ▶ running in \d+s/);
    expect(lines[2]).toMatch(
      /^• `v1\.8\.0` by <@U0DEV1>, approved by <@U0RM1>: ❌ failed in \d+s \(.*ImagePullBackOff.*\)/,
    );
    expect(lines[3]).toMatch(/^• `v1\.7\.0` by <@U0DEV1>: 🚫 rejected in \d+s \(not during the sale\)/);
    expect(lines[4]).toMatch(
      /^• `v1\.6\.0` by <@U0DEV1>, approved by <@U0RM1>: ⚠️ rolled back in \d+s \(gate breach at 10%: p99\)/,
    );
    expect(lines[5]).toMatch(/^• `v1\.5\.0` by <@U0DEV1>, approved by <@U0RM1>: ✅ succeeded in \d+s/);
    const durationOf = (d: Deployment) => formatDuration((d.finishedAt as number) - (d.approvedAt as number));
    expect(lines[5]).toContain(`succeeded in ${durationOf(done['v1.5.0'] as Deployment)}`);

    const two = h.sandbox.slack.responses.length;
    await h.outsider.command('/deploy', 'history acme-api 2');
    expect((await responseTo(h, h.outsider, two)).split('\n')).toHaveLength(3);
  });

  it('the Home tab: the active deployment with its progress, recent history and the DORA four from the records', async () => {
    const view = await h.outsider.openHome();
    expect(view.type).toBe('home');
    const text = homeText(view);
    expect(text).toContain('Active deployments (1)');
    expect(text).toMatch(
      /\*acme-api\* `v1\.9\.0` \(blue-green\) by <@U0DEV1>\n▰▱▱ 10% on blue · baking [0-9]s left · p99 350ms/,
    );
    expect(text).toContain('weights green 90% / blue 10%');
    for (const line of [
      '✅ succeeded *acme-api* `v1.5.0`',
      '⚠️ rolled back *acme-api* `v1.6.0`',
      '🚫 rejected *acme-api* `v1.7.0`',
      '❌ failed *acme-api* `v1.8.0`',
      '▶ running *acme-api* `v1.9.0`',
    ]) {
      expect(text).toContain(line);
    }

    // From the records themselves: v1.5.0 and v1.6.0 reached users; v1.6.0 was rolled back.
    const succeeded = done['v1.5.0'] as Deployment;
    const rolledBack = done['v1.6.0'] as Deployment;
    const failedGate = rolledBack.stepRecords.find((r) => r.outcome === 'failed');
    const lead = (succeeded.fullTrafficAt as number) - (succeeded.approvedAt as number);
    const restore = (rolledBack.finishedAt as number) - (failedGate?.endedAt as number);
    const dora = doraFieldsOf(view, 'acme-api');
    expect(dora).toContain('*Deployment frequency*\n2 in 30 days (0.5/week)');
    expect(dora).toContain(`*Lead time* (approval → 100%)\n${formatDuration(lead)}`);
    expect(dora).toContain('*Change failure rate*\n50% (1 rolled back)');
    expect(dora).toContain(`*Time to restore*\n${formatDuration(restore)}`);

    const [figures] = await doraFromRedis(h.app.ctx, clock.now());
    expect(figures).toEqual({
      service: 'acme-api',
      deployments: 2,
      perDay: 2 / 30,
      leadTimeMs: lead,
      changeFailureRate: 0.5,
      rolledBack: 1,
      timeToRestoreMs: restore,
    });
  });

  it('Refresh publishes the Home tab again', async () => {
    const view: SlackView = await h.requester.openHome();
    const before = h.sandbox.slack.callsTo('views.publish').filter((c) => c.args.user_id === h.requester.id).length;
    expect((await h.requester.pressOnHome(view, HOME_REFRESH_ACTION)).status).toBe(200);
    const again = await h.requester.homeAfter(before);
    expect(homeText(again)).toContain('Active deployments (1)');
  });
});
