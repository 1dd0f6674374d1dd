import { WebClient } from '@slack/web-api';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { onCallDirectory, rollbackPermission } from '../../../commands/on-call.js';
import type { Catalog, ServiceConfig } from '../../../src/runbook/catalog.js';
import { startSlackStandIn, type SlackStandIn } from '../../../sandbox/slack.js';
import { parseCatalog } from '../../../src/runbook/catalog.js';
import { specCatalogInput } from '../../unit/fixtures.js';

const log = pino({ level: 'silent' });

describe('on-call as a Slack user group (usergroups.users.list)', () => {
  let slack: SlackStandIn;
  let client: WebClient;
  let now = 0;
  const clock = () => now;

  const catalogWith = (onCall: string): Catalog => {
    const input = specCatalogInput();
    input.slack.onCall = onCall;
    return parseCatalog(input);
  };
  const catalog = catalogWith('S0ONCALL');
  const service = catalog.services['acme-api'] as ServiceConfig; // deployers: [U0DEV1]
  const lookups = () => slack.callsTo('usergroups.users.list');

  beforeAll(async () => {
    slack = await startSlackStandIn();
    slack.setUserGroup('S0ONCALL', ['U0ONCALL1', 'U0ONCALL2']);
    client = new WebClient(slack.token, { slackApiUrl: slack.url, retryConfig: { retries: 0 } });
  });
  afterAll(async () => slack.close());
  beforeEach(() => {
    slack.reset();
    now = 1_000_000;
  });

  it('knows the members, asks Slack once per minute, and once for presses that arrive together', async () => {
    const onCall = onCallDirectory(client, { catalog, clock });
    expect(
      await Promise.all([onCall.includes('U0ONCALL1'), onCall.includes('U0ONCALL2'), onCall.includes('U0OUTSIDER')]),
    ).toEqual([true, true, false]);
    expect(lookups()).toHaveLength(1);
    expect(lookups()[0]?.args).toMatchObject({ usergroup: 'S0ONCALL' });

    now += 59_000;
    expect(await onCall.includes('U0ONCALL1')).toBe(true);
    expect(lookups()).toHaveLength(1);

    // The rotation changed: after the minute, the new member counts and the old one does not.
    slack.setUserGroup('S0ONCALL', ['U0ONCALL3']);
    now += 2_000;
    expect(await onCall.includes('U0ONCALL3')).toBe(true);
    expect(await onCall.includes('U0ONCALL1')).toBe(false);
    expect(lookups()).toHaveLength(2);
    slack.setUserGroup('S0ONCALL', ['U0ONCALL1', 'U0ONCALL2']);
  });

  it('an on-call named as a user is compared directly, without asking Slack', async () => {
    const onCall = onCallDirectory(client, { catalog: catalogWith('U0PAGER'), clock });
    expect(await onCall.includes('U0PAGER')).toBe(true);
    expect(await onCall.includes('U0ONCALL1')).toBe(false);
    expect(lookups()).toHaveLength(0);
  });

  it('rollbackPermission: deployers and release managers without a lookup, group members with one', async () => {
    const onCall = onCallDirectory(client, { catalog, clock });
    expect(await rollbackPermission({ catalog, log }, onCall, service, 'U0DEV1')).toEqual({ allowed: true });
    expect(await rollbackPermission({ catalog, log }, onCall, service, 'U0RM2')).toEqual({ allowed: true });
    expect(lookups()).toHaveLength(0);
    expect(await rollbackPermission({ catalog, log }, onCall, service, 'U0ONCALL2')).toEqual({ allowed: true });
    expect(await rollbackPermission({ catalog, log }, onCall, service, 'U0OUTSIDER')).toEqual({ allowed: false });
  });

  it('a group Slack does not know refuses its would-be members and says why; nothing is cached', async () => {
    const missing = catalogWith('S0GONE');
    const onCall = onCallDirectory(client, { catalog: missing, clock });
    const refused = await rollbackPermission({ catalog: missing, log }, onCall, service, 'U0ONCALL1');
    expect(refused).toEqual({ allowed: false, because: expect.stringContaining('no_such_subteam') });
    await rollbackPermission({ catalog: missing, log }, onCall, service, 'U0ONCALL1');
    expect(lookups()).toHaveLength(2);
  });

  it('Slack not answering within the deadline refuses in time, and the late answer fills the cache', async () => {
    slack.faults.latencyMs = 400;
    const onCall = onCallDirectory(client, { catalog, clock }, { deadlineMs: 100 });
    const refused = await rollbackPermission({ catalog, log }, onCall, service, 'U0ONCALL1');
    // Refused before Slack answered: the stand-in records a call once it answers it.
    expect(lookups()).toHaveLength(0);
    expect(refused).toEqual({ allowed: false, because: expect.stringContaining('took longer than 100 ms') });

    await slack.waitFor((call) => call.method === 'usergroups.users.list', 2000);
    slack.faults.latencyMs = 0;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await onCall.includes('U0ONCALL1')).toBe(true);
    expect(lookups()).toHaveLength(1);
  });
});
