import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHANNELS, INITIAL_VERSION, PEOPLE, SANDBOX_IMAGE } from '../../../sandbox/sandbox.js';
import { startHarness, until, type Harness } from '../../support/harness.js';

describe('a blue-green deployment from /deploy to the success message', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ bakeSeconds: 1 });
  });
  afterEach(async () => h.close());

  it('walks preflight → deploy idle → health → smoke → 10/50/100 and ends with green 100 / blue 0', async () => {
    const { ack, view } = await h.requester.requestDeploy('acme-api v1.5.0');
    expect(ack.status).toBe(200);
    expect(view.title).toMatchObject({ text: 'Deploy to production' });
    expect(JSON.stringify(view.blocks[0])).toContain('acme-api');

    const submitted = await h.requester.submitChecklist(view, { summary: 'Fix: payments <!channel>' });
    expect(submitted.status).toBe(200);
    const announcement = await h.announcement();
    expect(announcement.text).toContain('v1.5.0');
    expect(JSON.stringify(announcement.blocks)).toContain('approve_deployment');
    // User text is escaped: no channel-wide mention.
    expect(JSON.stringify(announcement.blocks)).toContain('&lt;!channel&gt;');

    await h.releaseManager.press(announcement, 'approve_deployment');
    const done = await h.waitForPhase(['succeeded', 'failed', 'rolled-back'], 30_000);
    expect(done.phase).toBe('succeeded');
    expect(done.approver).toBe(PEOPLE.releaseManager);
    expect(done.previousVersion).toBe(INITIAL_VERSION);
    expect(done.liveColor).toBe('blue');
    expect(done.newColor).toBe('green');

    expect(h.sandbox.weights()).toEqual({ blue: 0, green: 100 });
    const greenWeights = h.sandbox.elbv2.changes.map((c) => c.weights[h.sandbox.targetGroups.green]);
    expect(greenWeights).toEqual([10, 50, 100]);
    expect(h.sandbox.kubernetes.imageOf('prod', 'acme-api-green', 'api')).toBe(`${SANDBOX_IMAGE}:v1.5.0`);
    expect(h.sandbox.kubernetes.imageOf('prod', 'acme-api-blue', 'api')).toBe(`${SANDBOX_IMAGE}:${INITIAL_VERSION}`);

    const thread = await until(
      () => {
        const replies = h.sandbox.slack.thread(CHANNELS.deployments, announcement.ts);
        return replies.some((m) => m.text.includes('Deployment Complete')) ? replies : undefined;
      },
      3000,
      'the success message',
    );
    const texts = thread.map((m) => m.text).join('\n');
    expect(texts).toContain('preflight');
    expect(texts).toContain('health check');
    expect(texts).toContain('smoke tests');
    expect(texts).toContain('shift traffic to 50%');
    expect(texts).toMatch(/Deployment Complete[\s\S]*v1\.5\.0[\s\S]*Successful/);
    // Every thread message once.
    expect(new Set(thread.map((m) => m.text)).size).toBe(thread.length);

    const events = await h.app.store.events(done.id);
    const types = events.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual(['requested', 'announced', 'approve-recorded', 'approved']);
    expect(types.filter((t) => t === 'step-succeeded')).toHaveLength(done.steps.length);
    expect(events.find((e) => e.type === 'requested')?.data?.checklist).toHaveLength(7);
    expect(done.checklist.every((a) => a.confirmedBy === PEOPLE.requester && a.confirmedAt > 0)).toBe(true);

    const final = h.sandbox.slack.messages(CHANNELS.deployments).find((m) => m.ts === announcement.ts);
    expect(JSON.stringify(final?.blocks)).toContain('Approved by <@U0RM1>');
    expect(JSON.stringify(final?.blocks)).not.toContain('approve_deployment');
    expect(await h.app.store.activeId('acme-api')).toBeUndefined();
  });

  it('a second /deploy while the service is busy opens the checklist saying it will queue behind the active deployment and its thread', async () => {
    const { view } = await h.requester.requestDeploy('acme-api v1.5.0');
    await h.requester.submitChecklist(view);
    const announcement = await h.announcement();
    const active = await h.only();
    await until(() => h.app.store.announcementLink(active.id), 5000, 'the permalink');
    const second = await h.requester.requestDeploy('acme-api v1.6.0');
    const note = JSON.stringify(second.view.blocks);
    expect(note).toContain('acme-api is busy: v1.5.0');
    expect(note).toContain('will queue behind it');
    expect(note).toContain(`p${announcement.ts.replace('.', '')}`);
  });
});
