import { WebClient } from '@slack/web-api';
import { expect } from 'vitest';
import { firstShiftIndex, type Deployment } from '../../src/domain/deployment.js';
import { PEOPLE } from '../../sandbox/sandbox.js';
import type { SlackMessage } from '../../sandbox/slack.js';
import { pausedAlert, postWindowAlert } from '../../views/alerts.js';
import { until, type Harness } from './harness.js';

/** A deployment in a given state, with the Slack messages a user would act on. */
export interface Seeded {
  d?: Deployment;
  announcement?: SlackMessage;
  alert?: SlackMessage;
}

export type DeploymentSeeds = ReturnType<typeof deploymentSeeds>;

/**
 * Puts a harness that runs the bot alone into the states a Slack action needs: the deployment
 * is requested through Slack as a user would, then moved on in the store as the worker would
 * have moved it (the record holds the service's lock, so the fenced saves succeed), and the
 * worker's alerts are posted through the Web API.
 */
export function deploymentSeeds(h: Harness) {
  const messageNow = (ts: string) => h.sandbox.slack.messages().find((m) => m.ts === ts) as SlackMessage;

  /** /deploy and the checklist by the requester, up to the announcement and the queued job. */
  async function requested(): Promise<Seeded & { d: Deployment; announcement: SlackMessage }> {
    const requester = h.user(PEOPLE.requester);
    const { view } = await requester.requestDeploy('acme-api v1.2.3');
    expect((await requester.submitChecklist(view)).body).toBe('');
    const announcement = await h.announcement();
    const d = await until(
      async () => {
        const [latest] = await h.app.store.recent(1);
        return latest?.announcementTs && (await h.app.queue.queue.getJob(latest.id)) ? latest : undefined;
      },
      3000,
      'the announced deployment and its job',
    );
    return { d, announcement };
  }

  /** Approved and moved to `stepIndex`, every step before it done. */
  async function advanced(d: Deployment, stepIndex: number, patch: Partial<Deployment>): Promise<Deployment> {
    const now = Date.now();
    await h.app.store.decide(d.id, { kind: 'approve', by: PEOPLE.releaseManager, at: now });
    const next: Deployment = {
      ...d,
      phase: 'running',
      approver: PEOPLE.releaseManager,
      approvedAt: now,
      liveColor: 'blue',
      newColor: 'green',
      previousVersion: 'v1.4.1',
      stepIndex,
      stepRecords: d.steps.slice(0, stepIndex).map(() => ({ startedAt: now, endedAt: now, outcome: 'ok' as const })),
      ...patch,
    };
    expect(await h.app.store.save(next)).toBe(true);
    return next;
  }

  /** Posts an alert in the deployment's thread, as the worker does. */
  async function alerted(d: Deployment, alert: { text: string; blocks: unknown[] }): Promise<SlackMessage> {
    const client = new WebClient(h.sandbox.slack.token, { slackApiUrl: h.sandbox.slack.url });
    const posted = await client.chat.postMessage({
      channel: d.channel,
      thread_ts: d.announcementTs,
      text: alert.text,
      blocks: alert.blocks as never,
    });
    return messageNow(posted.ts as string);
  }

  return {
    requested,
    /** Baking at 10 % on green. */
    async running(): Promise<Seeded> {
      const { d } = await requested();
      return { d: await advanced(d, firstShiftIndex(d) + 1, { weights: { blue: 90, green: 10 } }) };
    },
    /** Monitoring at 100 %, with the alert a gate breach after the rollback window posts. */
    async monitoring(): Promise<Seeded> {
      const { d } = await requested();
      const next = await advanced(
        d,
        d.steps.findIndex((s) => s.kind === 'monitor'),
        { weights: { blue: 0, green: 100 } },
      );
      return {
        d: next,
        alert: await alerted(next, postWindowAlert(next, PEOPLE.onCall, ['• p99 latency: 1.7 (≤ 0.8) — breach'])),
      };
    },
    /** Paused at 10 % on unreadable gates, with the paused alert. */
    async paused(): Promise<Seeded> {
      const { d } = await requested();
      const next = await advanced(d, firstShiftIndex(d) + 1, {
        phase: 'paused',
        pausedAt: Date.now(),
        pauseReason: 'gates inconclusive 3 times in a row',
        weights: { blue: 90, green: 10 },
      });
      return { d: next, alert: await alerted(next, pausedAlert(next, PEOPLE.onCall, [])) };
    },
  };
}
