import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Deployment } from '../../../src/domain/deployment.js';
import { CHANNELS, PEOPLE, SANDBOX_IMAGE } from '../../../sandbox/sandbox.js';
import type { SlackMessage } from '../../../sandbox/slack.js';
import type { SlackRequestResult } from '../../../sandbox/slack-requests.js';
import type { SlackUser } from '../../../sandbox/slack-user.js';
import { startHarness, until, type Harness } from '../../support/harness.js';

const P99 = { name: 'p99 latency', query: 'p99:trace.http.request.duration{service:acme-api,env:prod}', max: 0.8 };
const P95_VS_BASELINE = {
  name: 'p95 vs baseline',
  query: 'p95:trace.http.request.duration{service:acme-api,color:{color}}',
  maxOverBaseline: { ratio: 1.1 },
};

const gates = (metrics: unknown[]) => ({
  gates: { intervalSeconds: 0.3, failureLimit: 0, inconclusiveLimit: 3, metrics },
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The green weight after each ELB change, in order. */
const green = (h: Harness) => h.sandbox.elbv2.changes.map((c) => c.weights[h.sandbox.targetGroups.green]);

/** Replies in the deployment's thread (the announcement itself left out). */
const replies = (h: Harness, d: Deployment): SlackMessage[] =>
  h.sandbox.slack.thread(CHANNELS.deployments, d.announcementTs as string).filter((m) => m.ts !== d.announcementTs);

const rollbackReplies = (h: Harness, d: Deployment) =>
  replies(h, d).filter((m) => m.text.includes('Deployment Rolled Back'));

const hasButton = (message: SlackMessage | undefined, actionId: string): boolean =>
  JSON.stringify(message?.blocks ?? []).includes(`"${actionId}"`);

/** What a slash command's HTTP ack carries when the handler answers in it. */
const ackText = (result: SlackRequestResult): string => {
  expect(result.status).toBe(200);
  expect(result.json, `ack body: ${result.body}`).toBeTypeOf('object');
  const body = result.json as { response_type?: string; text?: string };
  expect(body.response_type).toBe('ephemeral');
  return body.text ?? '';
};

/** The first response_url post to `user` after the first `since` posts. */
const responseFor = async (h: Harness, user: SlackUser, since = 0): Promise<string> => {
  const post = await until(
    () => h.sandbox.slack.responses.slice(since).find((r) => r.user === user.id),
    5000,
    `a response to ${user.id}`,
  );
  return String(post.body.text ?? '');
};

const waitForStep = (
  h: Harness,
  id: string,
  match: (step: Deployment['steps'][number], d: Deployment) => boolean,
  what: string,
  timeoutMs = 15_000,
) =>
  until(
    async () => {
      const d = await h.app.store.get(id);
      const step = d?.steps[d.stepIndex];
      return d && d.phase === 'running' && step && match(step, d) ? d : undefined;
    },
    timeoutMs,
    what,
  );

const waitForBake = (h: Harness, id: string, weight: number) =>
  waitForStep(h, id, (step) => step.kind === 'bake' && step.weight === weight, `the ${weight}% bake`);

const waitForPhaseOf = (h: Harness, id: string, phases: Deployment['phase'][], timeoutMs = 20_000) =>
  until(
    async () => {
      const d = await h.app.store.get(id);
      return d && phases.includes(d.phase) ? d : undefined;
    },
    timeoutMs,
    `deployment ${id} in ${phases.join(' or ')}`,
  );

const latencies: string[] = [];

/**
 * Sends `/rollback` and returns the time from sending the signed request to the ELBv2 stand-in
 * recording the weight change that restored the live colour.
 */
async function timedRollback(h: Harness, user: SlackUser, text: string, label: string): Promise<number> {
  const changesBefore = h.sandbox.elbv2.changes.length;
  const sentAt = Date.now();
  const ack = await user.command('/rollback', text);
  expect(ack.status).toBe(200);
  const change = await until(() => h.sandbox.elbv2.changes[changesBefore], 10_000, 'the restoring ELB change');
  const latency = change.at - sentAt;
  console.log(`rollback latency: ${latency} ms (${label}; ack ${ack.ms} ms)`);
  latencies.push(`${label}: ${latency} ms`);
  return latency;
}

describe('/rollback and the rollback paths', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  describe('/rollback by a deployer during a bake', () => {
    it.each([
      { weight: 10, shifts: [10] },
      { weight: 50, shifts: [10, 50] },
    ])(
      'during the $weight% bake: blue 100 / green 0 in one ELB change, rollback template in the thread, version blocked',
      async ({ weight, shifts }) => {
        const bakeSeconds = 3;
        h = await startHarness({ bakeSeconds });
        const started = await h.deployAndApprove('v1.5.0');
        await waitForBake(h, started.id, weight);
        expect(green(h)).toEqual(shifts);

        const since = h.sandbox.slack.responses.length;
        const latency = await timedRollback(h, h.requester, 'acme-api bad deploy', `during the ${weight}% bake`);
        expect(latency).toBeLessThan(bakeSeconds * 1000);
        expect(await responseFor(h, h.requester, since)).toContain('Rolling back acme-api v1.5.0: bad deploy');

        const done = await waitForPhaseOf(h, started.id, ['rolled-back', 'succeeded', 'failed']);
        expect(done.phase).toBe('rolled-back');
        expect(done.rollbackBy).toBe(PEOPLE.requester);
        expect(done.rollbackReason).toBe('bad deploy');
        expect(h.sandbox.weights()).toEqual({ blue: 100, green: 0 });
        // The shifts, then exactly one change that put everything back on blue.
        expect(green(h)).toEqual([...shifts, 0]);
        expect(h.sandbox.elbv2.changes.at(-1)?.weights[h.sandbox.targetGroups.blue]).toBe(100);

        const [message, ...more] = await until(
          () => {
            const found = rollbackReplies(h as Harness, done);
            return found.length ? found : undefined;
          },
          3000,
          'the rollback message',
        );
        expect(more).toHaveLength(0);
        expect(message?.text).toContain('`v1.5.0` → `v1.4.1`');
        expect(message?.text).toContain('*Reason:* bad deploy (by <@U0DEV1>)');
        expect(message?.text).toContain('*Status:* System stable on `v1.4.1`');
        expect(message?.text).toContain('*Action Items:*');
        expect(message?.text).toContain('Root cause analysis');
        expect(message?.text).toContain('<!subteam^S0ONCALL>');
        expect(message?.text).toContain('blue 100% · green 0%');
        // Seed 000 step 3: the live colour's /healthz reports the previous version.
        expect(message?.text).toMatch(/Live \/healthz:\* ✓/);
        // Also posted to #deployments itself and to #incidents.
        await until(
          () =>
            h?.sandbox.slack
              .messages(CHANNELS.deployments)
              .some((m) => !m.thread_ts && m.text.includes('Deployment Rolled Back')),
          3000,
          'the rollback notice in #deployments',
        );
        await until(
          () => h?.sandbox.slack.messages(CHANNELS.incidents).some((m) => m.text.includes('Deployment Rolled Back')),
          3000,
          'the rollback notice in #incidents',
        );

        const events = await h.app.store.events(done.id);
        expect(events.filter((e) => e.type === 'rollback-requested')).toEqual([
          expect.objectContaining({ actor: PEOPLE.requester, detail: 'bad deploy' }),
        ]);
        expect(events.some((e) => e.type === 'rolled-back')).toBe(true);
        expect(await h.app.store.activeId('acme-api')).toBeUndefined();

        // Nothing shifts after the rollback: the bake it interrupted does not come back.
        await pause(1500);
        expect(green(h)).toEqual([...shifts, 0]);

        // The version is blocked.
        const before = h.sandbox.slack.responses.length;
        await h.requester.command('/deploy', 'acme-api v1.5.0');
        expect(await responseFor(h, h.requester, before)).toContain('was rolled back (bad deploy)');
      },
    );
  });

  it('during the rollout wait: rolled back with no ELB change at all, and the worker stops waiting for the rollout', async () => {
    h = await startHarness({ bakeSeconds: 1 });
    // The green rollout never finishes; the deployment sits in its rollout poll.
    h.sandbox.kubernetes.pauseRollouts(true);
    const started = await h.deployAndApprove('v1.5.0');
    await waitForStep(
      h,
      started.id,
      (step, d) => step.kind === 'deployIdle' && d.stepRecords[d.stepIndex]?.detail !== undefined,
      'the rollout wait',
    );
    expect(h.sandbox.kubernetes.imageOf('prod', 'acme-api-green', 'api')).toBe(`${SANDBOX_IMAGE}:v1.5.0`);

    const since = h.sandbox.slack.responses.length;
    const sentAt = Date.now();
    await h.requester.command('/rollback', 'acme-api wrong build');
    expect(await responseFor(h, h.requester, since)).toContain('Rolling back acme-api v1.5.0');
    const done = await waitForPhaseOf(h, started.id, ['rolled-back', 'succeeded', 'failed'], 10_000);
    const tookMs = Date.now() - sentAt;
    console.log(`rollback during the rollout wait: rolled-back ${tookMs} ms after /rollback`);
    latencies.push(`during the rollout wait (to rolled-back, no ELB change): ${tookMs} ms`);
    expect(done.phase).toBe('rolled-back');
    // Far below the rollout timeout (20 s): it did not wait for the rollout.
    expect(tookMs).toBeLessThan(5000);

    expect(h.sandbox.elbv2.changes).toHaveLength(0);
    expect(h.sandbox.weights()).toEqual({ blue: 100, green: 0 });
    const message = await until(() => rollbackReplies(h as Harness, done)[0], 3000, 'the rollback message');
    expect(message.text).toContain('`v1.5.0` → `v1.4.1`');
    expect(message.text).toContain('wrong build (by <@U0DEV1>)');

    // The worker no longer polls the stuck rollout, and the job is finished.
    const polls = () =>
      h?.sandbox.kubernetes.requests.filter((r) => r.method === 'GET' && r.path.includes('acme-api-green')).length ?? 0;
    const pollsAfter = polls();
    await pause(2500);
    expect(polls()).toBe(pollsAfter);
    const job = await h.app.queue.queue.getJob(started.id);
    expect(await job?.getState()).toBe('completed');
    expect(await h.app.store.activeId('acme-api')).toBeUndefined();
  });

  it('after completion: blue 100 / green 0 in one change, the record goes to rolled-back and the lock is released', async () => {
    h = await startHarness({ bakeSeconds: 1 });
    const started = await h.deployAndApprove('v1.5.0');
    const succeeded = await waitForPhaseOf(h, started.id, ['succeeded', 'failed', 'rolled-back']);
    expect(succeeded.phase).toBe('succeeded');
    expect(h.sandbox.weights()).toEqual({ blue: 0, green: 100 });
    expect(await h.app.store.activeId('acme-api')).toBeUndefined();

    const since = h.sandbox.slack.responses.length;
    await timedRollback(h, h.releaseManager, 'acme-api checkout errors', 'after completion');
    expect(await responseFor(h, h.releaseManager, since)).toContain(
      'Rolling back acme-api v1.5.0 to v1.4.1: checkout errors',
    );

    const done = await waitForPhaseOf(h, started.id, ['rolled-back']);
    expect(done.rollbackBy).toBe(PEOPLE.releaseManager);
    expect(h.sandbox.weights()).toEqual({ blue: 100, green: 0 });
    expect(green(h)).toEqual([10, 50, 100, 0]);
    const message = await until(() => rollbackReplies(h as Harness, done)[0], 3000, 'the rollback message');
    expect(message.text).toContain('`v1.5.0` → `v1.4.1`');
    expect(message.text).toContain('checkout errors (by <@U0RM1>)');
    expect(await h.app.store.activeId('acme-api')).toBeUndefined();

    // The lock is free: another version can be requested (the modal opens).
    const { view } = await h.requester.requestDeploy('acme-api v1.6.0');
    expect(JSON.stringify(view.blocks[0])).toContain('v1.6.0');
  });

  describe('two /rollback at once have one effect', () => {
    const expectOneEffect = async (
      harness: Harness,
      id: string,
      results: string[],
      shifts: number[],
    ): Promise<string> => {
      const done = await waitForPhaseOf(harness, id, ['rolled-back', 'succeeded', 'failed']);
      expect(done.phase).toBe('rolled-back');
      await pause(1500);
      expect(green(harness)).toEqual([...shifts, 0]);
      expect(harness.sandbox.weights()).toEqual({ blue: 100, green: 0 });
      expect(rollbackReplies(harness, done)).toHaveLength(1);
      expect(
        harness.sandbox.slack
          .messages(CHANNELS.deployments)
          .filter((m) => !m.thread_ts && m.text.includes('Deployment Rolled Back')),
      ).toHaveLength(1);
      const events = await harness.app.store.events(id);
      expect(events.filter((e) => e.type === 'rollback-requested')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'rolled-back')).toHaveLength(1);
      const won = results.filter((t) => t.includes('↩️ Rolling back'));
      const told = results.filter((t) => t.includes('already being rolled back'));
      expect(won, results.join(' | ')).toHaveLength(1);
      expect(told, results.join(' | ')).toHaveLength(1);
      return told[0] as string;
    };

    it('during a bake (a deployer and a release manager)', async () => {
      h = await startHarness({ bakeSeconds: 3 });
      const started = await h.deployAndApprove('v1.5.0');
      await waitForBake(h, started.id, 10);
      const since = h.sandbox.slack.responses.length;
      await Promise.all([
        h.requester.command('/rollback', 'acme-api first'),
        h.releaseManager.command('/rollback', 'acme-api second'),
      ]);
      const results = await Promise.all([responseFor(h, h.requester, since), responseFor(h, h.releaseManager, since)]);
      const told = await expectOneEffect(h, started.id, results, [10]);
      // The loser is told who asked first.
      expect(told).toContain(`<@${(await h.app.store.get(started.id))?.rollbackBy}>`);
    });

    it('after completion (a deployer and a release manager)', async () => {
      h = await startHarness({ bakeSeconds: 1 });
      const started = await h.deployAndApprove('v1.5.0');
      await waitForPhaseOf(h, started.id, ['succeeded']);
      const since = h.sandbox.slack.responses.length;
      await Promise.all([
        h.requester.command('/rollback', 'acme-api first'),
        h.releaseManager.command('/rollback', 'acme-api second'),
      ]);
      const results = await Promise.all([responseFor(h, h.requester, since), responseFor(h, h.releaseManager, since)]);
      await expectOneEffect(h, started.id, results, [10, 50, 100]);
    });
  });

  it('with nothing ever deployed says there is nothing to roll back; the outsider is refused', async () => {
    h = await startHarness({ bakeSeconds: 1 });
    const outsider = ackText(await h.outsider.command('/rollback', 'acme-api I want to'));
    expect(outsider).toContain('you may not roll back acme-api');

    await h.requester.command('/rollback', 'acme-api');
    expect(await responseFor(h, h.requester)).toContain('acme-api has no deployment to roll back');

    await pause(300);
    expect(h.sandbox.elbv2.changes).toHaveLength(0);
    expect(h.sandbox.slack.messages()).toHaveLength(0);
    expect(await h.app.store.recent(10)).toEqual([]);
  });

  it('refuses the outsider during an active deployment, which goes on untouched', async () => {
    h = await startHarness({ bakeSeconds: 1 });
    const started = await h.deployAndApprove('v1.5.0');
    await waitForBake(h, started.id, 10);
    const outsider = ackText(await h.outsider.command('/rollback', 'acme-api'));
    expect(outsider).toContain('you may not roll back acme-api');
    const done = await waitForPhaseOf(h, started.id, ['succeeded', 'rolled-back', 'failed']);
    expect(done.phase).toBe('succeeded');
    expect((await h.app.store.events(started.id)).some((e) => e.type === 'rollback-requested')).toBe(false);
  });

  describe('a gate relative to the live colour (maxOverBaseline ratio 1.10)', () => {
    it('passes when both colours report 0.5', async () => {
      h = await startHarness({ bakeSeconds: 1, service: gates([P95_VS_BASELINE]) });
      h.sandbox.datadog.setMetric(/color:green/, 0.5);
      h.sandbox.datadog.setMetric(/color:blue/, 0.5);
      const started = await h.deployAndApprove('v1.5.0');
      const done = await waitForPhaseOf(h, started.id, ['succeeded', 'rolled-back', 'failed']);
      expect(done.phase).toBe('succeeded');
      expect(green(h)).toEqual([10, 50, 100]);
      const runs = (await h.app.store.events(done.id)).filter((e) => e.type === 'gate-run');
      expect(runs.length).toBeGreaterThan(0);
      expect(runs.every((e) => e.detail === 'pass')).toBe(true);
      // Both colours were queried.
      const queries = h.sandbox.datadog.requests.map((r) => r.query.get('query') ?? '');
      expect(queries).toContain('p95:trace.http.request.duration{service:acme-api,color:green}');
      expect(queries).toContain('p95:trace.http.request.duration{service:acme-api,color:blue}');
    });

    it('breaches when green reports 0.9 while blue reports 0.5, and the rollback message shows both readings', async () => {
      h = await startHarness({ bakeSeconds: 1, service: gates([P95_VS_BASELINE]) });
      h.sandbox.datadog.setMetric(/color:green/, 0.9);
      h.sandbox.datadog.setMetric(/color:blue/, 0.5);
      const started = await h.deployAndApprove('v1.5.0');
      const done = await waitForPhaseOf(h, started.id, ['succeeded', 'rolled-back', 'failed']);
      expect(done.phase).toBe('rolled-back');
      expect(done.rollbackReason).toContain('p95 vs baseline');
      expect(green(h)).toEqual([10, 0]);
      expect(h.sandbox.weights()).toEqual({ blue: 100, green: 0 });
      const message = await until(() => rollbackReplies(h as Harness, done)[0], 3000, 'the rollback message');
      expect(message.text).toContain('p95 vs baseline: 0.9 vs baseline 0.5');
      expect(message.text).toContain('breach');
      expect(message.text).toContain('color:green}');
      expect(message.text).toContain('color:blue}');
    });
  });

  describe('after the rollback window (monitorSeconds 3, rollbackWindowSeconds 0)', () => {
    const start = async () => {
      const harness = await startHarness({
        bakeSeconds: 1,
        service: { ...gates([P99]), monitorSeconds: 3, rollbackWindowSeconds: 0 },
      });
      const started = await harness.deployAndApprove('v1.5.0');
      await waitForStep(harness, started.id, (step) => step.kind === 'monitor', 'the monitoring step');
      harness.sandbox.datadog.setMetric(/p99/, 1.7);
      const alert = await until(
        () => replies(harness, started).find((m) => hasButton(m, 'rollback_now')),
        5000,
        'the on-call alert',
      );
      return { harness, started, alert };
    };

    it('a breach pages on-call instead of rolling back; Roll back now (release manager) rolls back', async () => {
      const { harness, started, alert } = await start();
      h = harness;
      expect(alert.text).toContain('<!subteam^S0ONCALL>');
      expect(alert.text).toContain('after the automatic rollback window');
      expect(JSON.stringify(alert.blocks)).toContain('p99 latency: 1.7');
      expect(hasButton(alert, 'acknowledge_alert')).toBe(true);
      // No automatic rollback.
      await pause(800);
      expect(h.sandbox.weights()).toEqual({ blue: 0, green: 100 });
      expect(['running', 'succeeded']).toContain((await h.app.store.get(started.id))?.phase);

      const changesBefore = h.sandbox.elbv2.changes.length;
      const pressedAt = Date.now();
      await h.releaseManager.press(alert, 'rollback_now');
      const change = await until(() => h?.sandbox.elbv2.changes[changesBefore], 10_000, 'the restoring ELB change');
      console.log(`rollback latency: ${change.at - pressedAt} ms (Roll back now button)`);
      latencies.push(`Roll back now button: ${change.at - pressedAt} ms`);
      const done = await waitForPhaseOf(h, started.id, ['rolled-back']);
      expect(done.rollbackBy).toBe(PEOPLE.releaseManager);
      expect(h.sandbox.weights()).toEqual({ blue: 100, green: 0 });
      expect(green(h)).toEqual([10, 50, 100, 0]);
      const settled = await until(
        () =>
          h?.sandbox.slack
            .messages(CHANNELS.deployments)
            .find((m) => m.ts === alert.ts && !hasButton(m, 'rollback_now')),
        3000,
        'the alert without its buttons',
      );
      expect(JSON.stringify(settled.blocks)).toContain('pressed Roll back now');
      await until(() => h && rollbackReplies(h, done).length > 0, 5000, 'the rollback reply');
      expect(rollbackReplies(h, done)).toHaveLength(1);
    });

    it('Acknowledge records alert-acknowledged, replaces the buttons and rolls nothing back', async () => {
      const { harness, started, alert } = await start();
      h = harness;
      await h.releaseManager.press(alert, 'acknowledge_alert');
      const settled = await until(
        () =>
          h?.sandbox.slack
            .messages(CHANNELS.deployments)
            .find((m) => m.ts === alert.ts && !hasButton(m, 'acknowledge_alert')),
        3000,
        'the alert without its buttons',
      );
      expect(hasButton(settled, 'rollback_now')).toBe(false);
      expect(JSON.stringify(settled.blocks)).toContain('Acknowledged by <@U0RM1>');
      const events = await h.app.store.events(started.id);
      expect(events.filter((e) => e.type === 'alert-acknowledged')).toEqual([
        expect.objectContaining({ actor: PEOPLE.releaseManager }),
      ]);
      const done = await waitForPhaseOf(h, started.id, ['succeeded', 'rolled-back', 'failed']);
      expect(done.phase).toBe('succeeded');
      expect(h.sandbox.weights()).toEqual({ blue: 0, green: 100 });
      expect(green(h)).toEqual([10, 50, 100]);
    });
  });

  it('Resume: a deployment paused on Datadog 500s continues and succeeds once Datadog answers again', async () => {
    h = await startHarness({ bakeSeconds: 1, service: gates([P99]) });
    h.sandbox.datadog.faults.inject({
      status: 500,
      body: '{"errors":["Internal Server Error"]}',
      times: Infinity,
      match: '/api/v1/query',
    });
    const started = await h.deployAndApprove('v1.5.0');
    const paused = await waitForPhaseOf(h, started.id, ['paused'], 15_000);
    expect(green(h)).toEqual([10]);
    const page = await until(
      () => replies(h as Harness, paused).find((m) => hasButton(m, 'resume_deployment')),
      3000,
      'the paused message',
    );

    h.sandbox.datadog.faults.clear();
    await h.releaseManager.press(page, 'resume_deployment');
    const done = await waitForPhaseOf(h, started.id, ['succeeded', 'rolled-back', 'failed']);
    expect(done.phase).toBe('succeeded');
    expect(green(h)).toEqual([10, 50, 100]);
    expect(h.sandbox.weights()).toEqual({ blue: 0, green: 100 });
    const types = (await h.app.store.events(done.id)).map((e) => e.type);
    expect(types).toContain('resume-requested');
    expect(types).toContain('resumed');
    const settled = h.sandbox.slack.messages(CHANNELS.deployments).find((m) => m.ts === page.ts);
    expect(hasButton(settled, 'resume_deployment')).toBe(false);
    expect(JSON.stringify(settled?.blocks)).toContain('Resumed by <@U0RM1>');
  });

  it('Roll back now on the paused message rolls a paused deployment back', async () => {
    h = await startHarness({ bakeSeconds: 1, service: gates([P99]) });
    h.sandbox.datadog.faults.inject({
      status: 500,
      body: '{"errors":["Internal Server Error"]}',
      times: Infinity,
      match: '/api/v1/query',
    });
    const started = await h.deployAndApprove('v1.5.0');
    const paused = await waitForPhaseOf(h, started.id, ['paused'], 15_000);
    const page = await until(
      () => replies(h as Harness, paused).find((m) => hasButton(m, 'rollback_now')),
      3000,
      'the paused message',
    );
    await h.otherManager.press(page, 'rollback_now');
    const done = await waitForPhaseOf(h, started.id, ['rolled-back', 'succeeded', 'failed']);
    expect(done.phase).toBe('rolled-back');
    expect(done.rollbackBy).toBe(PEOPLE.otherManager);
    expect(green(h)).toEqual([10, 0]);
    expect(h.sandbox.weights()).toEqual({ blue: 100, green: 0 });
  });

  it('a throttled ELB call during the rollback is retried and traffic is still back on blue within 5 s', async () => {
    h = await startHarness({ bakeSeconds: 3 });
    const started = await h.deployAndApprove('v1.5.0');
    await waitForBake(h, started.id, 10);
    h.sandbox.elbv2.throttle(2, 'ModifyListener');
    const latency = await timedRollback(h, h.requester, 'acme-api bad deploy', 'ELB throttled twice');
    expect(latency).toBeLessThan(5000);
    const done = await waitForPhaseOf(h, started.id, ['rolled-back', 'succeeded', 'failed']);
    expect(done.phase).toBe('rolled-back');
    expect(green(h)).toEqual([10, 0]);
  });

  it('/deploy clear by a release manager lifts the block on a rolled-back version; a non-manager is refused', async () => {
    h = await startHarness({ bakeSeconds: 2 });
    const started = await h.deployAndApprove('v1.5.0');
    await waitForBake(h, started.id, 10);
    let since = h.sandbox.slack.responses.length;
    await h.requester.command('/rollback', 'acme-api bad deploy');
    // Its own answer comes by response_url, possibly late: it must not be read as the next command's.
    expect(await responseFor(h, h.requester, since)).toContain('Rolling back acme-api v1.5.0');
    await waitForPhaseOf(h, started.id, ['rolled-back']);

    // A second /rollback finds nothing left to roll back.
    since = h.sandbox.slack.responses.length;
    await h.requester.command('/rollback', 'acme-api again');
    expect(await responseFor(h, h.requester, since)).toContain('was already rolled back');

    const refusal = ackText(await h.requester.command('/deploy', 'clear acme-api v1.5.0 https://wiki/rca'));
    expect(refusal).toContain('only a release manager');
    since = h.sandbox.slack.responses.length;
    await h.requester.command('/deploy', 'acme-api v1.5.0');
    expect(await responseFor(h, h.requester, since)).toContain('was rolled back');

    since = h.sandbox.slack.responses.length;
    await h.releaseManager.command('/deploy', 'clear acme-api v1.5.0 https://wiki/rca');
    expect(await responseFor(h, h.releaseManager, since)).toContain('acme-api v1.5.0 may be deployed again');
    const cleared = (await h.app.store.events(started.id)).find((e) => e.type === 'cleared');
    expect(cleared).toMatchObject({ actor: PEOPLE.releaseManager, detail: 'https://wiki/rca' });

    const { view } = await h.requester.requestDeploy('acme-api v1.5.0');
    expect(JSON.stringify(view.blocks[0])).toContain('v1.5.0');
  });

  afterAll(() => {
    if (latencies.length) console.log(`rollback latencies:\n  ${latencies.join('\n  ')}`);
  });
});
