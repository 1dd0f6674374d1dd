import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { Deployment } from '../../../src/domain/deployment.js';
import { EffectOutbox } from '../../../src/queue/effect-outbox.js';
import { CHANNELS, PAGERDUTY_SANDBOX } from '../../../sandbox/sandbox.js';
import type { SlackMessage } from '../../../sandbox/slack.js';
import { tickerBeside } from '../../support/acme-deployments.js';
import { REDIS_URL, startHarness, until, type Harness } from '../../support/harness.js';

const P99 = { name: 'p99 latency', query: 'p99:trace.http.request.duration{service:acme-api,env:prod}', max: 0.8 };
const gates = { gates: { intervalSeconds: 0.3, failureLimit: 0, inconclusiveLimit: 3, metrics: [P99] } };

const replies = (h: Harness, d: Deployment): SlackMessage[] =>
  h.sandbox.slack.thread(CHANNELS.deployments, d.announcementTs as string).filter((m) => m.ts !== d.announcementTs);
const hasButton = (message: SlackMessage | undefined, actionId: string): boolean =>
  JSON.stringify(message?.blocks ?? []).includes(`"${actionId}"`);

const waitForPhaseOf = (h: Harness, id: string, phases: Deployment['phase'][], timeoutMs = 20_000) =>
  until(
    async () => {
      const d = await h.app.store.get(id);
      return d && phases.includes(d.phase) ? d : undefined;
    },
    timeoutMs,
    `deployment ${id} in ${phases.join(' or ')}`,
  );

describe('PagerDuty pages', () => {
  let h: Harness;
  afterEach(async () => h.close());

  it('a pause on unreadable Datadog triggers a warning event, and Resume resolves it with the same key', async () => {
    h = await startHarness({ bakeSeconds: 1, service: gates, pagerduty: true });
    h.sandbox.datadog.faults.inject({ status: 500, times: Infinity, match: '/api/v1/query' });
    const started = await h.deployAndApprove('v1.5.0');
    const paused = await waitForPhaseOf(h, started.id, ['paused'], 15_000);
    const dedupKey = `switchyard-${started.id}-pause`;
    const trigger = await until(
      () => h.sandbox.pagerduty.events.find((e) => e.event_action === 'trigger'),
      10_000,
      'the trigger event',
    );
    expect(trigger).toMatchObject({
      routing_key: PAGERDUTY_SANDBOX.routingKey,
      dedup_key: dedupKey,
      payload: { severity: 'warning' },
    });
    expect(trigger.payload?.summary).toContain('acme-api v1.5.0 paused');
    // The responder opens the deployment's thread from the page: Slack's own permalink.
    const ts = (paused.announcementTs as string).replace('.', '');
    expect(trigger.links).toEqual([
      { href: `https://sandbox.slack.com/archives/${paused.channel}/p${ts}`, text: 'Deployment thread in Slack' },
    ]);
    expect(h.sandbox.pagerduty.openIncident(dedupKey, PAGERDUTY_SANDBOX.routingKey)).toBeDefined();

    const page = await until(
      () => replies(h, paused).find((m) => hasButton(m, 'resume_deployment')),
      3000,
      'the paused message',
    );
    h.sandbox.datadog.faults.clear();
    await h.releaseManager.press(page, 'resume_deployment');
    const resolve = await until(
      () => h.sandbox.pagerduty.events.find((e) => e.event_action === 'resolve'),
      10_000,
      'the resolve event',
    );
    expect(resolve.dedup_key).toBe(dedupKey);
    expect(h.sandbox.pagerduty.openIncident(dedupKey, PAGERDUTY_SANDBOX.routingKey)).toBeUndefined();
    const done = await waitForPhaseOf(h, started.id, ['succeeded', 'rolled-back', 'failed']);
    expect(done.phase).toBe('succeeded');
    // One trigger, one resolve: the ticks that ran again asked for the same keys.
    expect(h.sandbox.pagerduty.events.map((e) => [e.event_action, e.dedup_key])).toEqual([
      ['trigger', dedupKey],
      ['resolve', dedupKey],
    ]);
  });

  it('a job run again after a worker was killed asks for the pause’s page under the same key: one trigger', async () => {
    h = await startHarness({ bakeSeconds: 1, service: gates, pagerduty: true });
    h.sandbox.datadog.faults.inject({ status: 500, times: Infinity, match: '/api/v1/query' });
    const started = await h.deployAndApprove('v1.5.0');
    await waitForPhaseOf(h, started.id, ['paused'], 15_000);
    await until(() => h.sandbox.pagerduty.events.find((e) => e.event_action === 'trigger'), 10_000, 'the trigger');

    // What the job's next run after a kill does first: a tick that looks again before acting.
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const effects = new EffectOutbox(connection, connection, h.prefix);
    try {
      const ticker = tickerBeside(h, { effects, queue: h.app.ctx.queue });
      await ticker.tick(started.id, { reconcile: true });
      await ticker.tick(started.id, { reconcile: true });
      // Whatever those runs asked for has been made (or found made) by the worker's effect outbox.
      await until(
        async () => {
          const counts = await effects.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
          return Object.values(counts).every((n) => n === 0);
        },
        10_000,
        'the effect outbox to go quiet',
      );
    } finally {
      await effects.close();
      await connection.quit();
    }
    expect(h.sandbox.pagerduty.events.map((e) => [e.event_action, e.dedup_key])).toEqual([
      ['trigger', `switchyard-${started.id}-pause`],
    ]);
  });

  it('a rollback whose ALB call keeps failing triggers a critical event once, resolved when it rolls back', async () => {
    h = await startHarness({ bakeSeconds: 30, service: gates, pagerduty: true });
    h.sandbox.datadog.setMetric(/p99/, 0.2);
    const started = await h.deployAndApprove('v1.5.0');
    await until(
      async () => {
        const d = await h.app.store.get(started.id);
        return d?.steps[d.stepIndex]?.kind === 'bake' ? true : undefined;
      },
      15_000,
      'the 10% bake',
    );
    h.sandbox.elbv2.serverError(Infinity, 'ModifyListener');
    await h.requester.command('/rollback', 'acme-api bad build');
    const dedupKey = `switchyard-${started.id}-rollback-failed`;
    const trigger = await until(
      () => h.sandbox.pagerduty.events.find((e) => e.event_action === 'trigger'),
      20_000,
      'the critical trigger',
    );
    expect(trigger).toMatchObject({ dedup_key: dedupKey, payload: { severity: 'critical' } });
    expect((await h.app.store.get(started.id))?.phase).toBe('rolling-back');

    h.sandbox.elbv2.faults.clear();
    const done = await waitForPhaseOf(h, started.id, ['rolled-back', 'failed', 'succeeded'], 30_000);
    expect(done.phase).toBe('rolled-back');
    await until(
      () => h.sandbox.pagerduty.events.find((e) => e.event_action === 'resolve' && e.dedup_key === dedupKey),
      10_000,
      'the resolve',
    );
    expect(h.sandbox.pagerduty.events.filter((e) => e.event_action === 'trigger')).toHaveLength(1);
  });

  it('a breach after the rollback window triggers an error event, and Acknowledge in Slack resolves it', async () => {
    h = await startHarness({
      bakeSeconds: 1,
      service: { ...gates, monitorSeconds: 3, rollbackWindowSeconds: 0 },
      pagerduty: true,
    });
    h.sandbox.datadog.setMetric(/p99/, 0.2);
    const started = await h.deployAndApprove('v1.5.0');
    await until(
      async () => {
        const d = await h.app.store.get(started.id);
        return d?.steps[d.stepIndex]?.kind === 'monitor' ? true : undefined;
      },
      20_000,
      'the monitoring step',
    );
    h.sandbox.datadog.setMetric(/p99/, 1.7);
    const alert = await until(
      () => replies(h, started).find((m) => hasButton(m, 'acknowledge_alert')),
      5000,
      'the on-call alert',
    );
    const dedupKey = `switchyard-${started.id}-breach`;
    const trigger = await until(
      () => h.sandbox.pagerduty.events.find((e) => e.event_action === 'trigger'),
      10_000,
      'the trigger',
    );
    expect(trigger).toMatchObject({ dedup_key: dedupKey, payload: { severity: 'error' } });
    await h.releaseManager.press(alert, 'acknowledge_alert');
    const resolve = await until(
      () => h.sandbox.pagerduty.events.find((e) => e.event_action === 'resolve'),
      10_000,
      'the resolve',
    );
    expect(resolve.dedup_key).toBe(dedupKey);
    expect(h.sandbox.pagerduty.events.filter((e) => e.event_action === 'trigger')).toHaveLength(1);
  });

  describe('an open high-urgency incident on the service’s PagerDuty service', () => {
    const service = { gates: { metrics: [] }, pagerduty: { serviceId: 'PABC123' } };
    const openIncident = (harness: Harness) =>
      harness.sandbox.pagerduty.addIncident({
        serviceId: 'PABC123',
        title: 'Checkout 500s in eu-west',
        urgency: 'high',
      });

    it('/deploy refuses before the modal, naming the incident, and nothing is created', async () => {
      h = await startHarness({ bakeSeconds: 0, service, pagerduty: true });
      const incident = openIncident(h);
      await h.requester.command('/deploy', 'acme-api v1.5.0');
      const refusal = await until(() => h.sandbox.slack.responses.at(-1), 5000, 'the refusal');
      const text = JSON.stringify(refusal.body);
      expect(text).toContain('Checkout 500s in eu-west');
      expect(text).toContain(`https://sandbox.pagerduty.com/incidents/${incident.id}`);
      expect(h.sandbox.slack.views).toHaveLength(0);
      expect(await h.app.store.recent(1)).toEqual([]);
    });

    it('preflight refuses again when the incident opened after the modal, before anything changes', async () => {
      h = await startHarness({ bakeSeconds: 0, service, pagerduty: true });
      const { view } = await h.requester.requestDeploy('acme-api v1.5.0');
      await h.requester.submitChecklist(view);
      const announcement = await h.announcement();
      const incident = openIncident(h);
      // A low-urgency one and one on another service do not count.
      h.sandbox.pagerduty.addIncident({ serviceId: 'PABC123', title: 'disk 80%', urgency: 'low' });
      h.sandbox.pagerduty.addIncident({ serviceId: 'POTHER1', title: 'other team', urgency: 'high' });
      await h.releaseManager.press(announcement, 'approve_deployment');
      const done = await h.waitForPhase(['failed', 'succeeded', 'rolled-back']);
      expect(done.phase).toBe('failed');
      expect(done.failureReason).toContain('Checkout 500s in eu-west');
      expect(done.failureReason).toContain(`https://sandbox.pagerduty.com/incidents/${incident.id}`);
      expect(done.failureReason).not.toContain('disk 80%');
      expect(h.sandbox.elbv2.changes).toHaveLength(0);
      expect(h.sandbox.kubernetes.patches).toHaveLength(0);
      const read = [...h.sandbox.pagerduty.requests].reverse().find((r) => r.path === '/incidents');
      expect(read?.query.getAll('service_ids[]')).toEqual(['PABC123']);
    });

    it('a hotfix proceeds and says so in the thread', async () => {
      h = await startHarness({ bakeSeconds: 0, service, pagerduty: true });
      openIncident(h);
      const { view } = await h.requester.requestDeploy('acme-api v1.5.0 hotfix');
      const submitted = await h.requester.submitChecklist(view, { justification: 'the fix for the incident' });
      expect(submitted.status).toBe(200);
      const announcement = await h.announcement();
      await h.releaseManager.press(announcement, 'approve_deployment');
      const done = await h.waitForPhase(['succeeded', 'rolled-back', 'failed'], 30_000);
      expect(done.phase).toBe('succeeded');
      const said = replies(h, done).find((m) => m.text.includes('HOTFIX proceeding although PagerDuty'));
      expect(said?.text).toContain('Checkout 500s in eu-west');
    });
  });
});
