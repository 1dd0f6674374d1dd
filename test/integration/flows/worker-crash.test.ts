import { afterEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { REDIS_URL, startHarness, until, type Harness } from '../../support/harness.js';
import { killed, spawnWorker } from '../../support/worker-process.js';

describe('a worker killed with SIGKILL during a bake', () => {
  let h: Harness;
  const workers: ChildProcess[] = [];
  afterEach(async () => {
    await Promise.all(workers.map(killed));
    await h.close();
  });

  it('is replaced by another worker that finishes the deployment without applying a stage twice', async () => {
    h = await startHarness({ bakeSeconds: 3, roles: { bot: true, worker: false } });
    const env = {
      ...(await h.sandbox.env(REDIS_URL, h.prefix)),
      WORKER_LOCK_MS: '3000',
      WORKER_STALLED_INTERVAL_MS: '1000',
      PORT: '0',
    };
    const first = spawnWorker(env);
    workers.push(first);

    const started = await h.deployAndApprove('v1.5.0');
    const green = () => h.sandbox.elbv2.changes.map((c) => c.weights[h.sandbox.targetGroups.green]);
    // Kill it once 50% is applied and the 50% bake has begun.
    await until(
      async () => {
        const d = await h.app.store.get(started.id);
        const step = d?.steps[d.stepIndex];
        return step?.kind === 'bake' && step.weight === 50 ? true : undefined;
      },
      20_000,
      'the 50% bake',
    );
    await killed(first);
    expect(green()).toEqual([10, 50]);

    const second = spawnWorker(env);
    workers.push(second);
    // waitForPhase also waits for the second worker's Slack outbox to go quiet.
    const done = await h.waitForPhase(['succeeded', 'failed', 'rolled-back'], 30_000);

    expect(done.phase).toBe('succeeded');
    expect(green()).toEqual([10, 50, 100]);
    expect(h.sandbox.weights()).toEqual({ blue: 0, green: 100 });
    const events = await h.app.store.events(done.id);
    expect(events.filter((e) => e.type === 'step-succeeded')).toHaveLength(done.steps.length);
    const success = h.sandbox.slack.calls.filter(
      (c) => c.method === 'chat.postMessage' && String(c.args.text).includes('Deployment Complete'),
    );
    expect(success).toHaveLength(1);
  });
});
