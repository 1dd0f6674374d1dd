import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_SLACK_BODY_BYTES } from '../../../src/app/slack-request-guard.js';
import { CHANNELS, PEOPLE, SANDBOX_SIGNING_SECRET } from '../../../sandbox/sandbox.js';
import { sign } from '../../../sandbox/slack-requests.js';
import { startHarness, type Harness } from '../../support/harness.js';

/**
 * Requests that must be refused by the running bot before any handler runs. Each one carries a
 * `/deploy` that, were it accepted, would open the checklist: no view, no Web API call and no
 * Redis key afterwards means no handler ran.
 */

const now = () => Math.floor(Date.now() / 1000);
const SETTLE_MS = 200;

describe('Slack request security (signed requests to POST /slack/events)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ bakeSeconds: 1 });
    // Bolt's own token check at start-up is not a handler; let it land before the first reset.
    await h.sandbox.slack.waitFor((c) => c.method === 'auth.test', 3000);
  });
  afterAll(async () => h.close());
  beforeEach(() => h.sandbox.slack.reset());

  const commandBody = (extra: Record<string, string> = {}): string =>
    new URLSearchParams({
      token: 'sandbox-verification-token',
      team_id: h.sandbox.slack.identity.teamId,
      channel_id: CHANNELS.team,
      user_id: PEOPLE.requester,
      user_name: 'dev1',
      command: '/deploy',
      text: 'acme-api v1.2.3',
      response_url: h.sandbox.slack.responseUrl({ channel: CHANNELS.team, user: PEOPLE.requester }),
      trigger_id: h.sandbox.slack.issueTriggerId({ user: PEOPLE.requester }),
      ...extra,
    }).toString();

  /** POSTs a body with exactly these headers (no signing unless the case signs it). */
  const post = async (body: string, headers: Record<string, string>) => {
    const response = await fetch(`${h.appUrl}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
    });
    await response.arrayBuffer();
    return response.status;
  };

  const signed = (body: string, timestamp = now(), secret = SANDBOX_SIGNING_SECRET) => ({
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': sign(secret, body, timestamp),
  });

  const expectNoHandlerRan = async () => {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    expect(h.sandbox.slack.calls.map((c) => c.method)).toEqual([]);
    expect(h.sandbox.slack.views).toEqual([]);
    expect(h.sandbox.slack.responses).toEqual([]);
    expect(await h.createdKeys()).toEqual([]);
  };

  it('accepts a correctly signed, current request (the control: it opens the checklist)', async () => {
    const body = commandBody();
    expect(await post(body, signed(body))).toBe(200);
    await h.sandbox.slack.waitFor((c) => c.method === 'views.open' && c.ok, 3000);
    expect(h.sandbox.slack.views.map((v) => v.callback_id)).toEqual(['deploy_checklist']);
  });

  type Request = { body: string; headers: Record<string, string> };
  /** A case built on one fresh /deploy body. */
  const from = (make: (body: string) => Request) => () => make(commandBody());

  const cases: [string, number, () => Request][] = [
    [
      'a bad signature',
      401,
      from((body) => ({ body, headers: { ...signed(body), 'x-slack-signature': `v0=${'0'.repeat(64)}` } })),
    ],
    [
      'a signature made with another secret',
      401,
      from((body) => ({ body, headers: signed(body, now(), 'leaked-or-guessed') })),
    ],
    [
      'a valid signature of another body (the text changed after signing)',
      401,
      from((body) => ({ body: body.replace('v1.2.3', 'v6.6.6'), headers: signed(body) })),
    ],
    [
      'no X-Slack-Signature header',
      401,
      from((body) => ({ body, headers: { 'x-slack-request-timestamp': String(now()) } })),
    ],
    [
      'no X-Slack-Request-Timestamp header',
      401,
      from((body) => ({ body, headers: { 'x-slack-signature': signed(body)['x-slack-signature'] } })),
    ],
    ['neither header', 401, from((body) => ({ body, headers: {} }))],
    [
      'a timestamp that is not a number',
      401,
      from((body) => ({ body, headers: { ...signed(body), 'x-slack-request-timestamp': 'yesterday' } })),
    ],
    [
      'a replay of a once-valid request signed six minutes ago',
      401,
      from((body) => ({ body, headers: signed(body, now() - 6 * 60) })),
    ],
    [
      'a correctly signed timestamp ten minutes in the future',
      401,
      from((body) => ({ body, headers: signed(body, now() + 10 * 60) })),
    ],
    [
      'a correctly signed 2 MB body',
      413,
      () => {
        const body = commandBody({ padding: 'x'.repeat(2 * 1024 * 1024) });
        return { body, headers: signed(body) };
      },
    ],
    [
      'a correctly signed body that is not a Slack payload (payload= not JSON)',
      400,
      () => {
        const body = 'payload=%7Bnot-json';
        return { body, headers: signed(body) };
      },
    ],
  ];

  it.each(cases)('refuses %s with %i, before any handler runs', async (_name, status, make) => {
    const { body, headers } = make();
    expect(await post(body, headers)).toBe(status);
    await expectNoHandlerRan();
  });

  it('refuses a 2 MB body sent in chunks without Content-Length with 413, and answers the next request', async () => {
    const body = commandBody({ padding: 'x'.repeat(2 * 1024 * 1024) });
    const chunks = Buffer.from(body);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < chunks.length; at += 64 * 1024) controller.enqueue(chunks.subarray(at, at + 64 * 1024));
        controller.close();
      },
    });
    const response = await fetch(`${h.appUrl}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...signed(body) },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    await response.arrayBuffer();
    expect(response.status).toBe(413);
    await expectNoHandlerRan();

    const next = commandBody();
    expect(await post(next, signed(next))).toBe(200);
  });

  it('still accepts a body just under the limit (a large modal submission stays possible)', async () => {
    const body = commandBody();
    const padded = commandBody({ padding: 'x'.repeat(MAX_SLACK_BODY_BYTES - body.length - 200) });
    expect(Buffer.byteLength(padded)).toBeLessThan(MAX_SLACK_BODY_BYTES);
    expect(await post(padded, signed(padded))).toBe(200);
    await h.sandbox.slack.waitFor((c) => c.method === 'views.open' && c.ok, 3000);
  });
});
