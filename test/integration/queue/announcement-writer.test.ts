import type { Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { MESSAGE_EVENT_TYPE } from '../../../src/providers/chat/slack.js';
import { CHANNELS } from '../../../sandbox/sandbox.js';
import type { SlackMessage } from '../../../sandbox/slack.js';
import { startHarness, until, type Harness } from '../../support/harness.js';

const isAnnouncementPost = (c: { method: string; ok: boolean; args: Record<string, unknown> }) =>
  c.method === 'chat.postMessage' &&
  c.ok &&
  !c.args.thread_ts &&
  String(c.args.text).includes('Production Deployment Scheduled');

const hasButton = (message: SlackMessage | undefined, actionId: string): boolean =>
  JSON.stringify(message?.blocks ?? []).includes(`"${actionId}"`);

describe('the announcement has one writer: the Slack outbox', () => {
  let h: Harness;
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await h.close();
  });

  it('is posted once, tagged with its key, and only edited by the outbox, from request to success', async () => {
    h = await startHarness({ bakeSeconds: 1 });
    const started = await h.deployAndApprove('v1.5.0');
    const done = await h.waitForPhase(['succeeded', 'failed', 'rolled-back'], 30_000);
    expect(done.phase).toBe('succeeded');

    const posts = h.sandbox.slack.calls.filter(isAnnouncementPost);
    expect(posts).toHaveLength(1);
    const announcement = await h.announcement();
    expect(done.announcementTs).toBe(announcement.ts);
    expect(announcement.metadata).toEqual({
      event_type: MESSAGE_EVENT_TYPE,
      event_payload: { deployment_id: started.id, key: 'announcement' },
    });
    // Every edit is of the announcement, and it ends showing the decision and the outcome.
    const edits = h.sandbox.slack.callsTo('chat.update');
    expect(edits.length).toBeGreaterThanOrEqual(1);
    expect(edits.every((c) => c.args.ts === announcement.ts)).toBe(true);
    const final = await until(
      () => {
        const now = h.sandbox.slack.messages(CHANNELS.deployments).find((m) => m.ts === announcement.ts);
        return now?.text.includes('✅ complete') ? now : undefined;
      },
      5000,
      'the announcement showing the outcome',
    );
    expect(JSON.stringify(final.blocks)).toContain('Approved by');
    expect(hasButton(final, 'approve_deployment')).toBe(false);
    // The record never carried the ts itself: the outbox's keys did, and reads join it in.
    const raw = JSON.parse((await h.redis.get(`${h.prefix}:deploy:${started.id}`)) ?? '{}') as Record<string, unknown>;
    expect(raw.announcementTs).toBeUndefined();
  });

  it('the bot posts and edits nothing itself: its announcement and the decision wait in the outbox', async () => {
    h = await startHarness({ roles: { bot: true, worker: false } });
    const { view } = await h.requester.requestDeploy('acme-api v1.5.0');
    expect((await h.requester.submitChecklist(view)).body).toBe('');
    const d = await h.only();
    const outbox = h.app.ctx.outbox;
    const post = await until(() => outbox.queue.getJob(`msg-${d.id}-announcement`), 3000, 'the announcement job');
    const data = post.data as { channel: string; text: string; blocks: unknown[] };

    // The announcement as Slack would show it; its Approve button names the deployment.
    const pending: SlackMessage = {
      type: 'message',
      channel: data.channel,
      ts: '1700000000.000100',
      text: data.text,
      blocks: data.blocks,
      user: 'U0BOT',
      bot_id: 'B0BOT',
    };
    await h.releaseManager.press(pending, 'approve_deployment');
    await until(async () => (await h.app.store.intents(d.id)).decision, 3000, 'the decision recorded');
    const edit = await until(
      async () => {
        const wanted = await h.redis.hgetall(`${h.prefix}:edit:${d.id}:announcement`);
        return wanted.text?.includes('awaiting approval') && wanted.blocks?.includes('Approved by')
          ? wanted
          : undefined;
      },
      3000,
      'the decision queued as an edit',
    );
    expect(edit.ts).toBeUndefined();
    expect(h.sandbox.slack.callsTo('chat.postMessage')).toEqual([]);
    expect(h.sandbox.slack.callsTo('chat.update')).toEqual([]);

    // The worker role's outbox sends them: the post first, then the edit showing who approved.
    worker = outbox.createWorker(h.sandbox.providers().chat, h.app.store, h.app.ctx.log, {
      lockDurationMs: 3000,
      stalledIntervalMs: 1000,
    });
    const shown = await until(
      () => {
        const m = h.sandbox.slack.messages(CHANNELS.deployments).find((m) => !m.thread_ts);
        return m && JSON.stringify(m.blocks).includes('Approved by') ? m : undefined;
      },
      10_000,
      'the announcement showing the approval',
    );
    expect(hasButton(shown, 'approve_deployment')).toBe(false);
    expect(h.sandbox.slack.calls.filter(isAnnouncementPost)).toHaveLength(1);
    expect(h.sandbox.slack.callsTo('chat.update').map((c) => c.args.ts)).toEqual([shown.ts]);
    expect((await h.app.store.get(d.id))?.announcementTs).toBe(shown.ts);
    // The handler learns that its announcement went out and queues the deployment.
    await until(() => h.app.queue.queue.getJob(d.id), 15_000, 'the deployment job');
  });
});
