import { afterEach, describe, expect, it } from 'vitest';
import { CHANNELS, PEOPLE } from '../../../sandbox/sandbox.js';
import type { SlackMessage } from '../../../sandbox/slack.js';
import { inputValue } from '../../../sandbox/slack-requests.js';
import { startHarness, until, type Harness } from '../../support/harness.js';

/**
 * Approval rules through signed Slack requests: several sign-offs, each by a distinct person,
 * user groups looked up in Slack, presses at the same moment counted once each, one Reject
 * ending it, and `approval: none`.
 */

const DEPLOYMENT_MANAGERS = 'S0DMS';
const TECH_LEADS = 'S0LEADS';
const PERSON = {
  /** In the deployment managers' group only. */
  manager: 'U0DM1',
  /** In both groups: counts once, toward the first open rule. */
  both: 'U0BOTH',
  lead: 'U0LEAD1',
  otherLead: 'U0LEAD2',
  devops: 'U0OPS1',
};
/** Seed 004's sign-off: a deployment manager, a technical lead and a DevOps engineer. */
const SEED_004_RULES = [
  { name: 'deployment manager', from: [DEPLOYMENT_MANAGERS], count: 1 },
  { name: 'tech lead', from: [TECH_LEADS], count: 1 },
  { name: 'DevOps engineer', from: [PERSON.devops, 'U0OPS2'], count: 1 },
];

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Time for a handler that acked early to finish whatever it would still do. */
const SETTLE_MS = 300;

const hasButton = (message: SlackMessage | undefined, actionId: string): boolean =>
  JSON.stringify(message?.blocks ?? []).includes(`"${actionId}"`);

describe('approval rules', () => {
  let h: Harness;
  afterEach(async () => h.close());

  const start = async (options: Parameters<typeof startHarness>[0]) => {
    h = await startHarness({ bakeSeconds: 1, ...options });
    h.sandbox.slack.setUserGroup(DEPLOYMENT_MANAGERS, [PERSON.manager, PERSON.both]);
    // The requester is a tech lead too: their own deployment never counts.
    h.sandbox.slack.setUserGroup(TECH_LEADS, [PERSON.both, PERSON.lead, PERSON.otherLead, PEOPLE.requester]);
  };

  const request = async (version = 'v1.2.3') => {
    const { view } = await h.requester.requestDeploy(`acme-api ${version}`);
    const submitted = await h.requester.submitChecklist(view);
    expect(submitted.status).toBe(200);
    expect(submitted.body).toBe('');
    const announcement = await h.announcement();
    const d = await h.only();
    return { announcement, id: d.id };
  };

  const announcementNow = (ts: string) => h.sandbox.slack.messages(CHANNELS.deployments).find((m) => m.ts === ts);
  const shown = (ts: string) => JSON.stringify(announcementNow(ts)?.blocks ?? []);
  /** Waits for the announcement to read `text` (the outbox edits it shortly after the press). */
  const announcementShows = (ts: string, text: string) =>
    until(() => shown(ts).includes(text) || undefined, 5000, `the announcement to show ${text}`);

  const ephemeralTo = (user: string, containing: string) =>
    until(
      () => h.sandbox.slack.ephemerals(user).find((e) => e.text.includes(containing)),
      3000,
      `an ephemeral to ${user} saying "${containing}"`,
    );

  const approvals = async (id: string) => ((await h.app.store.intents(id)).approvals ?? []).map((a) => [a.by, a.rule]);
  const approvalsCounted = (id: string, n: number) =>
    until(
      async () => ((await h.app.store.intents(id)).approvals?.length === n ? true : undefined),
      3000,
      `${n} approvals`,
    );
  const press = (user: string, announcement: SlackMessage, action = 'approve_deployment') =>
    h.user(user).press(announcement, action);

  it('three rules of one need three distinct people; one person in two groups counts once; refusals name the open rules', async () => {
    await start({ service: { approval: { rules: SEED_004_RULES } } });
    const { announcement, id } = await request();
    expect((await h.app.store.get(id))?.approvalRules).toEqual(SEED_004_RULES);
    expect(shown(announcement.ts)).toContain('⏳ *deployment manager* (0 of 1): waiting for 1 more');
    expect(hasButton(announcement, 'approve_deployment')).toBe(true);

    // In both groups: counts toward the first open rule, deployment manager, and only once.
    await press(PERSON.both, announcement);
    await approvalsCounted(id, 1);
    await announcementShows(announcement.ts, `✅ *deployment manager* (1 of 1): <@${PERSON.both}>`);
    expect(hasButton(announcementNow(announcement.ts), 'approve_deployment')).toBe(true);
    await press(PERSON.both, announcement);
    const again = await ephemeralTo(PERSON.both, 'Your approval already counts toward *deployment manager*');
    expect(again.text).toContain('Still open: *tech lead* (0 of 1), *DevOps engineer* (0 of 1)');

    // A deployment manager whose only rule is met: refused, naming the open rules.
    await press(PERSON.manager, announcement);
    const notNeeded = await ephemeralTo(PERSON.manager, ':no_entry: Your approval is not needed');
    expect(notNeeded.text).toContain('Still open: *tech lead* (0 of 1), *DevOps engineer* (0 of 1)');
    // The requester is in the tech leads' group, and never counts.
    await press(PEOPLE.requester, announcement);
    await ephemeralTo(PEOPLE.requester, ':no_entry: You requested this deployment');
    // Someone no rule names.
    await press(PEOPLE.outsider, announcement);
    await ephemeralTo(
      PEOPLE.outsider,
      ':no_entry: Only a deployment manager or a tech lead or a DevOps engineer can approve or reject',
    );
    await pause(SETTLE_MS);
    expect(await approvals(id)).toEqual([[PERSON.both, 'deployment manager']]);
    expect((await h.app.store.intents(id)).decision).toBeUndefined();
    expect((await h.app.store.get(id))?.phase).toBe('awaiting-approval');

    await press(PERSON.lead, announcement);
    await approvalsCounted(id, 2);
    await announcementShows(announcement.ts, `✅ *tech lead* (1 of 1): <@${PERSON.lead}>`);
    expect(hasButton(announcementNow(announcement.ts), 'approve_deployment')).toBe(true);
    expect(h.sandbox.elbv2.changes).toHaveLength(0);

    await press(PERSON.devops, announcement);
    const done = await h.waitForPhase(['succeeded', 'failed', 'rolled-back'], 30_000);
    expect(done.phase).toBe('succeeded');
    expect(done.approvals?.map((a) => [a.by, a.rule])).toEqual([
      [PERSON.both, 'deployment manager'],
      [PERSON.lead, 'tech lead'],
      [PERSON.devops, 'DevOps engineer'],
    ]);
    expect(done.approver).toBe(PERSON.devops);
    const events = await h.app.store.events(id);
    expect(events.filter((e) => e.type === 'approve-recorded').map((e) => [e.actor, e.detail])).toEqual([
      [PERSON.both, 'deployment manager'],
      [PERSON.lead, 'tech lead'],
      [PERSON.devops, 'DevOps engineer'],
    ]);
    expect(events.filter((e) => e.type === 'approved')).toHaveLength(1);
    const final = shown(announcement.ts);
    expect(final).toContain(`Approved by <@${PERSON.both}>, <@${PERSON.lead}> and <@${PERSON.devops}>`);
    expect(final).toContain(`✅ *DevOps engineer* (1 of 1): <@${PERSON.devops}> <!date^`);
    expect(final).not.toContain('approve_deployment');
    // Each group was looked up once: the directory caches its members.
    const lookups = h.sandbox.slack.callsTo('usergroups.users.list').map((c) => c.args.usergroup);
    expect(lookups.filter((g) => g === DEPLOYMENT_MANAGERS)).toHaveLength(1);
    expect(lookups.filter((g) => g === TECH_LEADS)).toHaveLength(1);
  });

  it('presses at the same moment count once each, never twice, and none is lost', async () => {
    await start({ catalog: { approval: { rules: SEED_004_RULES } } });
    const { announcement, id } = await request();

    // One person pressing three times at once: one approval.
    const triple = await Promise.all([1, 2, 3].map(() => press(PERSON.manager, announcement)));
    expect(triple.map((r) => r.status)).toEqual([200, 200, 200]);
    await approvalsCounted(id, 1);
    await until(() => h.sandbox.slack.ephemerals(PERSON.manager).length === 2 || undefined, 3000, 'two replies');
    expect(h.sandbox.slack.ephemerals(PERSON.manager).every((e) => e.text.includes('already counts'))).toBe(true);

    // Two tech leads at once for the one tech lead wanted: one counts, the other is told.
    await Promise.all([press(PERSON.lead, announcement), press(PERSON.otherLead, announcement)]);
    await approvalsCounted(id, 2);
    const [, lead] = (await h.app.store.intents(id)).approvals ?? [];
    expect(lead?.rule).toBe('tech lead');
    const loser = lead?.by === PERSON.lead ? PERSON.otherLead : PERSON.lead;
    const told = await ephemeralTo(loser, 'Your approval is not needed');
    expect(told.text).toContain('Still open: *DevOps engineer* (0 of 1)');
    expect(h.sandbox.slack.ephemerals(lead?.by)).toHaveLength(0);

    // The last rule's approver double-clicks: one decision, one run.
    await Promise.all([press(PERSON.devops, announcement), press(PERSON.devops, announcement)]);
    const done = await h.waitForPhase(['succeeded', 'failed', 'rolled-back'], 30_000);
    expect(done.phase).toBe('succeeded');
    expect(done.approvals).toHaveLength(3);
    const events = await h.app.store.events(id);
    expect(events.filter((e) => e.type === 'approve-recorded')).toHaveLength(3);
    expect(events.filter((e) => e.type === 'approved')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'step-succeeded')).toHaveLength(done.steps.length);
    expect(h.sandbox.elbv2.changes).toHaveLength(3);
    expect((await h.app.store.intents(id)).decision).toMatchObject({ kind: 'approve', by: PERSON.devops });
  });

  it('approvers of different rules pressing at once are both counted', async () => {
    await start({
      catalog: {
        approval: {
          rules: [
            { name: 'release manager', from: [PEOPLE.releaseManager], count: 1 },
            { name: 'DevOps engineer', from: [PERSON.devops], count: 1 },
          ],
        },
      },
    });
    const { announcement, id } = await request();
    await Promise.all([press(PEOPLE.releaseManager, announcement), press(PERSON.devops, announcement)]);
    const done = await h.waitForPhase(['succeeded', 'failed', 'rolled-back'], 30_000);
    expect(done.phase).toBe('succeeded');
    expect(done.approvals?.map((a) => a.rule).sort()).toEqual(['DevOps engineer', 'release manager']);
    expect((await h.app.store.events(id)).filter((e) => e.type === 'approved')).toHaveLength(1);
    expect(h.sandbox.slack.ephemerals()).toEqual([]);
  });

  it('one Reject by anyone entitled to approve ends it, whatever was approved before', async () => {
    await start({ service: { approval: { rules: SEED_004_RULES } } });
    const { announcement, id } = await request();
    const staleCopy = structuredClone(announcement);
    await press(PERSON.manager, announcement);
    await approvalsCounted(id, 1);

    // Not entitled: refused, no modal.
    await press(PEOPLE.outsider, announcement, 'reject_deployment');
    await ephemeralTo(PEOPLE.outsider, ':no_entry: Only a deployment manager');
    const viewsBefore = h.sandbox.slack.views.length;
    await press(PERSON.lead, announcement, 'reject_deployment');
    const modal = await h.user(PERSON.lead).latestView('reject_reason', viewsBefore);
    const submitted = await h
      .user(PERSON.lead)
      .submitView(modal, { reason: { value: inputValue.plainText('No load test yet') } });
    expect(submitted.body).toBe('');

    const rejected = await h.waitForPhase(['rejected'], 5000);
    expect(rejected.rejectReason).toBe('No load test yet');
    expect(rejected.approver).toBeUndefined();
    await announcementShows(announcement.ts, `Rejected by <@${PERSON.lead}>`);
    expect(shown(announcement.ts)).not.toContain('approve_deployment');

    await press(PERSON.devops, staleCopy);
    await ephemeralTo(PERSON.devops, 'already rejected');
    await pause(SETTLE_MS);
    expect(await approvals(id)).toEqual([[PERSON.manager, 'deployment manager']]);
    const types = (await h.app.store.events(id)).map((e) => e.type);
    expect(types.filter((t) => t === 'approve-recorded')).toHaveLength(1);
    expect(types).not.toContain('approved');
    expect(types.some((t) => t.startsWith('step-'))).toBe(false);
    expect(h.sandbox.elbv2.changes).toHaveLength(0);
  });

  it('approval: none starts the deployment once the checklist is submitted, without buttons', async () => {
    await start({ catalog: { approval: 'none' } });
    const { announcement, id } = await request();
    expect(hasButton(announcement, 'approve_deployment')).toBe(false);
    expect(JSON.stringify(announcement.blocks)).toContain('No approval needed');
    const done = await h.waitForPhase(['succeeded', 'failed', 'rolled-back'], 30_000);
    expect(done.phase).toBe('succeeded');
    expect(done.approvalRules).toEqual([]);
    expect(done.approver).toBeUndefined();
    expect(done.approvedAt).toBeDefined();
    const types = (await h.app.store.events(id)).map((e) => e.type);
    expect(types).toContain('approved');
    expect(types).not.toContain('approve-recorded');
    expect(h.sandbox.slack.ephemerals()).toEqual([]);
  });

  it("a service's rules win over the catalog's approval: none", async () => {
    await start({
      catalog: { approval: 'none' },
      service: { approval: { rules: [{ name: 'release manager', from: [PEOPLE.otherManager], count: 1 }] } },
    });
    const { announcement, id } = await request();
    expect(hasButton(announcement, 'approve_deployment')).toBe(true);
    await press(PEOPLE.releaseManager, announcement);
    await ephemeralTo(PEOPLE.releaseManager, ':no_entry: Only a release manager');
    await press(PEOPLE.otherManager, announcement);
    const running = await h.waitForPhase(['running', 'succeeded']);
    expect(running.approver).toBe(PEOPLE.otherManager);
    expect(await approvals(id)).toEqual([[PEOPLE.otherManager, 'release manager']]);
  });

  it('a user group Slack cannot look up refuses the press, saying why, and counts nothing', async () => {
    await start({ service: { approval: { rules: [{ name: 'tech lead', from: ['S0GONE'], count: 1 }] } } });
    const { announcement, id } = await request();
    await press(PERSON.lead, announcement);
    const refusal = await ephemeralTo(PERSON.lead, ':no_entry: Slack did not say who is in');
    expect(refusal.text).toContain('no_such_subteam');
    await pause(SETTLE_MS);
    expect(await h.app.store.intents(id)).toEqual({});
    expect((await h.app.store.events(id)).map((e) => e.type)).toEqual(['requested', 'announced']);
  });

  it('a catalog without approval keeps one release manager, shown as one rule', async () => {
    await start({});
    const { announcement, id } = await request();
    expect((await h.app.store.get(id))?.approvalRules).toEqual([
      { name: 'release manager', from: [PEOPLE.releaseManager, PEOPLE.otherManager], count: 1 },
    ]);
    expect(shown(announcement.ts)).toContain('⏳ *release manager* (0 of 1)');
    await press(PEOPLE.releaseManager, announcement);
    const running = await h.waitForPhase(['running', 'succeeded']);
    expect(running.approver).toBe(PEOPLE.releaseManager);
    await announcementShows(announcement.ts, `Approved by <@${PEOPLE.releaseManager}>`);
    expect(h.sandbox.slack.callsTo('usergroups.users.list')).toEqual([]);
  });
});
