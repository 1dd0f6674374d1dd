import { afterEach, describe, expect, it } from 'vitest';
import { CHANNELS } from '../../../sandbox/sandbox.js';
import { startHarness, until, type Harness } from '../../support/harness.js';

const P99 = { name: 'p99 latency', query: 'p99:trace.http.request.duration{service:acme-api,env:prod}', max: 0.8 };
const ERRORS = { name: 'error rate', query: 'sum:trace.http.request.errors{service:acme-api}.as_rate()', max: 0.01 };

const gates = (extra: Record<string, unknown> = {}) => ({
  gates: {
    intervalSeconds: 0.3,
    failureLimit: 0,
    inconclusiveLimit: 3,
    metrics: [P99, ERRORS],
    monitors: { tags: ['service:acme-api'], priorities: [1, 2] },
    ...extra,
  },
});

const green = (h: Harness) => h.sandbox.elbv2.changes.map((c) => c.weights[h.sandbox.targetGroups.green]);

describe('Datadog gates', () => {
  let h: Harness;
  afterEach(async () => h.close());

  it('rolls back when p99 goes above its max during the 50% bake, naming the metric, value and threshold', async () => {
    h = await startHarness({ bakeSeconds: 3, service: gates() });
    const started = await h.deployAndApprove('v1.5.0');
    await until(
      async () => {
        const d = await h.app.store.get(started.id);
        const step = d?.steps[d.stepIndex];
        return step?.kind === 'bake' && step.weight === 50 ? true : undefined;
      },
      15_000,
      'the 50% bake',
    );
    h.sandbox.datadog.setMetric(/p99/, 1.7);
    const done = await h.waitForPhase(['rolled-back', 'succeeded', 'failed']);

    expect(done.phase).toBe('rolled-back');
    expect(h.sandbox.weights()).toEqual({ blue: 100, green: 0 });
    expect(green(h)).toEqual([10, 50, 0]);
    const rollback = await until(
      () =>
        h.sandbox.slack
          .thread(CHANNELS.deployments, done.announcementTs as string)
          .find((m) => m.text.includes('Deployment Rolled Back')),
      3000,
      'the rollback message',
    );
    expect(rollback.text).toContain('p99 latency: 1.7 (≤ 0.8) — breach');
    expect(rollback.text).toContain(P99.query);
    expect(rollback.text).toContain('<!subteam^S0ONCALL>');
    expect(rollback.text).toContain('v1.5.0` → `v1.4.1');
    await until(
      () => h.sandbox.slack.messages(CHANNELS.incidents).find((m) => m.text.includes('Deployment Rolled Back')),
      3000,
      'the rollback message in the incidents channel',
    );
    const events = await h.app.store.events(done.id);
    expect(events.some((e) => e.type === 'gate-run' && e.detail === 'breach')).toBe(true);

    // Blocked from redeploy until a release manager clears it.
    await h.requester.command('/deploy', 'acme-api v1.5.0');
    const refusal = await until(() => h.sandbox.slack.responses.at(-1), 3000, 'the refusal');
    expect(JSON.stringify(refusal.body)).toContain('was rolled back');
  });

  it('pauses and pages on-call when Datadog answers 500 inconclusiveLimit times, never shifting further', async () => {
    h = await startHarness({ bakeSeconds: 1, service: gates() });
    h.sandbox.datadog.faults.inject({
      status: 500,
      body: '{"errors":["Internal Server Error"]}',
      times: Infinity,
      match: '/api/v1/query',
    });
    const started = await h.deployAndApprove('v1.5.0');
    const paused = await until(
      async () => {
        const d = await h.app.store.get(started.id);
        return d?.phase === 'paused' ? d : undefined;
      },
      15_000,
      'the pause',
    );
    expect(green(h)).toEqual([10]);
    const page = await until(
      () =>
        h.sandbox.slack
          .thread(CHANNELS.deployments, paused.announcementTs as string)
          .find((m) => m.ts !== paused.announcementTs && m.text.includes('paused')),
      3000,
      'the page',
    );
    expect(page.text).toContain('<!subteam^S0ONCALL>');
    expect(JSON.stringify(page.blocks)).toContain('500');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(green(h)).toEqual([10]);
  });

  it('refuses to start while a SEV1 monitor fires, before anything changes', async () => {
    h = await startHarness({ bakeSeconds: 1, service: gates() });
    h.sandbox.datadog.addMonitor({
      name: 'acme-api 5xx burst',
      tags: ['service:acme-api', 'env:prod'],
      priority: 1,
      state: 'Alert',
    });
    const done = await h.deployAndApprove('v1.5.0');
    const failed = done.phase === 'failed' ? done : await h.waitForPhase(['failed', 'succeeded', 'rolled-back']);
    expect(failed.phase).toBe('failed');
    expect(failed.failureReason).toContain('acme-api 5xx burst');
    expect(h.sandbox.elbv2.changes).toHaveLength(0);
    expect(h.sandbox.kubernetes.patches).toHaveLength(0);
  });

  it('rolls back when the new version logs 7 errors during the 10% bake, with the query and the count in the thread', async () => {
    const query = 'service:acme-api status:error version:{version}';
    h = await startHarness({
      bakeSeconds: 30,
      service: gates({
        metrics: [],
        monitors: undefined,
        logs: [{ name: 'new errors', query, max: 0, windowSeconds: 120 }],
      }),
    });
    const started = await h.deployAndApprove('v1.5.0');
    await until(
      async () => {
        const d = await h.app.store.get(started.id);
        return d?.steps[d.stepIndex]?.kind === 'bake' ? true : undefined;
      },
      15_000,
      'the 10% bake',
    );
    h.sandbox.datadog.addLogs({ service: 'acme-api', status: 'error', version: 'v1.4.1' }, { count: 3 });
    h.sandbox.datadog.addLogs({ service: 'acme-api', status: 'error', version: 'v1.5.0' }, { count: 7 });
    const done = await h.waitForPhase(['rolled-back', 'succeeded', 'failed'], 40_000);

    expect(done.phase).toBe('rolled-back');
    expect(h.sandbox.weights()).toEqual({ blue: 100, green: 0 });
    expect(green(h)).toEqual([10, 0]);
    const rollback = await until(
      () =>
        h.sandbox.slack
          .thread(CHANNELS.deployments, done.announcementTs as string)
          .find((m) => m.text.includes('Deployment Rolled Back')),
      3000,
      'the rollback message',
    );
    expect(rollback.text).toContain('new errors: 7 (≤ 0 logs in 120s) — breach');
    expect(rollback.text).toContain('service:acme-api status:error version:v1.5.0');
  });

  it('rolls back when an SLO’s error budget is below minBudgetRemaining', async () => {
    const id = 'c0ffee0123456789';
    h = await startHarness({
      bakeSeconds: 30,
      service: gates({
        metrics: [],
        monitors: undefined,
        slos: [{ name: 'checkout SLO', id, minBudgetRemaining: 95 }],
      }),
    });
    h.sandbox.datadog.addSlo({ id, name: 'checkout', timeframe: '7d', target: 99.9, budgetRemaining: 99 });
    const started = await h.deployAndApprove('v1.5.0');
    await until(
      async () => {
        const d = await h.app.store.get(started.id);
        return d?.lastGateRun?.outcome === 'pass' ? true : undefined;
      },
      20_000,
      'a passing gate run while the budget holds',
    );
    h.sandbox.datadog.setSloBudget(id, 80.5);
    const done = await h.waitForPhase(['rolled-back', 'succeeded', 'failed'], 40_000);

    expect(done.phase).toBe('rolled-back');
    expect(h.sandbox.weights()).toEqual({ blue: 100, green: 0 });
    const rollback = await until(
      () =>
        h.sandbox.slack
          .thread(CHANNELS.deployments, done.announcementTs as string)
          .find((m) => m.text.includes('Deployment Rolled Back')),
      3000,
      'the rollback message',
    );
    expect(rollback.text).toContain('checkout SLO: 80.5 (≥ 95% error budget remaining) — breach');
    expect(rollback.text).toContain(`SLO checkout (${id}) over 7d`);
  });
});
