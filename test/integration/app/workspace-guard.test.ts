import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MEMBER_CACHE_MS, ownIdentity, workspaceMembers } from '../../../src/app/workspace-guard.js';
import { CHANNELS, PEOPLE, SANDBOX_SIGNING_SECRET } from '../../../sandbox/sandbox.js';
import { SANDBOX_IDENTITY } from '../../../sandbox/slack.js';
import { postSigned, slashCommand, type SlackRequestResult } from '../../../sandbox/slack-requests.js';
import { startHarness, until, type Harness } from '../../support/harness.js';

/**
 * Requests from another workspace or app are refused before any handler runs, and "anyone"
 * (`/deploy status`, a service without deployers) means full members of the workspace: the
 * guard reads auth.test, bots.info and users.info from the Slack stand-in as it would from Slack.
 */

let h: Harness;
const GUEST = 'U0GUEST';
const SINGLE_CHANNEL_GUEST = 'U0GUEST1';
const EXTERNAL = 'U0EXTERNAL';
const STRANGER = 'U0STRANGER';

const ackText = (result: SlackRequestResult): string => {
  expect(result.status).toBe(200);
  return String((result.json as { text?: string } | undefined)?.text ?? '');
};

const responseTo = async (user: string): Promise<string> =>
  String(
    (await until(() => h.sandbox.slack.responses.find((r) => r.user === user), 3000, `a response to ${user}`)).body
      .text,
  );

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  h = await startHarness({
    roles: { bot: true, worker: false },
    catalog: {
      services: {
        // No deployers: open to any full member of the workspace.
        'open-api': {
          strategy: 'rolling',
          workload: {
            provider: 'kubernetes',
            namespace: 'prod',
            deployments: { main: 'open-api' },
            container: 'api',
            image: 'registry.example/open-api',
          },
        },
      },
    },
  });
  h.sandbox.slack.setPerson(GUEST, { is_restricted: true });
  h.sandbox.slack.setPerson(SINGLE_CHANNEL_GUEST, { is_restricted: true, is_ultra_restricted: true });
  h.sandbox.slack.setPerson(EXTERNAL, { team_id: 'T0ELSEWHERE' });
  h.sandbox.slack.setPerson(STRANGER, { is_stranger: true });
});

afterAll(async () => {
  await h?.close();
});

beforeEach(() => {
  h.sandbox.slack.responses.length = 0;
});

describe('another workspace or app', () => {
  const send = (fields: { team_id?: string; api_app_id?: string }) =>
    slashCommand(
      h.appUrl,
      SANDBOX_SIGNING_SECRET,
      { command: '/deploy', text: 'status', user_id: PEOPLE.releaseManager, channel_id: CHANNELS.team, ...fields },
      { slack: h.sandbox.slack },
    );

  it('a signed /deploy status with a foreign team_id is refused in the ack and answered nothing else', async () => {
    const result = await send({ team_id: 'T0FOREIGN' });
    expect(ackText(result)).toContain('serves only its own workspace and app; nothing was done');
    await pause(300);
    expect(h.sandbox.slack.responses).toEqual([]);
  });

  it('a signed /deploy status with a foreign api_app_id is refused', async () => {
    const result = await send({ api_app_id: 'A0OTHERAPP' });
    expect(ackText(result)).toContain('serves only its own workspace and app');
    await pause(300);
    expect(h.sandbox.slack.responses).toEqual([]);
  });

  it('a freeze from another workspace by a release manager id changes nothing', async () => {
    const result = await slashCommand(
      h.appUrl,
      SANDBOX_SIGNING_SECRET,
      {
        command: '/deploy',
        text: 'freeze all incident',
        user_id: PEOPLE.releaseManager,
        channel_id: CHANNELS.team,
        team_id: 'T0FOREIGN',
      },
      { slack: h.sandbox.slack },
    );
    expect(ackText(result)).toContain('serves only its own workspace');
    await pause(300);
    expect(await h.app.store.freezeOf('acme-api')).toBeUndefined();
    expect(await h.createdKeys()).toEqual([]);
  });

  it('a button press from another workspace is acknowledged and ignored', async () => {
    const payload = {
      type: 'block_actions',
      user: { id: PEOPLE.releaseManager, username: 'rm', name: 'rm', team_id: 'T0FOREIGN' },
      api_app_id: SANDBOX_IDENTITY.appId,
      token: 'x',
      container: { type: 'message', message_ts: '1.000001', channel_id: CHANNELS.deployments },
      trigger_id: '1.0.abc',
      team: { id: 'T0FOREIGN', domain: 'foreign' },
      channel: { id: CHANNELS.deployments, name: 'deployments' },
      actions: [{ type: 'button', action_id: 'home_refresh', block_id: 'b', value: 'x', action_ts: '1.0' }],
    };
    const calls = h.sandbox.slack.calls.length;
    const result = await postSigned(
      h.appUrl,
      SANDBOX_SIGNING_SECRET,
      new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
    );
    expect(result.status).toBe(200);
    await pause(300);
    expect(h.sandbox.slack.calls.slice(calls).map((c) => c.method)).toEqual([]);
  });

  it('learns its own ids once, from auth.test and bots.info', () => {
    expect(h.sandbox.slack.callsTo('auth.test').filter((c) => c.ok).length).toBeGreaterThanOrEqual(1);
    expect(h.sandbox.slack.callsTo('bots.info').map((c) => c.args.bot)).toEqual([SANDBOX_IDENTITY.botId]);
  });
});

describe('guests and external users', () => {
  it('/deploy status: a full member is answered; guests, strangers and external members are refused', async () => {
    const outsider = h.user(PEOPLE.outsider);
    await outsider.command('/deploy', 'status');
    expect(await responseTo(PEOPLE.outsider)).not.toContain(':no_entry:');

    for (const [id, words] of [
      [GUEST, 'you are a guest'],
      [SINGLE_CHANNEL_GUEST, 'you are a single-channel guest'],
      [EXTERNAL, 'you are from another organization (Slack Connect)'],
      [STRANGER, 'you are from another organization (Slack Connect)'],
    ] as const) {
      await h.user(id).command('/deploy', 'status');
      const text = await responseTo(id);
      expect(text).toContain(`:no_entry: ${words}`);
      expect(text).toContain('full members of this workspace only');
    }
    await h.user(GUEST).command('/deploy', 'history acme-api');
    expect(
      await until(
        () => h.sandbox.slack.responses.filter((r) => r.user === GUEST)[1]?.body.text,
        3000,
        'the second answer to the guest',
      ),
    ).toContain('you are a guest');
  });

  it('a service without deployers: a member gets the checklist, a guest is refused in the ack', async () => {
    const member = h.user('U0MEMBER');
    const opened = await member.requestDeploy('open-api v2.0.0');
    expect(opened.ack.body).toBe('');
    expect(JSON.stringify(opened.view.blocks[0])).toContain('v2.0.0');

    const refused = await h.user(GUEST).command('/deploy', 'open-api v2.0.0');
    expect(ackText(refused)).toBe(
      ':no_entry: you may not deploy open-api: you are a guest; what is open to anyone is open to full members of this workspace only',
    );
    const shift = await h.user(EXTERNAL).command('/shift', 'open-api 50');
    expect(ackText(shift)).toContain('you are from another organization');
    const rollback = await h.user(GUEST).command('/rollback', 'open-api');
    expect(ackText(rollback)).toContain('you may not roll back open-api');
    expect(ackText(rollback)).toContain('you are a guest');
  });

  it('a guest named in the catalog acts where it names them', async () => {
    h.sandbox.slack.setPerson(PEOPLE.deployer, { is_restricted: true });
    try {
      const { ack, view } = await h.user(PEOPLE.deployer).requestDeploy('acme-api v2.0.1');
      expect(ack.body).toBe('');
      expect(JSON.stringify(view.blocks[0])).toContain('v2.0.1');
    } finally {
      h.sandbox.slack.setPerson(PEOPLE.deployer, undefined);
    }
  });

  it('users.info answers are cached: a second request asks Slack nothing', async () => {
    const before = h.sandbox.slack.callsTo('users.info').filter((c) => c.args.user === STRANGER).length;
    expect(before).toBe(1);
    await h.user(STRANGER).command('/deploy', 'status');
    await until(() => h.sandbox.slack.responses.find((r) => r.user === STRANGER), 3000, 'the answer');
    expect(h.sandbox.slack.callsTo('users.info').filter((c) => c.args.user === STRANGER).length).toBe(1);
  });

  it('when users.info fails, the request is refused with a sentence saying so, not granted', async () => {
    h.sandbox.slack.faults.inject({
      status: 200,
      match: '/api/users.info',
      body: JSON.stringify({ ok: false, error: 'internal_error' }),
      times: 5,
    });
    try {
      await h.user('U0NEWMEMBER').command('/deploy', 'status');
      const text = await responseTo('U0NEWMEMBER');
      expect(text).toContain('Slack did not confirm that you are a full member of this workspace');
      expect(text).toContain('internal_error');
      const refused = await h.user('U0NEWMEMBER2').command('/deploy', 'open-api v2.0.0');
      expect(ackText(refused)).toContain('Slack did not confirm that you are a full member');
      expect(h.sandbox.slack.views.filter((v) => v.user_id === 'U0NEWMEMBER2')).toEqual([]);
    } finally {
      h.sandbox.slack.faults.clear();
    }
  });

  it('a users.info answer is trusted for a minute, then asked again', async () => {
    let now = 1_000_000;
    const client = new WebClient(h.sandbox.slack.token, {
      slackApiUrl: h.sandbox.slack.url,
      retryConfig: { retries: 0 },
    });
    const members = workspaceMembers(client, ownIdentity(client), { clock: () => now });
    h.sandbox.slack.setPerson('U0PROMOTED', { is_restricted: true });
    expect((await members.check('U0PROMOTED')).member).toBe(false);
    // Promoted to a full member: the cached answer stands until it expires.
    h.sandbox.slack.setPerson('U0PROMOTED', undefined);
    now += MEMBER_CACHE_MS - 1;
    expect((await members.check('U0PROMOTED')).member).toBe(false);
    now += 1;
    expect(await members.check('U0PROMOTED')).toEqual({ member: true });
    expect(h.sandbox.slack.callsTo('users.info').filter((c) => c.args.user === 'U0PROMOTED')).toHaveLength(2);
  });
});
