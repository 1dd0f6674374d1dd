import { afterEach, describe, expect, it } from 'vitest';
import type { Deployment } from '../../../src/domain/deployment.js';
import { CHANNELS, PEOPLE } from '../../../sandbox/sandbox.js';
import type { SlackMessage } from '../../../sandbox/slack.js';
import { startHarness, until, type Harness } from '../../support/harness.js';

/**
 * On-call alerts ("Roll back now" / "Acknowledge" after the rollback window, "Resume" / "Roll
 * back now" on a pause) lose their buttons when their deployment ends: the worker edits each
 * alert that went out and nobody answered into a line saying how the deployment ended. An alert
 * someone answered keeps saying who pressed what. All through the Slack stand-in.
 */

const P99 = { name: 'p99 latency', query: 'p99:trace.http.request.duration{service:acme-api,env:prod}', max: 0.8 };
const gates = { gates: { intervalSeconds: 0.3, failureLimit: 0, inconclusiveLimit: 3, metrics: [P99] } };

const replies = (h: Harness, d: Deployment): SlackMessage[] =>
  h.sandbox.slack.thread(CHANNELS.deployments, d.announcementTs as string).filter((m) => m.ts !== d.announcementTs);
const hasButtons = (message: SlackMessage | undefined): boolean =>
  JSON.stringify(message?.blocks ?? []).includes('"actions"');
const current = (h: Harness, ts: string): SlackMessage | undefined =>
  h.sandbox.slack.messages(CHANNELS.deployments).find((m) => m.ts === ts);

const waitForPhaseOf = (h: Harness, id: string, phases: Deployment['phase'][], timeoutMs = 20_000) =>
  until(
    async () => {
      const d = await h.app.store.get(id);
      return d && phases.includes(d.phase) ? d : undefined;
    },
    timeoutMs,
    `phase ${phases.join(' or ')}`,
  );

describe('alerts of a deployment that ended', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  /** A breach during monitoring, after the rollback window: the alert, and the deployment monitoring on. */
  const postWindowAlert = async () => {
    h = await startHarness({ bakeSeconds: 1, service: { ...gates, monitorSeconds: 3, rollbackWindowSeconds: 0 } });
    const harness = h;
    const started = await harness.deployAndApprove('v1.5.0');
    await until(
      async () => {
        const d = await harness.app.store.get(started.id);
        return d?.steps[d.stepIndex]?.kind === 'monitor' ? true : undefined;
      },
      15_000,
      'the monitoring step',
    );
    harness.sandbox.datadog.setMetric(/p99/, 1.7);
    const alert = await until(
      () => replies(harness, started).find((m) => m.text.includes('after the automatic rollback window')),
      5000,
      'the on-call alert',
    );
    expect(hasButtons(alert)).toBe(true);
    // Back under the threshold: monitoring ends and the deployment succeeds.
    harness.sandbox.datadog.setMetric(/p99/, 0.35);
    return { harness, started, alert };
  };

  it('an unanswered post-window alert says the deployment succeeded instead of offering Roll back now', async () => {
    const { harness, started, alert } = await postWindowAlert();
    const done = await waitForPhaseOf(harness, started.id, ['succeeded', 'rolled-back', 'failed']);
    expect(done.phase).toBe('succeeded');
    const ended = await until(
      () => {
        const message = current(harness, alert.ts);
        return message && !hasButtons(message) ? message : undefined;
      },
      5000,
      'the alert without its buttons',
    );
    const shown = JSON.stringify(ended.blocks);
    expect(shown).toContain('after the automatic rollback window');
    expect(shown).toContain('acme-api `v1.5.0` succeeded: this alert no longer needs an answer.');
    expect(shown).not.toContain('rollback_now');
    expect(shown).not.toContain('acknowledge_alert');
  });

  it('an answered alert keeps who answered it after the deployment ends', async () => {
    const { harness, started, alert } = await postWindowAlert();
    await harness.releaseManager.press(alert, 'acknowledge_alert');
    const done = await waitForPhaseOf(harness, started.id, ['succeeded', 'rolled-back', 'failed']);
    expect(done.phase).toBe('succeeded');
    // Everything the worker had to say about the end has gone out before the alert is read.
    await until(() => replies(harness, done).find((m) => m.text.includes('Deployment Complete')), 5000, 'the success');
    await until(
      async () => {
        const counts = await harness.app.ctx.outbox.queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
        return Object.values(counts).every((n) => n === 0) || undefined;
      },
      5000,
      'the outbox to go quiet',
    );
    const answered = await until(
      () => {
        const message = current(harness, alert.ts);
        return message && !hasButtons(message) ? message : undefined;
      },
      5000,
      'the answered alert',
    );
    expect(JSON.stringify(answered.blocks)).toContain(`Acknowledged by <@${PEOPLE.releaseManager}>`);
    expect(JSON.stringify(answered.blocks)).not.toContain('no longer needs an answer');
  });

  it('a pause alert left unanswered says the deployment was rolled back when /rollback ends it', async () => {
    h = await startHarness({ bakeSeconds: 1, service: gates });
    const harness = h;
    harness.sandbox.datadog.faults.inject({
      status: 500,
      body: '{"errors":["Internal Server Error"]}',
      times: Infinity,
      match: '/api/v1/query',
    });
    const started = await harness.deployAndApprove('v1.5.0');
    const paused = await waitForPhaseOf(harness, started.id, ['paused'], 15_000);
    const alert = await until(
      () => replies(harness, paused).find((m) => JSON.stringify(m.blocks ?? []).includes('resume_deployment')),
      5000,
      'the pause alert',
    );
    await harness.releaseManager.command('/rollback', 'acme-api gates unreadable');
    const done = await waitForPhaseOf(harness, started.id, ['rolled-back', 'succeeded', 'failed']);
    expect(done.phase).toBe('rolled-back');
    const ended = await until(
      () => {
        const message = current(harness, alert.ts);
        return message && !hasButtons(message) ? message : undefined;
      },
      5000,
      'the pause alert without its buttons',
    );
    const shown = JSON.stringify(ended.blocks);
    expect(shown).toContain('was paused');
    expect(shown).toContain('acme-api `v1.5.0` was rolled back to `v1.4.1`');
    expect(shown).not.toContain('resume_deployment');
  });
});
