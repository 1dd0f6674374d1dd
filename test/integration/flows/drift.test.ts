import { afterEach, describe, expect, it } from 'vitest';
import type { Deployment } from '../../../src/domain/deployment.js';
import { CHANNELS, SANDBOX_IMAGE } from '../../../sandbox/sandbox.js';
import type { SlackMessage } from '../../../sandbox/slack.js';
import { startHarness, until, type Harness } from '../../support/harness.js';

/** The green weight after each ELB change, in order (hand changes included). */
const green = (h: Harness) => h.sandbox.elbv2.changes.map((c) => c.weights[h.sandbox.targetGroups.green]);

const replies = (h: Harness, d: Deployment): SlackMessage[] =>
  h.sandbox.slack.thread(CHANNELS.deployments, d.announcementTs as string).filter((m) => m.ts !== d.announcementTs);

const phaseOf = (h: Harness, id: string, phases: Deployment['phase'][], timeoutMs = 20_000) =>
  until(
    async () => {
      const d = await h.app.store.get(id);
      return d && phases.includes(d.phase) ? d : undefined;
    },
    timeoutMs,
    `deployment ${id} in ${phases.join(' or ')}`,
  );

const bakingAt = (h: Harness, id: string, weight: number) =>
  until(
    async () => {
      const d = await h.app.store.get(id);
      const step = d?.steps[d.stepIndex];
      return step?.kind === 'bake' && step.weight === weight ? d : undefined;
    },
    15_000,
    `the ${weight}% bake`,
  );

describe('reconcile before acting: the infrastructure, not the record, is the truth', () => {
  let h: Harness;
  afterEach(async () => h.close());

  it('a weight changed by hand mid-bake pauses the deployment and is reported, not overwritten; Resume puts the plan back', async () => {
    h = await startHarness({ bakeSeconds: 2 });
    const started = await h.deployAndApprove('v1.5.0');
    await bakingAt(h, started.id, 50);
    // Someone sends everything back to blue from the console, with the same ELBv2 API.
    const target = h.sandbox.catalog.services['acme-api']?.traffic;
    if (!target) throw new Error('acme-api has no traffic target');
    await h.sandbox.providers().traffic.setWeights(target, { blue: 100, green: 0 });

    const paused = await phaseOf(h, started.id, ['paused']);
    expect(paused.pauseReason).toContain(
      'the load balancer sends blue 100% / green 0% where Switchyard last set blue 50% / green 50%',
    );
    const page = await until(
      () => replies(h, paused).find((m) => m.text.includes('changed outside Switchyard')),
      5000,
      'the drift page',
    );
    expect(page.text).toContain('<!subteam^S0ONCALL>');
    expect(JSON.stringify(page.blocks)).toContain('Resume puts back what Switchyard last set');
    // Paused means hands off: two more gate intervals later the hand-set weights still stand.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(h.sandbox.weights()).toEqual({ blue: 100, green: 0 });
    expect((await h.app.store.events(started.id)).filter((e) => e.type === 'drift')).toHaveLength(1);

    await h.releaseManager.press(page, 'resume_deployment');
    const done = await phaseOf(h, started.id, ['succeeded', 'rolled-back', 'failed']);
    expect(done.phase).toBe('succeeded');
    expect(green(h)).toEqual([10, 50, 0, 50, 100]);
  });

  it('an image changed with kubectl after the rollout pauses the deployment naming both images', async () => {
    h = await startHarness({ bakeSeconds: 2 });
    const started = await h.deployAndApprove('v1.5.0');
    await bakingAt(h, started.id, 10);
    await h.sandbox
      .providers()
      .workload.setImage(
        { namespace: 'prod', deployment: 'acme-api-green', container: 'api' },
        `${SANDBOX_IMAGE}:hotpatch`,
      );

    const paused = await phaseOf(h, started.id, ['paused']);
    expect(paused.pauseReason).toBe(
      `changed outside Switchyard: the green Deployment runs ${SANDBOX_IMAGE}:hotpatch instead of ${SANDBOX_IMAGE}:v1.5.0`,
    );
    expect(green(h)).toEqual([10]);
    const page = await until(
      () => replies(h, paused).find((m) => m.text.includes('changed outside Switchyard')),
      5000,
      'the drift page',
    );
    await h.releaseManager.press(page, 'rollback_now');
    const done = await phaseOf(h, started.id, ['rolled-back', 'succeeded', 'failed']);
    expect(done.phase).toBe('rolled-back');
    expect(h.sandbox.weights()).toEqual({ blue: 100, green: 0 });
  });
});
