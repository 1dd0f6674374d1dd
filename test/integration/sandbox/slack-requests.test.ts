import type { AddressInfo } from 'node:net';
import { App, isValidSlackRequest, LogLevel, type BlockAction, type ButtonAction } from '@slack/bolt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSlackStandIn, type SlackStandIn } from '../../../sandbox/slack.js';
import { blockAction, inputValue, sign, slashCommand, viewSubmission } from '../../../sandbox/slack-requests.js';

const SECRET = 'sandbox-signing-secret';
const CHANNEL = 'C0DEPLOYS';
const USER = 'U0DEV1';

const modal = (title: string, blocks: unknown[] = [{ type: 'section', text: { type: 'mrkdwn', text: 'hi' } }]) => ({
  type: 'modal' as const,
  callback_id: 'deploy_checklist',
  title: { type: 'plain_text' as const, text: title },
  submit: { type: 'plain_text' as const, text: 'Deploy' },
  blocks: blocks as never,
});

describe('signed Slack requests through a real Bolt app', () => {
  let slack: SlackStandIn;
  let app: App;
  let appUrl: string;
  const seen: { actions: BlockAction[]; viewErrors: string[] } = { actions: [], viewErrors: [] };

  beforeAll(async () => {
    slack = await startSlackStandIn();
    app = new App({
      signingSecret: SECRET,
      token: slack.token,
      clientOptions: { slackApiUrl: slack.url },
      logLevel: LogLevel.ERROR,
    });
    app.command('/deploy', async ({ ack, command, client, respond }) => {
      await ack();
      if (command.text === 'open') {
        await client.views.open({ trigger_id: command.trigger_id, view: modal('Deploy acme-api') });
      } else if (command.text === 'long-title') {
        await client.views
          .open({ trigger_id: command.trigger_id, view: modal('Deploy acme-api abc1234 now') })
          .catch((e: Error) => {
            seen.viewErrors.push(e.message);
          });
      } else {
        await respond({ text: `usage: /deploy <service> <version>`, response_type: 'ephemeral' });
      }
    });
    app.action<BlockAction<ButtonAction>>('approve', async ({ ack, body, respond }) => {
      await ack();
      seen.actions.push(body);
      await respond({ replace_original: true, text: `Approved by <@${body.user.id}>` });
    });
    app.view('deploy_checklist', async ({ ack, view }) => {
      const ticket = view.state.values.ticket?.ticket_input?.value ?? '';
      if (!/^DEPLOY-\d+$/.test(ticket))
        await ack({ response_action: 'errors', errors: { ticket: 'must look like DEPLOY-123' } });
      else await ack();
    });
    const server = (await app.start(0)) as { address(): AddressInfo | string | null };
    appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.stop();
    await slack.close();
  });
  beforeEach(() => {
    seen.actions.length = 0;
    seen.viewErrors.length = 0;
  });

  it('checks the token with auth.test at start', async () => {
    await expect(slack.waitFor((c) => c.method === 'auth.test')).resolves.toMatchObject({ ok: true });
  });

  it('signs the way Bolt verifies', () => {
    const body = 'token=x&command=%2Fdeploy';
    const ts = 1531420618;
    const verify = (signature: string) =>
      isValidSlackRequest({
        signingSecret: SECRET,
        body,
        headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': ts },
        nowMilliseconds: ts * 1000,
      });

    expect(sign(SECRET, body, ts)).toMatch(/^v0=[0-9a-f]{64}$/);
    expect(verify(sign(SECRET, body, ts))).toBe(true);
    expect(verify(sign('other', body, ts))).toBe(false);
  });

  it('delivers a signed slash command, whose response_url lands in the stand-in', async () => {
    const result = await slashCommand(
      appUrl,
      SECRET,
      { command: '/deploy', text: 'help', user_id: USER, channel_id: CHANNEL },
      { slack },
    );

    expect(result.status).toBe(200);
    const response = await waitUntil(() => slack.responses.at(-1));
    expect(response).toMatchObject({
      channel: CHANNEL,
      user: USER,
      body: { text: 'usage: /deploy <service> <version>', response_type: 'ephemeral' },
    });
  });

  it('lets the app open a modal with the command trigger_id', async () => {
    await slashCommand(
      appUrl,
      SECRET,
      { command: '/deploy', text: 'open', user_id: USER, channel_id: CHANNEL },
      { slack },
    );

    const call = await slack.waitFor((c) => c.method === 'views.open');
    expect(call.ok).toBe(true);
    expect(slack.views.at(-1)).toMatchObject({
      callback_id: 'deploy_checklist',
      user_id: USER,
      title: { text: 'Deploy acme-api' },
    });
  });

  it('refuses a modal title over 24 characters the way Slack does', async () => {
    await slashCommand(
      appUrl,
      SECRET,
      { command: '/deploy', text: 'long-title', user_id: USER, channel_id: CHANNEL },
      { slack },
    );

    await waitUntil(() => seen.viewErrors[0]);
    expect(seen.viewErrors[0]).toContain('invalid_arguments');
    const call = slack.callsTo('views.open').at(-1);
    expect(call).toMatchObject({ ok: false, error: 'invalid_arguments' });
  });

  it('answers 401 to a bad signature and to an old timestamp', async () => {
    const fields = { command: '/deploy', text: 'help', user_id: USER, channel_id: CHANNEL };
    const before = slack.responses.length;

    const forged = await slashCommand(appUrl, SECRET, fields, { slack, signature: `v0=${'0'.repeat(64)}` });
    const wrongSecret = await slashCommand(appUrl, 'not-the-secret', fields, { slack });
    const stale = await slashCommand(appUrl, SECRET, fields, {
      slack,
      timestamp: Math.floor(Date.now() / 1000) - 6 * 60,
    });

    expect([forged.status, wrongSecret.status, stale.status]).toEqual([401, 401, 401]);
    await new Promise((r) => setTimeout(r, 50));
    expect(slack.responses.length).toBe(before);
  });

  it('delivers a block action to app.action, and respond() replaces the message', async () => {
    const posted = await app.client.chat.postMessage({ channel: CHANNEL, text: 'Deploy acme-api abc1234?' });

    const result = await blockAction(
      appUrl,
      SECRET,
      {
        user_id: 'U0RM1',
        channel_id: CHANNEL,
        message: { ts: posted.ts ?? '' },
        actions: [{ action_id: 'approve', value: 'dep-1' }],
      },
      { slack },
    );

    expect(result.status).toBe(200);
    const body = await waitUntil(() => seen.actions[0]);
    expect(body).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0RM1' },
      channel: { id: CHANNEL },
      container: { type: 'message', message_ts: posted.ts, channel_id: CHANNEL },
      message: { ts: posted.ts, text: 'Deploy acme-api abc1234?' },
      actions: [{ action_id: 'approve', value: 'dep-1', type: 'button' }],
    });
    expect(body.trigger_id).toBeTruthy();
    await waitUntil(() => slack.messages(CHANNEL).find((m) => m.ts === posted.ts && m.text.startsWith('Approved')));
  });

  it('returns the ack body of a view submission: inline errors, then a clean close', async () => {
    const view = { callback_id: 'deploy_checklist', private_metadata: '{"service":"acme-api"}' };

    const bad = await viewSubmission(
      appUrl,
      SECRET,
      { user_id: USER, view, values: { ticket: { ticket_input: inputValue.plainText('nope') } } },
      { slack },
    );
    const good = await viewSubmission(
      appUrl,
      SECRET,
      { user_id: USER, view, values: { ticket: { ticket_input: inputValue.plainText('DEPLOY-123') } } },
      { slack },
    );

    expect(bad).toMatchObject({
      status: 200,
      json: { response_action: 'errors', errors: { ticket: 'must look like DEPLOY-123' } },
    });
    expect(good.status).toBe(200);
    expect(good.body).toBe('');
  });
});

describe('trigger ids', () => {
  let slack: SlackStandIn;
  beforeAll(async () => {
    slack = await startSlackStandIn();
  });
  afterAll(() => slack.close());

  it('are accepted once, within 3 seconds, and only when the stand-in issued them', async () => {
    const { WebClient } = await import('@slack/web-api');
    const client = new WebClient(slack.token, { slackApiUrl: slack.url, logLevel: LogLevel.ERROR });
    const view = modal('Deploy');
    const fresh = slack.issueTriggerId({ user: USER });

    await expect(client.views.open({ trigger_id: fresh, view })).resolves.toMatchObject({ ok: true });
    await expect(client.views.open({ trigger_id: fresh, view })).rejects.toThrow('exchanged_trigger_id');
    const old = slack.issueTriggerId({ issuedAt: Date.now() - 3100 });
    await expect(client.views.open({ trigger_id: old, view })).rejects.toThrow('expired_trigger_id');
    await expect(client.views.open({ trigger_id: '123.456.abcdef', view })).rejects.toThrow('expired_trigger_id');

    const tooMany = modal(
      'Deploy',
      Array.from({ length: 101 }, () => ({ type: 'divider' })),
    );
    await expect(client.views.open({ trigger_id: slack.issueTriggerId(), view: tooMany })).rejects.toThrow(
      'invalid_arguments',
    );
    const longOption = modal('Deploy', [
      {
        type: 'input',
        block_id: 'b',
        label: { type: 'plain_text', text: 'x' },
        element: {
          type: 'checkboxes',
          action_id: 'a',
          options: [{ text: { type: 'plain_text', text: 'x'.repeat(76) }, value: 'v' }],
        },
      },
    ]);
    const error = await client.views
      .open({ trigger_id: slack.issueTriggerId(), view: longOption })
      .catch((e: { data: unknown }) => e.data);
    expect(error).toMatchObject({
      ok: false,
      error: 'invalid_arguments',
      response_metadata: {
        messages: ['[ERROR] must be less than 76 characters [json-pointer:/view/blocks/0/element/options/0/text/text]'],
      },
    });
  });
});

async function waitUntil<T>(read: () => T | undefined, timeoutMs = 2000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
