import { afterEach, describe, expect, it } from 'vitest';
import type { Deployment } from '../../../src/domain/deployment.js';
import { CHANNELS } from '../../../sandbox/sandbox.js';
import type { RecordedRequest } from '../../../sandbox/http-server.js';
import { announcementOf, recordOf } from '../../support/acme-deployments.js';
import { startHarness, until, type Harness } from '../../support/harness.js';

const SECOND = 1000;

/** `HH:MM:SS` in UTC (the sandbox catalog has no deploy window, so start times are read in UTC). */
const clockTime = (at: number): string => new Date(at).toISOString().slice(11, 19);

/** A start time on a whole second, at least `leadMs` from now. */
const startTimeIn = (leadMs: number): number => Math.ceil((Date.now() + leadMs) / SECOND) * SECOND;

/** Requests that change something: a GET, HEAD or LIST reads; ELBv2's Describe* actions read. */
const writes = (requests: RecordedRequest[]): RecordedRequest[] =>
  requests.filter((r) =>
    r.method === 'POST' && r.path === '/'
      ? !new URLSearchParams(r.body).get('Action')?.startsWith('Describe')
      : !['GET', 'HEAD'].includes(r.method),
  );

/**
 * `/deploy <service> <version> at <time>` through signed Slack requests: the deployment waits
 * as a delayed job without touching the cluster or the load balancer, announces itself in the
 * thread and the channel, starts on time, and expires rather than start late.
 */
describe('scheduled deployments', () => {
  let h: Harness;
  afterEach(async () => h.close());

  const schedule = async (version: string, startAt: number): Promise<Deployment> => {
    const { view } = await h.requester.requestDeploy(`acme-api ${version} at ${clockTime(startAt)}`);
    expect((await h.requester.submitChecklist(view)).body).toBe('');
    await announcementOf(h, version);
    return recordOf(h, version);
  };
  const approve = async (version: string): Promise<void> => {
    await h.releaseManager.press(await announcementOf(h, version), 'approve_deployment');
    await until(
      async () => ((await recordOf(h, version)).approvedAt !== undefined ? true : undefined),
      5000,
      `${version} to be approved`,
    );
  };
  const writesTo = () => [...writes(h.sandbox.kubernetes.requests), ...writes(h.sandbox.elbv2.requests)];

  it('waits as a delayed job touching nothing, gives the notice in the thread and the channel, and starts within a second of its time', async () => {
    h = await startHarness({ bakeSeconds: 1 });
    const startAt = startTimeIn(6 * SECOND);
    const scheduled = await schedule('v1.6.0', startAt);
    expect(scheduled.phase).toBe('queued');
    expect(scheduled.schedule?.startAt).toBe(startAt);
    const announcement = await announcementOf(h, 'v1.6.0');
    expect(JSON.stringify(announcement.blocks)).toContain('Starts at');

    await approve('v1.6.0');
    // Less than 30 minutes ahead: the notice goes out at approval, in the thread and in the channel.
    const notices = await until(
      () => {
        const found = h.sandbox.slack
          .messages(CHANNELS.deployments)
          .filter((m) => m.text.includes('Starting deployment'));
        return found.length >= 2 ? found : undefined;
      },
      5000,
      'the schedule notice in the thread and the channel',
    );
    expect(notices.filter((m) => m.thread_ts === announcement.ts)).toHaveLength(1);
    expect(notices.filter((m) => !m.thread_ts)).toHaveLength(1);
    expect(notices[0]?.text).toContain(`Starting deployment v1.6.0 at ${clockTime(startAt).slice(0, 5)}`);

    // Approved and waiting: its job is delayed until the start, and nothing was written.
    const job = await h.app.queue.queue.getJob(scheduled.id);
    expect(await job?.getState()).toBe('delayed');
    expect((job?.timestamp ?? 0) + (job?.delay ?? 0)).toBeGreaterThanOrEqual(startAt - 50);
    expect(Date.now()).toBeLessThan(startAt);
    expect(writesTo()).toEqual([]);

    const started = await until(
      async () => {
        const d = await h.app.store.get(scheduled.id);
        return d?.stepRecords[0]?.startedAt !== undefined ? d : undefined;
      },
      15_000,
      'the scheduled deployment to start',
    );
    const firstStep = started.stepRecords[0]?.startedAt ?? 0;
    expect(firstStep).toBeGreaterThanOrEqual(startAt);
    expect(firstStep - startAt).toBeLessThan(SECOND);
    expect((await h.waitForPhase(['succeeded'], 30_000)).id).toBe(scheduled.id);
    expect(h.sandbox.kubernetes.imageOf('prod', 'acme-api-green', 'api')).toMatch(/:v1\.6\.0$/);
    // The writes made from then on are seen, so the empty list above meant nothing was written.
    expect(writes(h.sandbox.kubernetes.requests).length).toBeGreaterThan(0);
    expect(writes(h.sandbox.elbv2.requests).length).toBeGreaterThan(0);
    expect(writesTo().every((r) => r.at >= startAt)).toBe(true);
  }, 60_000);

  it('expires instead of starting late when the service stays busy past its grace, and deploys nothing', async () => {
    h = await startHarness({ bakeSeconds: 6, catalog: { scheduleGraceSeconds: 2 } });
    const active = await h.deployAndApprove('v1.5.0');
    expect(active.phase).toBe('running');
    const startAt = startTimeIn(3 * SECOND);
    const scheduled = await schedule('v1.6.0', startAt);
    await approve('v1.6.0');

    const expired = await until(
      async () => {
        const d = await h.app.store.get(scheduled.id);
        return d?.phase === 'expired' ? d : undefined;
      },
      20_000,
      'the scheduled deployment to expire',
    );
    expect(expired.finishedAt ?? 0).toBeGreaterThan(startAt + 2 * SECOND);
    expect(expired.failureReason).toContain('could not start within 2s of its scheduled time');
    expect(expired.failureReason).toContain('acme-api was busy with v1.5.0');
    expect(expired.stepRecords.every((r) => r?.startedAt === undefined)).toBe(true);
    await until(
      () => h.sandbox.slack.messages(CHANNELS.deployments).find((m) => m.thread_ts && m.text.startsWith('⌛ Expired')),
      5000,
      'the expiry in the thread',
    );

    // The active one ends; the expired one is not handed the lock, and v1.6.0 never reaches the cluster.
    await until(
      async () => ((await h.app.store.get(active.id))?.phase === 'succeeded' ? true : undefined),
      60_000,
      'the active deployment to finish',
    );
    expect(await h.app.store.active('acme-api')).toBeUndefined();
    expect((await h.app.store.get(scheduled.id))?.phase).toBe('expired');
    expect(h.sandbox.kubernetes.requests.some((r) => r.body.includes('v1.6.0'))).toBe(false);
    expect(await h.app.store.queued('acme-api')).toEqual([]);
  }, 90_000);
});
