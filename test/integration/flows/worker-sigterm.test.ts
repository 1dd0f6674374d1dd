import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { REDIS_URL, startHarness, until, type Harness } from '../../support/harness.js';
import { killed, spawnWorker } from '../../support/worker-process.js';

/**
 * SIGTERM (a rollout, a node drain) lets a worker process finish the step it is running and save
 * it, and start no new one: the deployment is left where that step put it, for another worker.
 * The Kubernetes stand-in answers slowly, so the deployIdle step is mid-flight when the signal
 * comes; without the stop, the same job would go on to health, smoke and the first weight.
 */
describe('a worker process sent SIGTERM during a step', () => {
  let h: Harness;
  const workers: ChildProcess[] = [];
  afterEach(async () => {
    await Promise.all(workers.map(killed));
    await h.close();
  });

  it('finishes and saves that step, starts no other, exits 0; another worker finishes the deployment', async () => {
    h = await startHarness({ bakeSeconds: 1, roles: { bot: true, worker: false } });
    const env = { ...(await h.sandbox.env(REDIS_URL, h.prefix)), PORT: '0' };
    const first = spawnWorker(env);
    workers.push(first);
    h.sandbox.kubernetes.faults.latencyMs = 1500;

    const started = await h.deployAndApprove('v1.5.0');
    const deployIdle = started.steps.findIndex((step) => step.kind === 'deployIdle');
    await until(
      async () => {
        const d = await h.app.store.get(started.id);
        return d && d.stepIndex === deployIdle && d.stepRecords[deployIdle]?.startedAt !== undefined ? true : undefined;
      },
      20_000,
      'the deployIdle step to start',
    );
    const exited = new Promise<number | null>((resolve) => first.once('exit', (code) => resolve(code)));
    first.kill('SIGTERM');
    expect(await exited, first.output.join('').slice(-2000)).toBe(0);

    const left = await h.app.store.get(started.id);
    expect(left?.phase).toBe('running');
    // The step running at SIGTERM is saved (done, or still under way); nothing after it started.
    expect([deployIdle, deployIdle + 1]).toContain(left?.stepIndex);
    expect(left?.stepRecords.slice(deployIdle + 1).every((record) => record?.startedAt === undefined)).toBe(true);
    expect(h.sandbox.elbv2.changes).toEqual([]);

    h.sandbox.kubernetes.faults.latencyMs = 0;
    const second = spawnWorker(env);
    workers.push(second);
    const done = await h.waitForPhase(['succeeded', 'failed', 'rolled-back'], 40_000);
    expect(done.phase).toBe('succeeded');
    expect(h.sandbox.weights()).toEqual({ blue: 0, green: 100 });
    const events = await h.app.store.events(done.id);
    expect(events.filter((e) => e.type === 'step-succeeded')).toHaveLength(done.steps.length);
  }, 90_000);
});
