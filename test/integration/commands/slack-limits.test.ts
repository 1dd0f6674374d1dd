import { ANNOUNCEMENT_MESSAGE } from '../../../src/store/deployment-store.js';
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tellUser } from '../../../commands/tell-user.js';
import { createLogger } from '../../../src/logger.js';
import { CHANNELS, PEOPLE } from '../../../sandbox/sandbox.js';
import { startHarness, until, type Harness } from '../../support/harness.js';
import { deployment } from '../../unit/fixtures.js';

/**
 * Slack's edges: `/deploy status` with 300 active deployments stays under Slack's 40,000
 * characters, and a message for one person reaches them by DM when the bot cannot post an
 * ephemeral where they are (a DM between people answers channel_not_found).
 */

const SERVICES = 300;
let h: Harness;

const names = Array.from({ length: SERVICES }, (_, i) => `svc-${String(i + 1).padStart(3, '0')}`);

beforeAll(async () => {
  const entry = {
    strategy: 'rolling',
    workload: {
      provider: 'kubernetes',
      namespace: 'prod',
      deployments: { main: 'svc' },
      container: 'api',
      image: 'registry.example/svc',
    },
  };
  h = await startHarness({
    roles: { bot: true, worker: false },
    catalog: { services: Object.fromEntries(names.map((name) => [name, entry])) },
  });
  const now = Date.now();
  for (const [i, name] of names.entries()) {
    const d = deployment({
      id: `${name}-status`,
      service: name,
      version: `v1.${i}.0`,
      image: `registry.example/svc:v1.${i}.0`,
      requestedAt: now - i,
      announcementTs: `${Math.floor(now / 1000)}.${String(i).padStart(6, '0')}`,
    });
    const created = await h.app.store.create(d, { at: now, actor: PEOPLE.requester, type: 'requested' });
    expect(created.created).toBe(true);
    // As the outbox records them once the announcement is out: the status links each thread.
    await h.app.store.markPosted(d.id, ANNOUNCEMENT_MESSAGE, d.announcementTs as string);
    await h.app.store.markAnnouncementLink(
      d.id,
      `https://sandbox.slack.com/archives/${d.channel}/p${(d.announcementTs as string).replace('.', '')}`,
    );
  }
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('/deploy status with many active deployments', () => {
  it(`lists ${SERVICES} active deployments within 40,000 characters, ending with "… and N more"`, async () => {
    await h.outsider.command('/deploy', 'status');
    const post = await until(
      () => h.sandbox.slack.responses.find((r) => r.user === PEOPLE.outsider),
      5000,
      'the answer',
    );
    const text = String(post.body.text);
    expect(post.body.blocks).toBeUndefined();
    expect(text.length).toBeLessThanOrEqual(40_000);
    expect(text.startsWith(`*Active deployments* (${SERVICES})`)).toBe(true);
    const shown = text.split('\n').filter((line) => line.startsWith('• *svc-')).length;
    const more = Number(/\n… and (\d+) more \(`\/deploy status &lt;service&gt;` shows one service\)$/.exec(text)?.[1]);
    expect(shown).toBeGreaterThan(50);
    expect(shown + more).toBe(SERVICES);
  });

  it('one service is answered whole', async () => {
    h.sandbox.slack.responses.length = 0;
    await h.outsider.command('/deploy', 'status svc-007');
    const post = await until(
      () => h.sandbox.slack.responses.find((r) => r.user === PEOPLE.outsider),
      5000,
      'the answer',
    );
    expect(String(post.body.text)).toMatch(/^\*Active deployments\* \(1\)\n• \*svc-007\* `v1\.6\.0`/);
    expect(String(post.body.text)).not.toContain('more');
  });
});

describe('tellUser: an ephemeral, or a DM when the channel cannot be reached', () => {
  const log = createLogger('silent');
  const client = () =>
    new WebClient(h.sandbox.slack.token, { slackApiUrl: h.sandbox.slack.url, retryConfig: { retries: 0 } });

  it('posts an ephemeral in a channel the bot is in', async () => {
    const how = await tellUser(client(), log, { channel: CHANNELS.team, user: PEOPLE.requester, text: 'just you' });
    expect(how).toBe('ephemeral');
    expect(h.sandbox.slack.ephemerals(PEOPLE.requester).map((e) => [e.channel, e.text])).toContainEqual([
      CHANNELS.team,
      'just you',
    ]);
  });

  it('in a DM between people (channel_not_found), sends the text from the bot in the app DM', async () => {
    const dm = 'D0BETWEENUS';
    h.sandbox.slack.setUnreachable(dm);
    const how = await tellUser(client(), log, { channel: dm, user: PEOPLE.deployer, text: 'not requested' });
    expect(how).toBe('direct-message');
    expect(h.sandbox.slack.callsTo('chat.postEphemeral').at(-1)).toMatchObject({
      ok: false,
      error: 'channel_not_found',
    });
    expect(h.sandbox.slack.ephemerals(PEOPLE.deployer)).toEqual([]);
    const sent = h.sandbox.slack.callsTo('chat.postMessage').at(-1);
    expect(sent).toMatchObject({ ok: true, args: { channel: PEOPLE.deployer, text: 'not requested' } });
    expect(h.sandbox.slack.messages(`D${PEOPLE.deployer.slice(1)}`).map((m) => m.text)).toEqual(['not requested']);
  });

  it('another failure is not turned into a DM', async () => {
    const before = h.sandbox.slack.callsTo('chat.postMessage').length;
    const how = await tellUser(client(), log, { channel: CHANNELS.team, user: PEOPLE.deployer, text: '' });
    expect(how).toBe('failed');
    expect(h.sandbox.slack.callsTo('chat.postEphemeral').at(-1)).toMatchObject({ ok: false, error: 'no_text' });
    expect(h.sandbox.slack.callsTo('chat.postMessage')).toHaveLength(before);
  });
});
