import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNELS, PEOPLE } from '../../../sandbox/sandbox.js';
import { SANDBOX_APP_TOKEN, type SlackMessage } from '../../../sandbox/slack.js';
import { blockActionPayload, slashCommandPayload, viewSubmissionPayload } from '../../../sandbox/slack-requests.js';
import { checklistValues } from '../../../sandbox/slack-user.js';
import { startHarness, until, type Harness } from '../../support/harness.js';

/**
 * Switchyard with SLACK_APP_TOKEN set runs in Socket Mode: it opens its connection with
 * apps.connections.open on the Slack stand-in, and every request arrives as an envelope on that
 * WebSocket and is acknowledged by envelope_id. `/deploy` → checklist → Approve goes through to a
 * successful deployment, with Slack's routine disconnects (`warning`, then `refresh_requested`)
 * in the middle, each followed by a reconnect.
 */

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ env: { SLACK_APP_TOKEN: SANDBOX_APP_TOKEN } });
  await h.sandbox.slack.socket.connected(1);
});

afterAll(async () => {
  await h?.close();
});

describe('Socket Mode', () => {
  it('connects with the app-level token and is greeted', async () => {
    const { slack } = h.sandbox;
    const opens = slack.callsTo('apps.connections.open');
    expect(opens.length).toBe(1);
    expect(opens.every((c) => c.ok)).toBe(true);
    expect(slack.socket.connections).toBe(1);
    // Slack opens connections for the app-level token only, never for the bot token.
    const withBotToken = await fetch(`${slack.url}apps.connections.open`, {
      method: 'POST',
      headers: { authorization: `Bearer ${slack.token}` },
    });
    expect(await withBotToken.json()).toEqual({ ok: false, error: 'not_allowed_token_type' });
  });

  it('/deploy → checklist → Approve through the socket, with routine reconnects, to a successful deployment', async () => {
    const { slack } = h.sandbox;
    const socket = slack.socket;
    const viewsBefore = slack.views.length;

    const command = await socket.send(
      'slash_commands',
      slashCommandPayload(
        { command: '/deploy', text: 'acme-api v1.7.0', user_id: PEOPLE.requester, channel_id: CHANNELS.team },
        { slack },
      ),
      { acceptsResponsePayload: true },
    );
    // An empty ack: the modal opens instead of a message.
    expect(command.payload).toBeUndefined();
    expect(command.ms).toBeLessThan(3000);
    const view = await until(
      () => slack.views.slice(viewsBefore).find((v) => v.callback_id === 'deploy_checklist'),
      3000,
      'the checklist',
    );

    // Slack recycles the connection while the modal is open: a warning, then the refresh.
    await socket.disconnect('warning');
    await socket.disconnect('refresh_requested');
    expect(socket.connections).toBe(3);
    expect(slack.callsTo('apps.connections.open').filter((c) => c.ok)).toHaveLength(3);

    const submitted = await socket.send(
      'interactive',
      viewSubmissionPayload({ user_id: PEOPLE.requester, view, values: checklistValues(view) }, { slack }),
      { acceptsResponsePayload: true },
    );
    // No response_action: the modal closes, nothing to report inline.
    expect(submitted.payload).toBeUndefined();
    const announcement = await h.announcement();
    expect(announcement.text).toContain('v1.7.0');
    const approve = (announcement.blocks as { elements?: { action_id?: string; value?: string }[] }[])
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === 'approve_deployment');
    expect(approve?.value).toBeTruthy();

    const pressed = await socket.send(
      'interactive',
      blockActionPayload(
        {
          user_id: PEOPLE.releaseManager,
          channel_id: CHANNELS.deployments,
          message: { ts: announcement.ts },
          actions: [{ action_id: 'approve_deployment', block_id: 'decision', value: approve?.value }],
        },
        { slack },
      ),
    );
    expect(pressed.ms).toBeLessThan(3000);

    const running = await h.waitForPhase(['running', 'succeeded', 'rolled-back', 'failed']);
    expect(running.approver).toBe(PEOPLE.releaseManager);
    // One more routine refresh while the worker deploys: the run does not depend on the socket.
    await socket.disconnect('refresh_requested');
    expect(socket.connections).toBe(4);

    const done = await h.waitForPhase(['succeeded', 'rolled-back', 'failed'], 30_000);
    expect(done.phase).toBe('succeeded');
    expect(done.version).toBe('v1.7.0');
    expect(h.sandbox.weights()).toEqual({ blue: 0, green: 100 });
    const settled = slack.messages(CHANNELS.deployments).find((m) => m.ts === announcement.ts) as SlackMessage;
    expect(JSON.stringify(settled.blocks)).not.toContain('"approve_deployment"');
    // Every envelope sent was acknowledged by its id.
    expect(socket.acks.map((a) => a.envelope_id)).toEqual([
      command.envelope_id,
      submitted.envelope_id,
      pressed.envelope_id,
    ]);
  });

  it('a command from another workspace over the socket is refused in its ack', async () => {
    const { slack } = h.sandbox;
    const ack = await slack.socket.send(
      'slash_commands',
      slashCommandPayload(
        {
          command: '/deploy',
          text: 'status',
          user_id: PEOPLE.releaseManager,
          channel_id: CHANNELS.team,
          team_id: 'T0FOREIGN',
        },
        { slack },
      ),
      { acceptsResponsePayload: true },
    );
    expect(ack.payload).toMatchObject({ response_type: 'ephemeral' });
    expect(String(ack.payload?.text)).toContain('serves only its own workspace');
  });
});
