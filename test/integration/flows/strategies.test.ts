import { afterEach, describe, expect, it } from 'vitest';
import type { Deployment } from '../../../src/domain/deployment.js';
import { CHANNELS, PEOPLE, SANDBOX_IMAGE } from '../../../sandbox/sandbox.js';
import type { SlackMessage } from '../../../sandbox/slack.js';
import type { SlackRequestResult } from '../../../sandbox/slack-requests.js';
import type { SlackUser } from '../../../sandbox/slack-user.js';
import { startHarness, until, type Harness } from '../../support/harness.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Time for a handler that acked early to finish whatever it would still do. */
const SETTLE_MS = 300;

/** Seed 004's canary stages, short bakes; no metrics of its own, so the default success-rate gate applies. */
const CANARY = {
  stages: [
    { weight: 5, bakeSeconds: 1 },
    { weight: 25, bakeSeconds: 1 },
    { weight: 50, bakeSeconds: 1 },
    { weight: 100, bakeSeconds: 0 },
  ],
  gates: { intervalSeconds: 0.3, failureLimit: 0, inconclusiveLimit: 3, metrics: [] },
};

/** The green weight after each ELB change, in order. */
const green = (h: Harness) => h.sandbox.elbv2.changes.map((c) => c.weights[h.sandbox.targetGroups.green]);

const hasButton = (message: SlackMessage | undefined, actionId: string): boolean =>
  JSON.stringify(message?.blocks ?? []).includes(`"${actionId}"`);

const announcementNow = (h: Harness, ts: string) =>
  h.sandbox.slack.messages(CHANNELS.deployments).find((m) => m.ts === ts);

/** Replies in the deployment's thread (the announcement itself left out). */
const replies = (h: Harness, d: Deployment): SlackMessage[] =>
  h.sandbox.slack.thread(CHANNELS.deployments, d.announcementTs as string).filter((m) => m.ts !== d.announcementTs);

/** What a slash command's HTTP ack carries when the handler answers in it. */
const ackJson = (result: SlackRequestResult): { response_type?: string; text?: string } => {
  expect(result.status).toBe(200);
  expect(result.json, `ack body: ${result.body}`).toBeTypeOf('object');
  return result.json as { response_type?: string; text?: string };
};

/** A refusal answered in the ack itself, as an ephemeral message. */
const ackRefusal = (result: SlackRequestResult): string => {
  const body = ackJson(result);
  expect(body.response_type).toBe('ephemeral');
  return body.text ?? '';
};

/**
 * Runs a command whose answer comes later through response_url (the ack is empty) and returns
 * that answer's text.
 */
const answerTo = async (h: Harness, user: SlackUser, command: string, text: string): Promise<string> => {
  const before = h.sandbox.slack.responses.length;
  const ack = await user.command(command, text);
  expect(ack.status).toBe(200);
  expect(ack.body, `${command} ${text} was answered in the ack`).toBe('');
  const post = await until(
    () => h.sandbox.slack.responses.slice(before).find((r) => r.user === user.id),
    5000,
    `the answer to ${command} ${text}`,
  );
  expect(post.body.response_type).toBe('ephemeral');
  return String(post.body.text ?? '');
};

const waitForBake = (h: Harness, id: string, weight: number, timeoutMs = 15_000) =>
  until(
    async () => {
      const d = await h.app.store.get(id);
      const step = d?.steps[d.stepIndex];
      return d?.phase === 'running' && step?.kind === 'bake' && step.weight === weight ? d : undefined;
    },
    timeoutMs,
    `the ${weight}% bake`,
  );

const threadMessage = (h: Harness, d: Deployment, containing: string) =>
  until(
    () => replies(h, d).find((m) => m.text.includes(containing)),
    5000,
    `a thread reply containing "${containing}"`,
  );

const createdKeys = (h: Harness): Promise<string[]> => h.createdKeys();

describe('canary with the default success-rate gate', () => {
  let h: Harness;
  afterEach(async () => h.close());

  it('walks 5/25/50/100 while the success rate holds above 98% and ends green 100 / blue 0', async () => {
    h = await startHarness({ service: CANARY });
    // The default gate's query names both hits and errors; the latest matching rule wins.
    h.sandbox.datadog.setMetric(/hits/, 0.995);
    const started = await h.deployAndApprove('v1.5.0', 'acme-api v1.5.0 canary');
    expect(started.strategy).toBe('canary');

    const done = await h.waitForPhase(['succeeded', 'rolled-back', 'failed'], 30_000);
    expect(done.phase, done.failureReason ?? done.rollbackReason).toBe('succeeded');
    expect(green(h)).toEqual([5, 25, 50, 100]);
    expect(h.sandbox.weights()).toEqual({ blue: 0, green: 100 });
    expect(h.sandbox.kubernetes.imageOf('prod', 'acme-api-green', 'api')).toBe(`${SANDBOX_IMAGE}:v1.5.0`);

    // The gate really ran, against the new colour, and passed every time.
    const queries = h.sandbox.datadog.requests.map((r) => r.query.get('query') ?? '');
    expect(queries.some((q) => q.includes('trace.http.request.hits{service:acme-api,color:green}'))).toBe(true);
    const gateRuns = (await h.app.store.events(done.id)).filter((e) => e.type === 'gate-run');
    expect(gateRuns.length).toBeGreaterThanOrEqual(3);
    expect(gateRuns.every((e) => e.detail === 'pass')).toBe(true);
    expect(JSON.stringify(gateRuns[0]?.data)).toContain('success rate');

    const thread = replies(h, done)
      .map((m) => m.text)
      .join('\n');
    expect(thread).toContain('shift traffic to 5%');
    expect(thread).toContain('shift traffic to 25%');
    await threadMessage(h, done, 'Deployment Complete');
    expect(await h.app.store.activeId('acme-api')).toBeUndefined();
  });

  it('rolls back at the 5% stage when the success rate is 90%, naming the gate and its 0.98 threshold', async () => {
    h = await startHarness({ service: CANARY });
    h.sandbox.datadog.setMetric(/hits/, 0.9);
    await h.deployAndApprove('v1.5.0', 'acme-api v1.5.0 canary');

    const done = await h.waitForPhase(['succeeded', 'rolled-back', 'failed'], 30_000);
    expect(done.phase).toBe('rolled-back');
    expect(green(h)).toEqual([5, 0]);
    expect(h.sandbox.weights()).toEqual({ blue: 100, green: 0 });
    expect(done.rollbackReason).toContain('success rate');

    const rollback = await threadMessage(h, done, 'Deployment Rolled Back');
    expect(rollback.text).toContain('success rate');
    expect(rollback.text).toContain('0.98');
    expect(rollback.text).toContain('0.9');
    expect(rollback.text).toContain('trace.http.request.hits');
    expect((await h.app.store.events(done.id)).some((e) => e.type === 'gate-run' && e.detail === 'breach')).toBe(true);
  });
});

describe('/shift', () => {
  let h: Harness;
  afterEach(async () => h.close());

  it('holds at the given weight past the bake, then resume continues to 100%', async () => {
    h = await startHarness({ bakeSeconds: 2 });
    const started = await h.deployAndApprove('v1.5.0');
    await waitForBake(h, started.id, 10);

    const held = await answerTo(h, h.requester, '/shift', 'acme-api 30');
    expect(held).toContain('30%');
    expect(held).toContain('/shift acme-api resume');
    await until(() => (h.sandbox.weights().green === 30 ? true : undefined), 5000, 'green at 30%');
    expect(h.sandbox.weights()).toEqual({ blue: 70, green: 30 });

    // Longer than what was left of the 2 s bake: no automatic move to 50%.
    await pause(3000);
    expect(h.sandbox.weights()).toEqual({ blue: 70, green: 30 });
    expect(green(h)).toEqual([10, 30]);
    const during = await h.app.store.get(started.id);
    expect(during?.phase).toBe('running');
    expect(during?.held).toMatchObject({ weight: 30, by: PEOPLE.requester });
    const holding = await threadMessage(h, started, 'Holding at 30%');
    expect(holding.text).toContain(`<@${PEOPLE.requester}>`);
    const events = (await h.app.store.events(started.id)).map((e) => e.type);
    expect(events).toContain('hold-requested');
    expect(events).toContain('held');

    const resumed = await answerTo(h, h.requester, '/shift', 'acme-api resume');
    expect(resumed).toContain('continues');
    const done = await h.waitForPhase(['succeeded', 'rolled-back', 'failed'], 30_000);
    expect(done.phase).toBe('succeeded');
    expect(h.sandbox.weights()).toEqual({ blue: 0, green: 100 });
    expect(green(h)).toEqual([10, 30, 50, 100]);
    expect((await h.app.store.events(started.id)).map((e) => e.type)).toContain('hold-released');
    await threadMessage(h, done, 'Automatic progression resumed');
  });

  it('is refused with its reason: no active deployment, an outsider, a bad percentage', async () => {
    h = await startHarness({ bakeSeconds: 1 });
    expect(await answerTo(h, h.requester, '/shift', 'acme-api 30')).toContain(
      'acme-api has no active deployment to shift',
    );
    expect(await answerTo(h, h.requester, '/shift', 'acme-api resume')).toContain(
      'acme-api has no active deployment to shift',
    );

    expect(ackRefusal(await h.outsider.command('/shift', 'acme-api 30'))).toContain(
      "you may not shift acme-api's traffic",
    );
    for (const value of ['150', 'abc']) {
      const text = ackRefusal(await h.requester.command('/shift', `acme-api ${value}`));
      expect(text).toContain(`\`${value}\` is not a percentage`);
      expect(text).toContain('0 to 100');
    }
    expect(ackRefusal(await h.requester.command('/shift', 'nope 30'))).toContain('unknown service `nope`');

    await pause(SETTLE_MS);
    expect(h.sandbox.elbv2.changes).toHaveLength(0);
    expect(await createdKeys(h)).toEqual([]);
  });
});

describe('deploy windows', () => {
  let h: Harness;
  afterEach(async () => h.close());

  it('refuses a deploy on a Friday with the next open slot; a hotfix with a justification goes through', async () => {
    // Friday 20 Nov 2026, 12:00 in New York (EST, UTC-5).
    const offset = Date.parse('2026-11-20T17:00:00Z') - Date.now();
    h = await startHarness({
      bakeSeconds: 1,
      clock: () => Date.now() + offset,
      catalog: { window: { timezone: 'America/New_York', blockedDays: ['Fri'], blockedHours: ['09:00-11:00'] } },
    });

    const refusal = await answerTo(h, h.requester, '/deploy', 'acme-api v1.5.0');
    expect(refusal).toContain('deploys are blocked on Fri');
    expect(refusal).toContain('next open slot: Sat 00:00 America/New_York');
    expect(refusal).toContain('hotfix');
    await pause(SETTLE_MS);
    expect(h.sandbox.slack.views).toHaveLength(0);
    expect(await createdKeys(h)).toEqual([]);

    const { view } = await h.requester.requestDeploy('acme-api v1.5.0 hotfix');
    expect(JSON.stringify(view.blocks)).toContain('"justification"');
    expect(JSON.stringify(view.blocks)).toContain('HOTFIX');
    const submitted = await h.requester.submitChecklist(view, {
      justification: 'Card payments failing for every EU customer since 11:40',
    });
    expect(submitted.status).toBe(200);
    expect(submitted.body).toBe('');

    const announcement = await h.announcement();
    expect(announcement.text).toContain('HOTFIX');
    expect(JSON.stringify(announcement.blocks)).toContain('Card payments failing for every EU customer since 11:40');
    const requested = await h.only();
    expect(requested.hotfix).toBe(true);
    expect(requested.justification).toBe('Card payments failing for every EU customer since 11:40');
    expect((await h.app.store.events(requested.id)).find((e) => e.type === 'requested')?.data).toMatchObject({
      hotfix: true,
      justification: 'Card payments failing for every EU customer since 11:40',
    });

    await h.releaseManager.press(announcement, 'approve_deployment');
    const done = await h.waitForPhase(['succeeded', 'rolled-back', 'failed'], 30_000);
    expect(done.phase).toBe('succeeded');
    expect(h.sandbox.weights()).toEqual({ blue: 0, green: 100 });
    expect(green(h)).toEqual([10, 50, 100]);
  });
});

describe('freeze', () => {
  let h: Harness;
  afterEach(async () => h.close());

  it('a release manager freezes a service or all; deploys are refused naming why and who; unfreeze lifts it', async () => {
    h = await startHarness({ bakeSeconds: 1 });

    // Only release managers may freeze or unfreeze.
    expect(ackRefusal(await h.requester.command('/deploy', 'freeze acme-api because I said so'))).toContain(
      'only a release manager can freeze',
    );
    expect(ackRefusal(await h.requester.command('/deploy', 'unfreeze acme-api'))).toContain(
      'only a release manager can unfreeze',
    );
    await pause(SETTLE_MS);
    expect(await createdKeys(h)).toEqual([]);

    expect(await answerTo(h, h.releaseManager, '/deploy', 'freeze acme-api database migration running')).toContain(
      'acme-api is frozen: database migration running',
    );
    const refused = await answerTo(h, h.requester, '/deploy', 'acme-api v1.5.0');
    expect(refused).toContain('acme-api is frozen');
    expect(refused).toContain(`<@${PEOPLE.releaseManager}>`);
    expect(refused).toContain('database migration running');
    // Not even a hotfix gets through a freeze.
    expect(await answerTo(h, h.requester, '/deploy', 'acme-api v1.5.0 hotfix')).toContain('database migration running');
    // The requester cannot lift it.
    expect(ackRefusal(await h.requester.command('/deploy', 'unfreeze acme-api'))).toContain('only a release manager');
    await pause(SETTLE_MS);
    expect(h.sandbox.slack.views).toHaveLength(0);

    expect(await answerTo(h, h.releaseManager, '/deploy', 'unfreeze acme-api')).toContain(
      'acme-api is no longer frozen',
    );
    const opened = await h.requester.requestDeploy('acme-api v1.5.0');
    expect(JSON.stringify(opened.view.blocks[0])).toContain('v1.5.0');

    expect(await answerTo(h, h.otherManager, '/deploy', 'freeze all end of quarter')).toContain(
      'All services are frozen',
    );
    const all = await answerTo(h, h.requester, '/deploy', 'acme-api v1.5.1');
    expect(all).toContain('all services are frozen');
    expect(all).toContain(`<@${PEOPLE.otherManager}>`);
    expect(all).toContain('end of quarter');
    expect(await answerTo(h, h.releaseManager, '/deploy', 'unfreeze all')).toContain('all is no longer frozen');
    expect(await answerTo(h, h.releaseManager, '/deploy', 'unfreeze all')).toContain('was not frozen');

    expect(await h.app.store.recent(10)).toEqual([]);
  });

  it('never blocks a rollback', async () => {
    h = await startHarness({ bakeSeconds: 2 });
    const started = await h.deployAndApprove('v1.5.0');
    await waitForBake(h, started.id, 10);
    await answerTo(h, h.releaseManager, '/deploy', 'freeze acme-api incident in progress');

    expect(await answerTo(h, h.requester, '/rollback', 'acme-api errors on checkout')).toContain(
      'Rolling back acme-api v1.5.0',
    );
    const done = await h.waitForPhase(['rolled-back', 'succeeded', 'failed'], 20_000);
    expect(done.phase).toBe('rolled-back');
    expect(done.rollbackBy).toBe(PEOPLE.requester);
    expect(h.sandbox.weights()).toEqual({ blue: 100, green: 0 });
    expect(green(h)).toEqual([10, 0]);
    // The freeze is still there afterwards.
    expect(await answerTo(h, h.requester, '/deploy', 'acme-api v1.5.1')).toContain('incident in progress');
  });
});

describe('dry run', () => {
  let h: Harness;
  afterEach(async () => h.close());

  it('answers in the channel with the steps, bakes and expected duration, and changes nothing', async () => {
    h = await startHarness({ bakeSeconds: 60 });
    const body = ackJson(await h.requester.command('/deploy', 'acme-api v1.5.0 dry-run'));
    expect(body.response_type).toBe('in_channel');
    const text = body.text ?? '';
    expect(text).toContain('Dry run');
    expect(text).toContain('v1.5.0');
    expect(text).toContain('blue-green');
    expect(text).toContain('nothing will change');
    expect(text).toMatch(
      /preflight[\s\S]*deploy new version[\s\S]*health check[\s\S]*smoke tests[\s\S]*shift traffic to 10%[\s\S]*bake at 10% for 1m[\s\S]*shift traffic to 50%[\s\S]*bake at 50% for 1m[\s\S]*shift traffic to 100%/,
    );
    expect(text).toContain(`${SANDBOX_IMAGE}:v1.5.0`);
    expect(text).toContain('Expected duration:* ~2m');
    expect(text).toContain(`<@${PEOPLE.releaseManager}>`);

    await pause(SETTLE_MS);
    expect(await createdKeys(h)).toEqual([]);
    expect(h.sandbox.elbv2.requests).toHaveLength(0);
    expect(h.sandbox.kubernetes.requests).toHaveLength(0);
    expect(h.sandbox.kubernetes.patches).toHaveLength(0);
    expect(h.sandbox.datadog.requests).toHaveLength(0);
    expect(h.sandbox.slack.views).toHaveLength(0);
    expect(h.sandbox.slack.messages()).toHaveLength(0);
    expect(h.sandbox.slack.responses).toHaveLength(0);
    expect(await h.app.store.recent(10)).toEqual([]);
  });

  it('a canary dry run shows the stages and the gate the run would apply (default 98% success rate)', async () => {
    h = await startHarness({ service: CANARY });
    const body = ackJson(await h.requester.command('/deploy', 'acme-api v1.5.0 canary dry-run'));
    expect(body.response_type).toBe('in_channel');
    const text = body.text ?? '';
    expect(text).toContain('(canary)');
    expect(text).toMatch(
      /shift traffic to 5%[\s\S]*shift traffic to 25%[\s\S]*shift traffic to 50%[\s\S]*shift traffic to 100%/,
    );
    expect(text).toContain('Expected duration:* ~3s');
    // the dry run lists the gates with their queries and thresholds — for a canary
    // with no metrics of its own, the success-rate gate the deployment will actually run.
    expect(text).toContain('success rate');
    expect(text).toContain('trace.http.request.hits{service:acme-api');
    expect(text).toContain('≥ 0.98');
    expect(text).not.toContain('none configured');
    await pause(SETTLE_MS);
    expect(await createdKeys(h)).toEqual([]);
  });
});

describe('approval expiry', () => {
  let h: Harness;
  afterEach(async () => h.close());

  it('expires an unapproved deployment, replaces the buttons, releases the service and refuses a later Approve', async () => {
    h = await startHarness({ bakeSeconds: 1, catalog: { approvalTimeoutSeconds: 1 } });
    const { view } = await h.requester.requestDeploy('acme-api v1.5.0');
    const submitted = await h.requester.submitChecklist(view);
    expect(submitted.body).toBe('');
    const announcement = await h.announcement();
    expect(hasButton(announcement, 'approve_deployment')).toBe(true);
    // What a release manager who has not reloaded Slack still sees.
    const staleCopy = structuredClone(announcement);

    const expired = await h.waitForPhase(['expired'], 5000);
    expect(expired.approver).toBeUndefined();
    await until(
      async () => ((await h.app.store.activeId('acme-api')) === undefined ? true : undefined),
      3000,
      'the lock to be released',
    );
    expect((await h.app.store.intents(expired.id)).decision).toMatchObject({ kind: 'expire' });
    expect((await h.app.store.events(expired.id)).map((e) => e.type)).toContain('expired');

    // A press on the stale buttons changes nothing.
    await h.releaseManager.press(staleCopy, 'approve_deployment');
    const refusal = await until(
      () => h.sandbox.slack.ephemerals(PEOPLE.releaseManager).find((e) => e.text.includes('expired')),
      3000,
      'the refusal',
    );
    expect(refusal.text).toContain('already expired');
    await pause(SETTLE_MS);
    expect((await h.app.store.get(expired.id))?.phase).toBe('expired');
    expect(h.sandbox.elbv2.changes).toHaveLength(0);
    expect(h.sandbox.kubernetes.patches).toHaveLength(0);

    // The service is free again.
    const again = await h.requester.requestDeploy('acme-api v1.5.1');
    expect(JSON.stringify(again.view.blocks[0])).toContain('v1.5.1');

    // on a decision (expiry included) the buttons are replaced by what happened.
    const shown = await until(
      () => {
        const now = announcementNow(h, announcement.ts);
        return now && !hasButton(now, 'approve_deployment') ? now : undefined;
      },
      3000,
      "the announcement's Approve/Reject buttons to be replaced by an Expired line",
    );
    expect(hasButton(shown, 'reject_deployment')).toBe(false);
    expect(JSON.stringify(shown.blocks)).toContain('Expired');
  });
});
