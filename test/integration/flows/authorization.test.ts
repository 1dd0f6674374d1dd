import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PEOPLE } from '../../../sandbox/sandbox.js';
import type { SlackMessage } from '../../../sandbox/slack.js';
import { inputValue, type SlackRequestResult } from '../../../sandbox/slack-requests.js';
import type { SlackUser } from '../../../sandbox/slack-user.js';
import { deploymentSeeds, type DeploymentSeeds, type Seeded } from '../../support/deployment-seeds.js';
import { startHarness, until, type Harness } from '../../support/harness.js';

/**
 * The authorization matrix of README.md ("Who may do what"), one test per cell. The bot runs
 * alone (no deployment worker; only the Slack outbox's, which posts what the bot asks for), so
 * Redis changes only through the action under test: the state each
 * action needs (a running deployment, a paused one, an on-call alert) is requested through
 * Slack and then moved on in the store as the worker would have moved it.
 */

const ROLES = ['requester', 'deployer', 'release manager', 'on-call', 'anyone else'] as const;
type Role = (typeof ROLES)[number];

const USERS: Record<Role, string> = {
  requester: PEOPLE.requester,
  deployer: PEOPLE.deployer,
  'release manager': PEOPLE.releaseManager,
  'on-call': PEOPLE.onCallMember,
  'anyone else': PEOPLE.outsider,
};

type Cell = 'allowed' | 'refused';
const Y: Cell = 'allowed';
const N: Cell = 'refused';

/** Same rows, same order, same cells as the README table; a test below holds them equal. */
const MATRIX: [string, Cell[]][] = [
  ['`/deploy <service> <version>`', [Y, Y, Y, N, N]],
  ['`/deploy … dry-run`', [Y, Y, Y, N, N]],
  ['`/deploy status`, `history`, `help`', [Y, Y, Y, Y, Y]],
  ['Approve', [N, N, Y, N, N]],
  ['Reject', [N, N, Y, N, N]],
  ['Approve per rule', [N, Y, Y, Y, N]],
  ['`/shift <service> <percent>`', [Y, Y, Y, N, N]],
  ['`/rollback <service>`', [Y, Y, Y, Y, N]],
  ['Roll back now', [Y, Y, Y, Y, N]],
  ['Resume', [Y, Y, Y, Y, N]],
  ['Acknowledge', [Y, Y, Y, Y, N]],
  ['`/deploy clear`', [N, N, Y, N, N]],
  ['`/deploy freeze`', [N, N, Y, N, N]],
  ['`/deploy unfreeze`', [N, N, Y, N, N]],
  ['`/deploy cancel`', [Y, N, Y, N, N]],
];

/** A service whose approval rules name the deployers, the release managers and the on-call group. */
const RULED_SERVICE = 'acme-web';
const RULES = [
  { name: 'deployer', from: [PEOPLE.requester, PEOPLE.deployer], count: 1 },
  { name: 'release manager', from: [PEOPLE.releaseManager, PEOPLE.otherManager], count: 1 },
  { name: 'on-call', from: [PEOPLE.onCall], count: 1 },
];
const RULE_OF: Partial<Record<string, string>> = {
  [PEOPLE.deployer]: 'deployer',
  [PEOPLE.releaseManager]: 'release manager',
  [PEOPLE.onCallMember]: 'on-call',
};

const P99 = { name: 'p99 latency', query: 'p99:trace.http.request.duration{service:acme-api,env:prod}', max: 0.8 };
const SETTLE_MS = 150;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let h: Harness;
let seeds: DeploymentSeeds;

/** Every key under the prefix with its serialized value: equal snapshots mean nothing changed. */
const snapshot = async (): Promise<Record<string, string>> => {
  const entries = await Promise.all(
    (await h.createdKeys()).map(async (key) => [key, (await h.redis.dumpBuffer(key))?.toString('hex') ?? ''] as const),
  );
  return Object.fromEntries(entries);
};

const ackJson = (result: SlackRequestResult): { response_type?: string; text?: string } => {
  expect(result.status).toBe(200);
  return (result.json ?? {}) as { response_type?: string; text?: string };
};

/** The answer a command sent later through its response_url. */
const responseTo = async (user: SlackUser): Promise<string> =>
  String(
    (await until(() => h.sandbox.slack.responses.find((r) => r.user === user.id), 3000, `a response to ${user.id}`))
      .body.text,
  );

const ephemeralTo = (user: SlackUser) =>
  until(() => h.sandbox.slack.ephemerals(user.id)[0], 3000, `an ephemeral to ${user.id}`);

const messageNow = (ts: string) => h.sandbox.slack.messages().find((m) => m.ts === ts) as SlackMessage;
const hasButton = (message: SlackMessage, actionId: string) =>
  JSON.stringify(message.blocks ?? []).includes(`"${actionId}"`);

const requested = () => seeds.requested();
/** A deployment of the ruled service, requested through Slack by the requester. */
const requestedWithRules = async (): Promise<Seeded> => {
  const requester = h.user(PEOPLE.requester);
  const { view } = await requester.requestDeploy(`${RULED_SERVICE} v1.2.3`);
  expect((await requester.submitChecklist(view)).body).toBe('');
  const announcement = await h.announcement();
  const d = await until(
    async () => {
      const [latest] = await h.app.store.recent(1);
      return latest?.service === RULED_SERVICE && latest.announcementTs && (await h.app.queue.queue.getJob(latest.id))
        ? latest
        : undefined;
    },
    3000,
    'the announced deployment',
  );
  return { d, announcement };
};
const running = () => seeds.running();
const monitoring = () => seeds.monitoring();
const paused = () => seeds.paused();

interface Action {
  /** How a refusal reaches the user: in the command's ack, or as an ephemeral message. */
  refusedBy: 'ack' | 'ephemeral';
  seed?: () => Promise<Seeded>;
  perform: (user: SlackUser, seeded: Seeded) => Promise<SlackRequestResult>;
  /** What an allowed user's action must have done. */
  effect: (user: SlackUser, seeded: Seeded, result: SlackRequestResult) => Promise<void>;
}

const buttonPressed = async (seeded: Seeded, actionId: string) => {
  const alert = await until(
    () =>
      hasButton(messageNow(seeded.alert?.ts as string), actionId) ? undefined : messageNow(seeded.alert?.ts as string),
    3000,
    'the buttons replaced',
  );
  expect(hasButton(alert, 'rollback_now')).toBe(false);
};

const ACTIONS: Record<string, Action> = {
  '`/deploy <service> <version>`': {
    refusedBy: 'ack',
    perform: (user) => user.command('/deploy', 'acme-api v1.2.3'),
    effect: async (user, _s, result) => {
      expect(result.body).toBe('');
      expect(JSON.stringify((await user.latestView('deploy_checklist')).blocks[0])).toContain('v1.2.3');
    },
  },
  '`/deploy … dry-run`': {
    refusedBy: 'ack',
    perform: (user) => user.command('/deploy', 'acme-api v1.2.3 dry-run'),
    effect: async (_u, _s, result) =>
      expect(ackJson(result)).toMatchObject({
        response_type: 'in_channel',
        text: expect.stringContaining('Dry run: acme-api'),
      }),
  },
  '`/deploy status`, `history`, `help`': {
    refusedBy: 'ack',
    seed: requested,
    perform: async (user) => {
      expect(ackJson(await user.command('/deploy', 'help')).text).toContain('/deploy status');
      await user.command('/deploy', 'history acme-api');
      expect(await responseTo(user)).toContain('`v1.2.3` by <@U0DEV1>');
      return user.command('/deploy', 'status');
    },
    effect: async (user) => {
      await until(
        () => (h.sandbox.slack.responses.filter((r) => r.user === user.id).length === 2 ? true : undefined),
        3000,
        'the status answer',
      );
      expect(h.sandbox.slack.responses.filter((r) => r.user === user.id)[1]?.body.text).toContain('Active deployments');
    },
  },
  Approve: {
    refusedBy: 'ephemeral',
    seed: requested,
    perform: (user, { announcement }) => user.press(announcement as SlackMessage, 'approve_deployment'),
    effect: async (user, { d, announcement }) => {
      const updated = await until(
        () =>
          hasButton(messageNow(announcement?.ts as string), 'approve_deployment')
            ? undefined
            : messageNow(announcement?.ts as string),
        3000,
        'the decision shown',
      );
      expect(JSON.stringify(updated.blocks)).toContain(`Approved by <@${user.id}>`);
      expect((await h.app.store.intents(d?.id as string)).decision).toMatchObject({ kind: 'approve', by: user.id });
    },
  },
  'Approve per rule': {
    refusedBy: 'ephemeral',
    seed: requestedWithRules,
    perform: (user, { announcement }) => user.press(announcement as SlackMessage, 'approve_deployment'),
    effect: async (user, { d, announcement }) => {
      const rule = RULE_OF[user.id];
      await until(
        () =>
          JSON.stringify(messageNow(announcement?.ts as string).blocks).includes(`*${rule}* (1 of 1): <@${user.id}>`),
        3000,
        'the approval shown',
      );
      // Two rules remain open: the buttons stay and nothing is decided yet.
      expect(hasButton(messageNow(announcement?.ts as string), 'approve_deployment')).toBe(true);
      const intents = await h.app.store.intents(d?.id as string);
      expect(intents.approvals).toEqual([{ by: user.id, rule, at: expect.any(Number) }]);
      expect(intents.decision).toBeUndefined();
    },
  },
  Reject: {
    refusedBy: 'ephemeral',
    seed: requested,
    perform: (user, { announcement }) => user.press(announcement as SlackMessage, 'reject_deployment'),
    effect: async (user, { d }) => {
      const modal = await user.latestView('reject_reason');
      expect((await user.submitView(modal, { reason: { value: inputValue.plainText('not this week') } })).body).toBe(
        '',
      );
      expect((await h.app.store.intents(d?.id as string)).decision).toMatchObject({
        kind: 'reject',
        by: user.id,
        reason: 'not this week',
      });
    },
  },
  '`/shift <service> <percent>`': {
    refusedBy: 'ack',
    seed: running,
    perform: (user) => user.command('/shift', 'acme-api 50'),
    effect: async (user, { d }) => {
      expect(await responseTo(user)).toContain('50% on green');
      expect((await h.app.store.intents(d?.id as string)).hold).toMatchObject({ weight: 50, by: user.id });
    },
  },
  '`/rollback <service>`': {
    refusedBy: 'ack',
    seed: running,
    perform: (user) => user.command('/rollback', 'acme-api error spike'),
    effect: async (user, { d }) => {
      expect(await responseTo(user)).toContain('Rolling back acme-api v1.2.3');
      expect((await h.app.store.intents(d?.id as string)).rollback).toMatchObject({
        by: user.id,
        reason: 'error spike',
      });
    },
  },
  'Roll back now': {
    refusedBy: 'ephemeral',
    seed: monitoring,
    perform: (user, { alert }) => user.press(alert as SlackMessage, 'rollback_now'),
    effect: async (user, seeded) => {
      await buttonPressed(seeded, 'rollback_now');
      expect((await h.app.store.intents(seeded.d?.id as string)).rollback).toMatchObject({ by: user.id });
    },
  },
  Resume: {
    refusedBy: 'ephemeral',
    seed: paused,
    perform: (user, { alert }) => user.press(alert as SlackMessage, 'resume_deployment'),
    effect: async (user, seeded) => {
      await buttonPressed(seeded, 'resume_deployment');
      expect((await h.app.store.intents(seeded.d?.id as string)).resume).toMatchObject({ by: user.id });
    },
  },
  Acknowledge: {
    refusedBy: 'ephemeral',
    seed: monitoring,
    perform: (user, { alert }) => user.press(alert as SlackMessage, 'acknowledge_alert'),
    effect: async (user, seeded) => {
      await buttonPressed(seeded, 'acknowledge_alert');
      const events = await h.app.store.events(seeded.d?.id as string);
      expect(events.filter((e) => e.type === 'alert-acknowledged')).toEqual([
        expect.objectContaining({ actor: user.id }),
      ]);
      expect((await h.app.store.intents(seeded.d?.id as string)).rollback).toBeUndefined();
    },
  },
  '`/deploy clear`': {
    refusedBy: 'ack',
    seed: async () => {
      await h.app.store.blockVersion('acme-api', 'v1.2.3', {
        deploymentId: 'acme-api-earlier',
        reason: 'p99 breach',
        at: Date.now(),
      });
      return {};
    },
    perform: (user) => user.command('/deploy', 'clear acme-api v1.2.3 https://wiki.example/rca/42'),
    effect: async (user) => {
      expect(await responseTo(user)).toContain('may be deployed again');
      expect(await h.app.store.blockedVersion('acme-api', 'v1.2.3')).toBeUndefined();
    },
  },
  '`/deploy freeze`': {
    refusedBy: 'ack',
    perform: (user) => user.command('/deploy', 'freeze acme-api quarter close'),
    effect: async (user) => {
      expect(await responseTo(user)).toContain('frozen');
      expect(await h.app.store.freezeOf('acme-api')).toMatchObject({ by: user.id, reason: 'quarter close' });
    },
  },
  '`/deploy unfreeze`': {
    refusedBy: 'ack',
    seed: async () => {
      await h.app.store.freeze('all', { reason: 'incident', by: PEOPLE.otherManager, at: Date.now() });
      return {};
    },
    perform: (user) => user.command('/deploy', 'unfreeze all'),
    effect: async (user) => {
      expect(await responseTo(user)).toContain('no longer frozen');
      expect(await h.app.store.freezeOf('acme-api')).toBeUndefined();
    },
  },
  '`/deploy cancel`': {
    refusedBy: 'ack',
    seed: requested,
    perform: (user) => user.command('/deploy', 'cancel acme-api'),
    effect: async (user, { d }, result) => {
      expect(ackJson(result).text).toContain('Cancelling acme-api v1.2.3');
      expect((await h.app.store.intents(d?.id as string)).cancel).toMatchObject({ by: user.id });
    },
  },
};

const CELLS = MATRIX.flatMap(([action, cells]) => cells.map((cell, i) => ({ action, role: ROLES[i] as Role, cell })));

describe('who may do what (README matrix)', () => {
  beforeAll(async () => {
    h = await startHarness({
      roles: { bot: true, worker: false },
      slackOutbox: true,
      service: {
        monitorSeconds: 60,
        rollbackWindowSeconds: 0,
        gates: { intervalSeconds: 1, failureLimit: 0, inconclusiveLimit: 3, metrics: [P99] },
      },
      catalog: {
        services: {
          [RULED_SERVICE]: {
            strategy: 'rolling',
            deployers: [PEOPLE.requester, PEOPLE.deployer],
            approval: { rules: RULES },
            workload: {
              namespace: 'prod',
              deployments: { main: RULED_SERVICE },
              container: 'web',
              image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/acme-web',
            },
          },
        },
      },
    });
    seeds = deploymentSeeds(h);
  });
  afterAll(async () => h.close());

  beforeEach(async () => {
    const keys = await h.createdKeys();
    if (keys.length > 0) await h.redis.del(...keys);
    h.sandbox.slack.reset();
  });

  it('mirrors the table in README.md', async () => {
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    const lines = readme.slice(readme.indexOf('### Who may do what')).split('\n');
    const table = lines.slice(lines.findIndex((line) => line.startsWith('|')));
    const rows = table
      .slice(
        0,
        table.findIndex((line) => !line.startsWith('|')),
      )
      .filter((line) => !/^\|[-| ]+\|$/.test(line))
      .map((line) =>
        line
          .slice(1, -1)
          .split(' | ')
          .map((cell) => cell.trim()),
      );
    expect(rows[0]).toEqual(['action', ...ROLES]);
    expect(rows.slice(1)).toEqual(MATRIX.map(([action, cells]) => [action, ...cells]));
  });

  it.each(CELLS)('$action by $role: $cell', async ({ action, role, cell }) => {
    const spec = ACTIONS[action] as Action;
    const user = h.user(USERS[role]);
    const seeded = (await spec.seed?.()) ?? {};
    const before = await snapshot();
    const callsBefore = h.sandbox.slack.calls.length;
    const result = await spec.perform(user, seeded);
    expect(result.status).toBe(200);

    if (cell === 'allowed') {
      await spec.effect(user, seeded, result);
      expect(h.sandbox.slack.ephemerals(user.id).filter((e) => e.text.includes(':no_entry:'))).toEqual([]);
      return;
    }
    const refusal = spec.refusedBy === 'ack' ? ackJson(result) : await ephemeralTo(user);
    if (spec.refusedBy === 'ack') expect(refusal).toMatchObject({ response_type: 'ephemeral' });
    expect(refusal.text).toMatch(/^:no_entry: .*(may|can|not a deployer)/);
    await pause(SETTLE_MS);
    expect(await snapshot()).toEqual(before);
    const madeSince = h.sandbox.slack.calls.slice(callsBefore).map((c) => c.method);
    // Only reads and the refusal itself: the on-call lookup may be among them.
    expect(madeSince.filter((m) => m !== 'chat.postEphemeral' && m !== 'usergroups.users.list')).toEqual([]);
    expect(h.sandbox.slack.responses).toEqual([]);
  });
});
