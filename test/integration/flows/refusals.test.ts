import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHANNELS, PEOPLE, SANDBOX_SIGNING_SECRET } from '../../../sandbox/sandbox.js';
import type { SlackMessage } from '../../../sandbox/slack.js';
import {
  blockAction,
  inputValue,
  sign,
  slashCommand,
  type SlackRequestResult,
} from '../../../sandbox/slack-requests.js';
import type { SlackUser } from '../../../sandbox/slack-user.js';
import { startHarness, until, type Harness } from '../../support/harness.js';

/** What a slash command's HTTP ack carries when the handler answers in it. */
interface AckBody {
  response_type?: string;
  text?: string;
}

const ackBody = (result: SlackRequestResult): AckBody => {
  expect(result.status).toBe(200);
  expect(result.json, `ack body: ${result.body}`).toBeTypeOf('object');
  return result.json as AckBody;
};

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Time for a handler that acked early to finish whatever it would still do. */
const SETTLE_MS = 300;

const hasButton = (message: SlackMessage | undefined, actionId: string): boolean =>
  JSON.stringify(message?.blocks ?? []).includes(`"${actionId}"`);

describe('refusals: requests and presses that must change nothing', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ bakeSeconds: 1 });
  });
  afterEach(async () => h.close());

  const createdKeys = () => h.createdKeys();

  /** Nothing was created, opened or posted. */
  const expectNothingHappened = async () => {
    expect(h.sandbox.slack.views).toHaveLength(0);
    expect(h.sandbox.slack.callsTo('views.open')).toHaveLength(0);
    expect(h.sandbox.slack.callsTo('chat.postMessage')).toHaveLength(0);
    expect(h.sandbox.slack.messages()).toHaveLength(0);
    expect(await h.app.store.recent(10)).toEqual([]);
    expect(await h.app.store.activeId('acme-api')).toBeUndefined();
    expect(await createdKeys()).toEqual([]);
  };

  /** /deploy … from `user`; the refusal must come back in the ack itself as an ephemeral message. */
  const refusedInAck = async (user: SlackUser, text: string): Promise<string> => {
    const body = ackBody(await user.command('/deploy', text));
    expect(body.response_type).toBe('ephemeral');
    expect(typeof body.text).toBe('string');
    return body.text as string;
  };

  /** Requests a deployment as `user`, fills the checklist and returns the announcement. */
  const requestAndAnnounce = async (
    user: SlackUser,
    version: string,
  ): Promise<{ announcement: SlackMessage; id: string }> => {
    const { view } = await user.requestDeploy(`acme-api ${version}`);
    const submitted = await user.submitChecklist(view);
    expect(submitted.status).toBe(200);
    expect(submitted.body).toBe('');
    const announcement = await h.announcement();
    const d = await h.only();
    return { announcement, id: d.id };
  };

  const ephemeralTo = (user: string, containing: string) =>
    until(
      () => h.sandbox.slack.ephemerals(user).find((e) => e.text.includes(containing)),
      3000,
      `an ephemeral to ${user} saying "${containing}"`,
    );

  const announcementNow = (ts: string) => h.sandbox.slack.messages(CHANNELS.deployments).find((m) => m.ts === ts);

  describe('request signatures', () => {
    const command = {
      command: '/deploy',
      text: 'acme-api v1.2.3',
      user_id: PEOPLE.requester,
      channel_id: CHANNELS.team,
    };

    it('answers 401 to a bad signature and changes nothing', async () => {
      const result = await slashCommand(h.appUrl, SANDBOX_SIGNING_SECRET, command, {
        slack: h.sandbox.slack,
        signature: 'v0=bad',
      });
      expect(result.status).toBe(401);
      // Signed with another secret: well-formed, still wrong.
      const otherSecret = await slashCommand(h.appUrl, 'not-the-signing-secret', command, { slack: h.sandbox.slack });
      expect(otherSecret.status).toBe(401);
      await pause(SETTLE_MS);
      await expectNothingHappened();
      expect(h.sandbox.slack.responses).toHaveLength(0);
      // Bolt's own auth.test, sent (unawaited) when the app starts, is the only Web API call.
      expect(h.sandbox.slack.calls.filter((c) => c.method !== 'auth.test')).toEqual([]);
    });

    it('answers 401 to a correctly signed request whose timestamp is older than 5 minutes', async () => {
      const stale = Math.floor(Date.now() / 1000) - 6 * 60;
      const result = await slashCommand(h.appUrl, SANDBOX_SIGNING_SECRET, command, {
        slack: h.sandbox.slack,
        timestamp: stale,
      });
      expect(result.status).toBe(401);
      await pause(SETTLE_MS);
      await expectNothingHappened();
    });

    it('answers 401 when the signature headers are missing', async () => {
      const body = new URLSearchParams({
        token: 'sandbox-verification-token',
        team_id: h.sandbox.slack.identity.teamId,
        channel_id: CHANNELS.team,
        user_id: PEOPLE.requester,
        command: '/deploy',
        text: 'acme-api v1.2.3',
        response_url: h.sandbox.slack.responseUrl({ channel: CHANNELS.team, user: PEOPLE.requester }),
        trigger_id: h.sandbox.slack.issueTriggerId({ user: PEOPLE.requester }),
      }).toString();
      const post = (headers: Record<string, string>) =>
        fetch(`${h.appUrl}/slack/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
          body,
        });
      const timestamp = Math.floor(Date.now() / 1000);

      expect((await post({})).status).toBe(401);
      // Only one of the two headers.
      expect((await post({ 'x-slack-request-timestamp': String(timestamp) })).status).toBe(401);
      expect((await post({ 'x-slack-signature': sign(SANDBOX_SIGNING_SECRET, body, timestamp) })).status).toBe(401);
      await pause(SETTLE_MS);
      await expectNothingHappened();
    });

    it('ignores a forged Approve press (bad signature) on a real announcement', async () => {
      const { announcement, id } = await requestAndAnnounce(h.requester, 'v1.2.3');
      const forged = await blockAction(
        h.appUrl,
        SANDBOX_SIGNING_SECRET,
        {
          user_id: PEOPLE.releaseManager,
          channel_id: CHANNELS.deployments,
          message: { ts: announcement.ts },
          actions: [{ action_id: 'approve_deployment', block_id: 'decision', value: id }],
        },
        { slack: h.sandbox.slack, signature: 'v0=bad' },
      );
      expect(forged.status).toBe(401);
      await pause(SETTLE_MS);
      expect(await h.app.store.intents(id)).toEqual({});
      expect((await h.app.store.get(id))?.phase).toBe('awaiting-approval');
      expect(hasButton(announcementNow(announcement.ts), 'approve_deployment')).toBe(true);
      expect(h.sandbox.slack.callsTo('chat.update')).toHaveLength(0);
    });
  });

  describe('/deploy refused before the modal', () => {
    it('refuses an unknown service in the ack, naming it and the known services', async () => {
      const text = await refusedInAck(h.requester, 'nope v1.2.3');
      expect(text).toContain('nope');
      expect(text).toContain('known services: acme-api');
      await pause(SETTLE_MS);
      await expectNothingHappened();
      expect(h.sandbox.slack.responses).toHaveLength(0);
    });

    it.each([
      ['latest'],
      ['12345'],
      ['v1.2'],
      ['v1.2.3.4'],
      ['abc123'], // 6 hex: too short for a SHA
      ['g1234567'], // not hex
      ['a'.repeat(41)], // longer than a full SHA
    ])('refuses the version %s, naming it and what is accepted', async (version) => {
      const text = await refusedInAck(h.requester, `acme-api ${version}`);
      expect(text).toContain(version.length > 40 ? version.slice(0, 40) : version);
      expect(text).toContain('git SHA (7–40 hex characters)');
      expect(text).toContain('v1.2.3');
      await pause(SETTLE_MS);
      await expectNothingHappened();
    });

    it('refuses a missing version, an unknown option and two strategies', async () => {
      expect(await refusedInAck(h.requester, 'acme-api')).toMatch(/give a version after `acme-api`: a git SHA/);

      const unknown = await refusedInAck(h.requester, 'acme-api v1.2.3 yolo');
      expect(unknown).toContain('unknown option `yolo`');
      expect(unknown).toContain('accepted: blue-green, canary, rolling, hotfix, dry-run');

      expect(await refusedInAck(h.requester, 'acme-api v1.2.3 canary blue-green')).toContain('at most one strategy');
      // A strategy the service cannot use (it has a blue/green pair).
      expect(await refusedInAck(h.requester, 'acme-api v1.2.3 rolling')).toContain(
        'deploy it with blue-green or canary',
      );
      await pause(SETTLE_MS);
      await expectNothingHappened();
    });

    it('refuses a user who is not a deployer of the service', async () => {
      const text = await refusedInAck(h.outsider, 'acme-api v1.2.3');
      expect(text).toContain('not a deployer of acme-api');
      // Not even a dry run.
      expect(await refusedInAck(h.outsider, 'acme-api v1.2.3 dry-run')).toContain('not a deployer of acme-api');
      await pause(SETTLE_MS);
      await expectNothingHappened();
    });

    it('refuses a non-deployer who submits a checklist modal opened for someone else', async () => {
      const { view } = await h.requester.requestDeploy('acme-api v1.2.3');
      const submitted = await h.outsider.submitChecklist(view);
      expect(submitted.json).toMatchObject({
        response_action: 'errors',
        errors: { summary: expect.stringContaining('not a deployer of acme-api') },
      });
      await pause(SETTLE_MS);
      expect(await createdKeys()).toEqual([]);
      expect(h.sandbox.slack.messages()).toHaveLength(0);
    });
  });

  describe('the checklist modal reports problems inline', () => {
    it('refuses an unchecked item on that item only; nothing is created; fixed, the same modal goes through', async () => {
      const { view } = await h.requester.requestDeploy('acme-api v1.2.3');
      const submitted = await h.requester.submitChecklist(view, { unchecked: [2] });
      expect(submitted.status).toBe(200);
      expect(submitted.json).toEqual({ response_action: 'errors', errors: { check_2: expect.any(String) } });

      const twoUnchecked = await h.requester.submitChecklist(view, { unchecked: [0, 6] });
      expect(Object.keys((twoUnchecked.json as { errors: Record<string, string> }).errors).sort()).toEqual([
        'check_0',
        'check_6',
      ]);

      await pause(SETTLE_MS);
      expect(await createdKeys()).toEqual([]);
      expect(await h.app.store.recent(10)).toEqual([]);
      expect(h.sandbox.slack.callsTo('chat.postMessage')).toHaveLength(0);
      expect(h.sandbox.slack.messages(CHANNELS.deployments)).toHaveLength(0);

      const fixed = await h.requester.submitChecklist(view);
      expect(fixed.status).toBe(200);
      expect(fixed.body).toBe('');
      const announcement = await h.announcement();
      expect(announcement.text).toContain('v1.2.3');
      // The key count above is not vacuous: a real request does write keys.
      const keys = await createdKeys();
      expect(keys).toContain(`${h.prefix}:lock:acme-api`);
      expect(keys.some((k) => k.startsWith(`${h.prefix}:deploy:`))).toBe(true);
    });

    it('a double-clicked Submit creates one deployment and one announcement; the other submission is told why', async () => {
      const { view } = await h.requester.requestDeploy('acme-api v1.2.3');
      const results = await Promise.all([h.requester.submitChecklist(view), h.requester.submitChecklist(view)]);
      expect(results.map((r) => r.status)).toEqual([200, 200]);
      const refused = results.filter((r) => r.body !== '');
      expect(refused).toHaveLength(1);
      expect(refused[0]?.json).toEqual({
        response_action: 'errors',
        errors: { summary: expect.stringContaining('already submitted') },
      });
      await h.announcement();
      await pause(SETTLE_MS);
      expect(await h.app.store.recent(10)).toHaveLength(1);
      expect(
        h.sandbox.slack
          .messages(CHANNELS.deployments)
          .filter((m) => m.text.includes('Production Deployment Scheduled')),
      ).toHaveLength(1);
    });

    it.each([['DEPLOY-x'], ['JIRA-1'], ['DEPLOY-'], ['deploy-123'], ['DEPLOY-123 DEPLOY-124']])(
      'refuses the ticket %s on the ticket block',
      async (ticket) => {
        const { view } = await h.requester.requestDeploy('acme-api v1.2.3');
        const submitted = await h.requester.submitChecklist(view, { ticket });
        expect(submitted.json).toEqual({
          response_action: 'errors',
          errors: { ticket: expect.stringContaining('DEPLOY-') },
        });
        await pause(SETTLE_MS);
        expect(await createdKeys()).toEqual([]);
        expect(h.sandbox.slack.messages()).toHaveLength(0);
      },
    );

    it.each([[''], ['   \n  ']])('refuses an empty change summary (%j) on the summary block', async (summary) => {
      const { view } = await h.requester.requestDeploy('acme-api v1.2.3');
      const submitted = await h.requester.submitChecklist(view, { summary });
      expect(submitted.json).toEqual({ response_action: 'errors', errors: { summary: expect.any(String) } });
      await pause(SETTLE_MS);
      expect(await createdKeys()).toEqual([]);
      expect(h.sandbox.slack.messages()).toHaveLength(0);
    });

    it('refuses a hotfix without a justification on the justification block', async () => {
      const { view } = await h.requester.requestDeploy('acme-api v1.2.3 hotfix');
      const submitted = await h.requester.submitChecklist(view, { justification: '  ' });
      expect(submitted.json).toEqual({ response_action: 'errors', errors: { justification: expect.any(String) } });
      await pause(SETTLE_MS);
      expect(await createdKeys()).toEqual([]);
    });
  });

  describe('who may decide', () => {
    it('refuses Approve and Reject from an outsider and from the requesting deployer, with an ephemeral; nothing changes', async () => {
      const { announcement, id } = await requestAndAnnounce(h.requester, 'v1.2.3');

      await h.outsider.press(announcement, 'approve_deployment');
      const refusal = await ephemeralTo(PEOPLE.outsider, 'Only a release manager');
      expect(refusal.channel).toBe(CHANNELS.deployments);
      await h.outsider.press(announcement, 'reject_deployment');
      await until(
        () => (h.sandbox.slack.ephemerals(PEOPLE.outsider).length === 2 ? true : undefined),
        3000,
        'the second refusal',
      );
      // The requester is a deployer, not a release manager.
      await h.requester.press(announcement, 'approve_deployment');
      await ephemeralTo(PEOPLE.requester, 'Only a release manager');
      await pause(SETTLE_MS);

      expect(h.sandbox.slack.callsTo('chat.postEphemeral').every((c) => c.args.user !== PEOPLE.releaseManager)).toBe(
        true,
      );
      expect(await h.app.store.intents(id)).toEqual({});
      const events = (await h.app.store.events(id)).map((e) => e.type);
      expect(events).toEqual(['requested', 'announced']);
      expect((await h.app.store.get(id))?.phase).toBe('awaiting-approval');
      expect(h.sandbox.slack.views.filter((v) => v.callback_id === 'reject_reason')).toHaveLength(0);
      expect(h.sandbox.slack.callsTo('chat.update')).toHaveLength(0);
      const now = announcementNow(announcement.ts);
      expect(hasButton(now, 'approve_deployment')).toBe(true);
      expect(hasButton(now, 'reject_deployment')).toBe(true);
      expect(h.sandbox.elbv2.changes).toHaveLength(0);
    });

    it('does not let a release manager approve or reject their own deployment; another manager can', async () => {
      // Release managers may always deploy, even a service whose deployers list omits them.
      const { announcement, id } = await requestAndAnnounce(h.releaseManager, 'v1.2.3');
      expect((await h.app.store.get(id))?.requester).toBe(PEOPLE.releaseManager);

      await h.releaseManager.press(announcement, 'approve_deployment');
      await ephemeralTo(PEOPLE.releaseManager, 'You requested this deployment');
      await h.releaseManager.press(announcement, 'reject_deployment');
      await until(
        () => (h.sandbox.slack.ephemerals(PEOPLE.releaseManager).length === 2 ? true : undefined),
        3000,
        'the second refusal',
      );
      await pause(SETTLE_MS);
      expect(await h.app.store.intents(id)).toEqual({});
      expect(h.sandbox.slack.views.filter((v) => v.callback_id === 'reject_reason')).toHaveLength(0);
      expect(hasButton(announcementNow(announcement.ts), 'approve_deployment')).toBe(true);
      expect((await h.app.store.get(id))?.phase).toBe('awaiting-approval');

      await h.otherManager.press(announcement, 'approve_deployment');
      const running = await h.waitForPhase(['running', 'succeeded']);
      expect(running.approver).toBe(PEOPLE.otherManager);
      expect((await h.app.store.intents(id)).decision).toMatchObject({ kind: 'approve', by: PEOPLE.otherManager });
    });
  });

  describe('one decision, however many presses', () => {
    const expectOneApprovalAndOneRun = async (id: string, announcementTs: string) => {
      const done = await h.waitForPhase(['succeeded', 'failed', 'rolled-back'], 30_000);
      expect(done.phase).toBe('succeeded');
      const events = await h.app.store.events(id);
      expect(events.filter((e) => e.type === 'approve-recorded')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'approved')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'step-succeeded')).toHaveLength(done.steps.length);
      expect(h.sandbox.elbv2.changes).toHaveLength(3);
      expect(h.sandbox.weights()).toEqual({ blue: 0, green: 100 });
      const complete = h.sandbox.slack
        .thread(CHANNELS.deployments, announcementTs)
        .filter((m) => m.text.includes('Deployment Complete'));
      expect(complete).toHaveLength(1);
      return done;
    };

    it('two managers pressing Approve at the same moment: one decision, one run; the other is told', async () => {
      const { announcement, id } = await requestAndAnnounce(h.requester, 'v1.2.3');
      const presses = await Promise.all([
        h.releaseManager.press(announcement, 'approve_deployment'),
        h.otherManager.press(announcement, 'approve_deployment'),
      ]);
      expect(presses.map((p) => p.status)).toEqual([200, 200]);

      const decision = await until(async () => (await h.app.store.intents(id)).decision, 3000, 'the decision');
      expect(decision.kind).toBe('approve');
      expect([PEOPLE.releaseManager, PEOPLE.otherManager]).toContain(decision.by);
      const loser = decision.by === PEOPLE.releaseManager ? PEOPLE.otherManager : PEOPLE.releaseManager;
      await ephemeralTo(loser, `already approved by <@${decision.by}>`);
      expect(h.sandbox.slack.ephemerals(decision.by)).toHaveLength(0);

      const done = await expectOneApprovalAndOneRun(id, announcement.ts);
      expect(done.approver).toBe(decision.by);
      expect(JSON.stringify(announcementNow(announcement.ts)?.blocks)).toContain(`Approved by <@${decision.by}>`);
    });

    it('a manager double-clicking Approve: one decision, one run', async () => {
      const { announcement, id } = await requestAndAnnounce(h.requester, 'v1.2.3');
      const presses = await Promise.all([
        h.releaseManager.press(announcement, 'approve_deployment'),
        h.releaseManager.press(announcement, 'approve_deployment'),
        h.releaseManager.press(announcement, 'approve_deployment'),
      ]);
      expect(presses.map((p) => p.status)).toEqual([200, 200, 200]);
      const decision = await until(async () => (await h.app.store.intents(id)).decision, 3000, 'the decision');
      expect(decision).toMatchObject({ kind: 'approve', by: PEOPLE.releaseManager });
      const done = await expectOneApprovalAndOneRun(id, announcement.ts);
      expect(done.approver).toBe(PEOPLE.releaseManager);
    });

    it('a late Approve on a stale copy of the announcement, after the run started, changes nothing', async () => {
      const { announcement, id } = await requestAndAnnounce(h.requester, 'v1.2.3');
      const staleCopy = structuredClone(announcement);
      await h.releaseManager.press(announcement, 'approve_deployment');
      await h.waitForPhase(['running']);
      await h.otherManager.press(staleCopy, 'approve_deployment');
      await ephemeralTo(PEOPLE.otherManager, 'already approved');
      await expectOneApprovalAndOneRun(id, announcement.ts);
    });
  });

  describe('Reject', () => {
    it('asks for a reason, records the rejection, releases the service and shows who rejected and why', async () => {
      const { announcement, id } = await requestAndAnnounce(h.requester, 'v1.2.3');
      const staleCopy = structuredClone(announcement);
      const viewsBefore = h.sandbox.slack.views.length;
      await h.releaseManager.press(announcement, 'reject_deployment');
      const modal = await h.releaseManager.latestView('reject_reason', viewsBefore);
      expect(modal.private_metadata).toBe(id);

      for (const reason of ['', '  \n ']) {
        const empty = await h.releaseManager.submitView(modal, { reason: { value: inputValue.plainText(reason) } });
        expect(empty.json).toEqual({ response_action: 'errors', errors: { reason: expect.any(String) } });
      }
      await pause(SETTLE_MS);
      expect(await h.app.store.intents(id)).toEqual({});
      expect(await h.app.store.activeId('acme-api')).toBe(id);

      const submitted = await h.releaseManager.submitView(modal, {
        reason: { value: inputValue.plainText('No load test yet <!channel>') },
      });
      expect(submitted.status).toBe(200);
      expect(submitted.body).toBe('');

      const rejected = await h.waitForPhase(['rejected'], 5000);
      expect(rejected.rejectReason).toBe('No load test yet <!channel>');
      expect(rejected.approver).toBeUndefined();
      await until(
        async () => ((await h.app.store.activeId('acme-api')) === undefined ? true : undefined),
        3000,
        'the lock to be released',
      );
      const types = (await h.app.store.events(id)).map((e) => e.type);
      expect(types.filter((t) => t === 'reject-recorded')).toHaveLength(1);
      expect(types).toContain('rejected');
      expect(types).not.toContain('approved');
      expect(types.some((t) => t.startsWith('step-'))).toBe(false);
      expect(h.sandbox.elbv2.changes).toHaveLength(0);

      const shown = JSON.stringify(announcementNow(announcement.ts)?.blocks);
      expect(shown).toContain(`Rejected by <@${PEOPLE.releaseManager}>`);
      expect(shown).toContain('No load test yet &lt;!channel&gt;');
      expect(shown).not.toContain('<!channel>');
      expect(shown).not.toContain('approve_deployment');
      expect(shown).not.toContain('reject_deployment');

      // A late Approve from a stale copy of the message changes nothing.
      await h.otherManager.press(staleCopy, 'approve_deployment');
      await ephemeralTo(PEOPLE.otherManager, 'already rejected');
      expect((await h.app.store.intents(id)).decision).toMatchObject({ kind: 'reject', by: PEOPLE.releaseManager });

      // The service is free again: /deploy opens the checklist.
      const again = await h.requester.requestDeploy('acme-api v1.2.4');
      expect(again.ack.status).toBe(200);
      expect(JSON.stringify(again.view.blocks[0])).toContain('v1.2.4');
    });

    it('a reason submitted after another manager approved is refused in the modal and changes nothing', async () => {
      const { announcement, id } = await requestAndAnnounce(h.requester, 'v1.2.3');
      const viewsBefore = h.sandbox.slack.views.length;
      await h.releaseManager.press(announcement, 'reject_deployment');
      const modal = await h.releaseManager.latestView('reject_reason', viewsBefore);

      await h.otherManager.press(announcement, 'approve_deployment');
      await until(async () => (await h.app.store.intents(id)).decision, 3000, 'the approval');

      const late = await h.releaseManager.submitView(modal, { reason: { value: inputValue.plainText('too late') } });
      expect(late.json).toEqual({
        response_action: 'errors',
        errors: { reason: expect.stringContaining(`already approved by <@${PEOPLE.otherManager}>`) },
      });
      expect((await h.app.store.intents(id)).decision).toMatchObject({ kind: 'approve', by: PEOPLE.otherManager });
      const done = await h.waitForPhase(['succeeded', 'failed', 'rolled-back'], 30_000);
      expect(done.phase).toBe('succeeded');
      expect((await h.app.store.events(id)).some((e) => e.type === 'reject-recorded')).toBe(false);
    });

    it('a reject_reason modal submitted by an outsider is refused', async () => {
      const { announcement, id } = await requestAndAnnounce(h.requester, 'v1.2.3');
      const viewsBefore = h.sandbox.slack.views.length;
      await h.releaseManager.press(announcement, 'reject_deployment');
      const modal = await h.releaseManager.latestView('reject_reason', viewsBefore);
      const forged = await h.outsider.submitView(modal, { reason: { value: inputValue.plainText('because') } });
      expect(forged.json).toEqual({
        response_action: 'errors',
        errors: { reason: expect.stringContaining('Only a release manager') },
      });
      await pause(SETTLE_MS);
      expect(await h.app.store.intents(id)).toEqual({});
      expect((await h.app.store.get(id))?.phase).toBe('awaiting-approval');
    });
  });

  describe('help and status', () => {
    it('answers /deploy help (and a bare /deploy) with the usage, in the ack', async () => {
      for (const text of ['help', '']) {
        const usage = await refusedInAck(h.outsider, text);
        expect(usage).toContain('/deploy &lt;service&gt; &lt;version&gt;');
        expect(usage).toContain('/deploy status');
        expect(usage).toContain('/rollback &lt;service&gt;');
      }
      await pause(SETTLE_MS);
      await expectNothingHappened();
    });

    it('/deploy status lists a running deployment, then none once it is done', async () => {
      const idle = await h.outsider.command('/deploy', 'status');
      expect(idle.status).toBe(200);
      const first = await until(
        () => h.sandbox.slack.responses.find((r) => r.user === PEOPLE.outsider),
        3000,
        'the status answer',
      );
      expect(first.body).toMatchObject({ response_type: 'ephemeral', text: 'No active deployments.' });

      const d = await h.deployAndApprove('v1.2.3');
      expect(d.phase).toBe('running');
      const before = h.sandbox.slack.responses.length;
      const ack = await h.outsider.command('/deploy', 'status acme-api');
      expect(ack.status).toBe(200);
      const answer = await until(
        () => h.sandbox.slack.responses.slice(before).find((r) => r.user === PEOPLE.outsider),
        3000,
        'the status answer',
      );
      expect(answer.body.response_type).toBe('ephemeral');
      const text = String(answer.body.text);
      expect(text).toContain('Active deployments');
      expect(text).toContain('acme-api');
      expect(text).toContain('v1.2.3');
      expect(text).toContain(`<@${PEOPLE.requester}>`);
      expect(text).toContain(`p${d.announcementTs?.replace('.', '')}`);

      expect(await refusedInAck(h.outsider, 'status nope')).toContain('unknown service `nope`');

      await h.waitForPhase(['succeeded', 'failed', 'rolled-back'], 30_000);
      const after = h.sandbox.slack.responses.length;
      await h.outsider.command('/deploy', 'status');
      const done = await until(
        () => h.sandbox.slack.responses.slice(after).find((r) => r.user === PEOPLE.outsider),
        3000,
        'the status answer',
      );
      expect(done.body.text).toBe('No active deployments.');
    });
  });
});
