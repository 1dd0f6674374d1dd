import { afterEach, describe, expect, it } from 'vitest';
import type { RunningSwitchyard } from '../../../src/app/bootstrap.js';
import type { Deployment } from '../../../src/domain/deployment.js';
import { EffectOutbox } from '../../../src/queue/effect-outbox.js';
import { inputValue } from '../../../sandbox/slack-requests.js';
import { announcementOf, recordOf, tickerBeside } from '../../support/acme-deployments.js';
import { startHarness, until, type Harness } from '../../support/harness.js';
import { jobState, startReplacementWorker } from '../../support/resilience/workers.js';

/** The worker "dies" here: after the ending write handed the lock over, before it woke the next in line. */
class KilledBeforeWake extends Error {}

/**
 * The hand-over from an ending deployment to the first approved one queued behind it is one
 * Redis script; waking the next one's job comes after. A worker that dies between the two must
 * not leave the next deployment waiting for its next periodic look (a minute away): the ending
 * deployment's job, run again by another worker, wakes the line.
 */
describe('the queue hand-over with the worker killed between the write and the wake-up', () => {
  let h: Harness;
  const workers: RunningSwitchyard[] = [];
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.close()));
    workers.length = 0;
    await h.close();
  });

  const request = async (version: string): Promise<Deployment> => {
    const { view } = await h.requester.requestDeploy(`acme-api ${version}`);
    expect((await h.requester.submitChecklist(view)).body).toBe('');
    // The outbox of a worker started in this test posts it: it may still be starting.
    await announcementOf(h, version, 10_000);
    return recordOf(h, version);
  };
  const phaseOf = async (id: string): Promise<Deployment['phase'] | undefined> => (await h.app.store.get(id))?.phase;

  it('the next approved deployment starts within seconds once another worker runs the ending job again', async () => {
    // The bot alone: workers come and go in this test.
    h = await startHarness({ bakeSeconds: 1, roles: { bot: true, worker: false } });
    const setupWorker = await startReplacementWorker(h, {
      env: { WORKER_LOCK_MS: '3000', WORKER_STALLED_INTERVAL_MS: '1000' },
    });
    workers.push(setupWorker);

    const ending = await request('v1.5.0');
    expect(ending.phase).toBe('awaiting-approval');
    const next = await request('v1.6.0');
    expect(next.phase).toBe('queued');
    await h.releaseManager.press(await announcementOf(h, 'v1.6.0'), 'approve_deployment');
    // Approved while queued: it now waits for its turn, its job delayed until the periodic look.
    await until(
      async () => {
        const d = await h.app.store.get(next.id);
        return d?.approvedAt !== undefined && (await jobState(h, next.id)) === 'delayed' ? true : undefined;
      },
      10_000,
      'v1.6.0 approved and waiting',
    );
    const nextJob = await h.app.queue.queue.getJob(next.id);
    const periodicLook = (nextJob?.timestamp ?? 0) + (nextJob?.delay ?? 0);
    expect(periodicLook - Date.now()).toBeGreaterThan(30_000);

    // No worker from here on; the rejection is recorded and v1.5.0's job waits for one.
    await setupWorker.close();
    workers.length = 0;
    const viewsBefore = h.sandbox.slack.views.length;
    await h.releaseManager.press(await announcementOf(h, 'v1.5.0'), 'reject_deployment');
    const reasonModal = await h.releaseManager.latestView('reject_reason', viewsBefore);
    const submitted = await h.releaseManager.submitView(reasonModal, {
      reason: { value: inputValue.plainText('Wrong build') },
    });
    expect(submitted.body).toBe('');
    await until(() => h.app.store.intents(ending.id).then((i) => i.decision), 5000, 'the rejection');

    // A worker ticks v1.5.0: the rejection ends it, the write hands the lock to v1.6.0, and the
    // worker dies before it wakes v1.6.0's job.
    const dyingWorker = tickerBeside(h, {
      effects: new EffectOutbox(h.redis, h.redis, h.prefix),
      queue: {
        wake: () => {
          throw new KilledBeforeWake('killed');
        },
      },
    });
    await expect(dyingWorker.run(ending.id)).rejects.toBeInstanceOf(KilledBeforeWake);
    expect(await phaseOf(ending.id)).toBe('rejected');
    expect((await h.app.store.intents(next.id)).start).toBeDefined();
    expect(await phaseOf(next.id)).toBe('queued');
    expect(await jobState(h, next.id)).toBe('delayed');

    // Another worker takes v1.5.0's job up again: v1.6.0 starts long before its periodic look.
    const restartedAt = Date.now();
    workers.push(await startReplacementWorker(h));
    await until(async () => ((await phaseOf(next.id)) === 'running' ? true : undefined), 10_000, 'v1.6.0 to start');
    expect(Date.now() - restartedAt).toBeLessThan(periodicLook - restartedAt);
    const started = await until(
      async () => {
        const d = await h.app.store.get(next.id);
        return d && d.phase === 'succeeded' ? d : undefined;
      },
      30_000,
      'v1.6.0 to finish',
    );
    expect((await h.app.store.events(started.id)).filter((e) => e.type === 'started-from-queue')).toHaveLength(1);
    expect(h.sandbox.kubernetes.imageOf('prod', 'acme-api-green', 'api')).toMatch(/:v1\.6\.0$/);
  }, 90_000);
});
