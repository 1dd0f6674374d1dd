import { afterEach, describe, expect, it } from 'vitest';
import type { Deployment } from '../../../src/domain/deployment.js';
import { inputValue } from '../../../sandbox/slack-requests.js';
import { announcementOf, recordOf } from '../../support/acme-deployments.js';
import { startHarness, until, type Harness } from '../../support/harness.js';

/**
 * The deploy queue through signed Slack requests: a second /deploy of a busy service queues
 * instead of being refused, is approved while it waits, starts when the active one ends, moves
 * up when one ahead is cancelled, and is cancelled itself when its version is rolled back.
 */
describe('the deploy queue', () => {
  let h: Harness;
  afterEach(async () => h.close());

  const phaseOf = (version: string, phases: Deployment['phase'][], timeoutMs = 30_000): Promise<Deployment> =>
    until(
      async () => {
        const d = (await h.app.store.recent(20)).find((r) => r.version === version);
        return d && phases.includes(d.phase) ? d : undefined;
      },
      timeoutMs,
      `${version} to be ${phases.join(' or ')}`,
    );
  const shows = (version: string, text: string) =>
    until(
      async () => JSON.stringify((await announcementOf(h, version)).blocks).includes(text) || undefined,
      10_000,
      `the announcement of ${version} to show "${text}"`,
    );
  const queue = async (version: string): Promise<Deployment> => {
    const { view } = await h.requester.requestDeploy(`acme-api ${version}`);
    expect((await h.requester.submitChecklist(view)).body).toBe('');
    await announcementOf(h, version);
    return recordOf(h, version);
  };
  const cancel = async (user: ReturnType<Harness['user']>, text: string): Promise<string> => {
    const result = await user.command('/deploy', `cancel ${text}`);
    return String((result.json as { text?: string }).text ?? '');
  };

  it('queues behind the active deployment, moves up when one ahead is cancelled, and starts when the active one ends', async () => {
    h = await startHarness({ bakeSeconds: 3 });
    const active = await h.deployAndApprove('v1.5.0');
    expect(active.phase).toBe('running');

    const second = await queue('v1.6.0');
    const third = await queue('v1.7.0');
    expect([second.phase, third.phase]).toEqual(['queued', 'queued']);
    await shows('v1.6.0', 'queued (position 1)');
    await shows('v1.7.0', 'queued (position 2)');
    await until(async () => ((await recordOf(h, 'v1.7.0')).queuePosition === 2 ? true : undefined), 5000, 'position 2');
    const since = h.sandbox.slack.responses.length;
    await h.requester.command('/deploy', 'status');
    const status = await until(() => h.sandbox.slack.responses[since], 5000, 'the status');
    expect(String(status.body.text)).toContain('(1, and 2 queued or scheduled)');
    expect(String(status.body.text)).toMatch(/`v1\.7\.0`.*queued \(position 2\)/);

    // Someone else may not cancel it; its requester may, and the one behind moves up.
    expect(await cancel(h.outsider, 'acme-api v1.6.0')).toContain('you may not cancel acme-api v1.6.0');
    expect(await cancel(h.requester, 'acme-api v1.6.0')).toContain('Cancelling acme-api v1.6.0');
    await shows('v1.6.0', 'cancelled by <@U0DEV1>');
    await shows('v1.7.0', 'queued (position 1)');
    // A running deployment is ended with /rollback, never with cancel.
    expect(await cancel(h.requester, 'acme-api v1.5.0')).toContain('end it with `/rollback acme-api`');

    // Approved while queued: it waits, then starts when the active one ends.
    await h.releaseManager.press(await announcementOf(h, 'v1.7.0'), 'approve_deployment');
    await until(
      async () => ((await recordOf(h, 'v1.7.0')).approvedAt !== undefined ? true : undefined),
      5000,
      'v1.7.0 approved while queued',
    );
    expect((await recordOf(h, 'v1.7.0')).phase).toBe('queued');
    const first = await phaseOf('v1.5.0', ['succeeded']);
    const next = await phaseOf('v1.7.0', ['succeeded'], 60_000);
    expect(next.stepRecords[0]?.startedAt).toBeGreaterThanOrEqual(first.finishedAt ?? Infinity);
    expect((await h.app.store.events(next.id)).map((e) => e.type)).toContain('started-from-queue');

    const cancelled = await recordOf(h, 'v1.6.0');
    expect(cancelled.phase).toBe('cancelled');
    expect(cancelled.stepRecords.every((r) => r?.startedAt === undefined)).toBe(true);
    expect(await h.app.store.queued('acme-api')).toEqual([]);
  }, 120_000);

  it('one still awaiting approval keeps its place when the active one ends: a later request queues behind it, and the first approved starts', async () => {
    h = await startHarness({ bakeSeconds: 1 });
    const { view: firstView } = await h.requester.requestDeploy('acme-api v1.5.0');
    expect((await h.requester.submitChecklist(firstView)).body).toBe('');
    const ending = await recordOf(h, 'v1.5.0');
    expect(ending.phase).toBe('awaiting-approval');
    const waiting = await queue('v1.6.0');

    // The active one is rejected; the queued one has no approval yet, so nothing starts.
    const viewsBefore = h.sandbox.slack.views.length;
    await h.releaseManager.press(await announcementOf(h, 'v1.5.0'), 'reject_deployment');
    const reasonModal = await h.releaseManager.latestView('reject_reason', viewsBefore);
    await h.releaseManager.submitView(reasonModal, { reason: { value: inputValue.plainText('Wrong build') } });
    await phaseOf('v1.5.0', ['rejected']);
    expect(await h.app.store.active('acme-api')).toBeUndefined();

    // The service is free, yet a new request queues behind the one waiting for approval.
    const { view } = await h.requester.requestDeploy('acme-api v1.7.0');
    expect(JSON.stringify(view.blocks)).toContain('acme-api is free, but 1 deployment is already waiting for approval');
    expect((await h.requester.submitChecklist(view)).body).toBe('');
    await shows('v1.7.0', 'queued (position 2)');
    expect((await recordOf(h, 'v1.7.0')).phase).toBe('queued');

    // Approved first, the later one starts; the earlier one keeps its place and goes next once approved.
    await h.releaseManager.press(await announcementOf(h, 'v1.7.0'), 'approve_deployment');
    await phaseOf('v1.7.0', ['running', 'succeeded']);
    expect((await h.app.store.get(waiting.id))?.phase).toBe('queued');
    await h.releaseManager.press(await announcementOf(h, 'v1.6.0'), 'approve_deployment');
    const later = await phaseOf('v1.7.0', ['succeeded']);
    const next = await phaseOf('v1.6.0', ['succeeded'], 60_000);
    expect(next.stepRecords[0]?.startedAt).toBeGreaterThanOrEqual(later.finishedAt ?? Infinity);
  }, 120_000);

  it('a rollback cancels the queued deployment of the version it blocks, and only that one', async () => {
    h = await startHarness({ bakeSeconds: 5 });
    const rolledBack = await h.deployAndApprove('v1.5.0');
    const again = await queue('v1.5.0');
    const other = await queue('v1.8.0');
    await h.releaseManager.press(await announcementOf(h, 'v1.8.0'), 'approve_deployment');

    await h.requester.command('/rollback', 'acme-api error rate up');
    const cancelled = await until(
      async () => {
        const d = await h.app.store.get(again.id);
        return d?.phase === 'cancelled' ? d : undefined;
      },
      30_000,
      'the queued v1.5.0 to be cancelled',
    );
    expect(cancelled.cancelReason).toContain('v1.5.0 was rolled back');
    expect((await h.app.store.get(rolledBack.id))?.phase).toBe('rolled-back');
    const started = await until(
      async () => {
        const d = await h.app.store.get(other.id);
        return d && d.phase !== 'queued' ? d : undefined;
      },
      30_000,
      'v1.8.0 to start',
    );
    expect(started.phase).not.toBe('cancelled');
  }, 90_000);
});
