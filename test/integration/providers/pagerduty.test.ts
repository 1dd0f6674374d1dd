import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pageFor, PAGE_CAUSES } from '../../../src/domain/paging.js';
import { ConfigInvalid, ProviderFailed } from '../../../src/errors.js';
import {
  MAX_SUMMARY_LENGTH,
  PagerDutyPaging,
  pagerDutyPagingFromEnv,
  serviceRoutingKeys,
} from '../../../src/providers/paging/pagerduty.js';
import type { Page } from '../../../src/providers/paging/paging.js';
import { startPagerDutyStandIn, type PagerDutyStandIn } from '../../../sandbox/pagerduty.js';

const ROUTING_KEY = 'e93facc04764012d7bfb002500d5d1a6';
const CHECKOUT_KEY = 'R0CHECKOUT0000000000000000000001';
const TOKEN = 'y_NbAkKc66ryYTWUXYEu';
const ACME_SERVICE = 'PACME01';
const CHECKOUT_SERVICE = 'PCHK002';
const TIMEOUT_MS = 500;

let pd: PagerDutyStandIn;
let paging: PagerDutyPaging;

const options = () => ({
  routingKey: ROUTING_KEY,
  serviceRoutingKeys: { 'acme-checkout': CHECKOUT_KEY },
  apiToken: TOKEN,
  eventsUrl: pd.url,
  apiUrl: pd.url,
  timeoutMs: TIMEOUT_MS,
  rateLimitRetryMs: 10,
});

const breach = (deploymentId = 'dep-42'): Page => ({
  service: 'acme-api',
  ...pageFor(deploymentId, 'breach'),
  summary: 'acme-api v1.4.2: p99 latency 0.93 s over 0.8 s after the rollback window',
  source: 'acme-api/prod',
  links: [{ href: 'https://acme.slack.com/archives/C0DEPLOYS/p1700000000000100', text: 'Deployment thread' }],
  details: { version: 'v1.4.2', step: 'monitor', evidence: ['p99 latency 0.93 > 0.8'] },
});

/** The ProviderFailed a call rejects with. */
async function failureOf(call: Promise<unknown>): Promise<ProviderFailed> {
  const error: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderFailed);
  return error as ProviderFailed;
}

const enqueued = () => pd.requests.filter((r) => r.path === '/v2/enqueue');

beforeAll(async () => {
  pd = await startPagerDutyStandIn({
    apiToken: TOKEN,
    integrations: { [ROUTING_KEY]: ACME_SERVICE, [CHECKOUT_KEY]: CHECKOUT_SERVICE },
  });
  const built = pagerDutyPagingFromEnv(options());
  if (!built) throw new Error('expected a provider');
  paging = built;
});
afterAll(() => pd.close());
beforeEach(() => pd.reset());

describe('PagerDutyPaging.trigger and resolve', () => {
  it('a trigger opens one incident, a repeated trigger dedups into it, a resolve closes it', async () => {
    const page = breach();
    await paging.trigger(page);
    expect(pd.incidents).toHaveLength(1);
    expect(pd.incidents[0]).toMatchObject({
      status: 'triggered',
      urgency: 'high',
      serviceId: ACME_SERVICE,
      incidentKey: 'switchyard-dep-42-breach',
      title: page.summary,
    });
    expect(await paging.openHighUrgencyIncidents(ACME_SERVICE)).toHaveLength(1);

    await paging.trigger(page);
    expect(pd.incidents).toHaveLength(1);
    expect(pd.incidents[0]?.triggers).toBe(2);

    await paging.resolve({ service: 'acme-api', dedupKey: page.dedupKey });
    expect(pd.incidents).toHaveLength(1);
    expect(pd.incidents[0]?.status).toBe('resolved');
    expect(await paging.openHighUrgencyIncidents(ACME_SERVICE)).toEqual([]);
    expect(pd.events.map((e) => [e.event_action, e.dedup_key])).toEqual([
      ['trigger', 'switchyard-dep-42-breach'],
      ['trigger', 'switchyard-dep-42-breach'],
      ['resolve', 'switchyard-dep-42-breach'],
    ]);

    // Resolved is closed for good: the same key pages again as a new incident.
    await paging.trigger(page);
    expect(pd.incidents.map((i) => i.status)).toEqual(['resolved', 'triggered']);
  });

  it('sends exactly the Events API v2 fields, through pdjs, without REST credentials', async () => {
    const page = breach();
    await paging.trigger(page);
    await paging.resolve({ service: 'acme-api', dedupKey: page.dedupKey });
    const [trigger, resolve] = enqueued();
    expect(trigger?.method).toBe('POST');
    expect(trigger?.headers['content-type']).toMatch(/^application\/json/);
    expect(trigger?.headers['user-agent']).toMatch(/^pdjs\//);
    expect(trigger?.headers.authorization).toBeUndefined();
    expect(JSON.parse(trigger?.body ?? '')).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: 'switchyard-dep-42-breach',
      payload: {
        summary: page.summary,
        source: 'acme-api/prod',
        severity: 'error',
        custom_details: { version: 'v1.4.2', step: 'monitor', evidence: ['p99 latency 0.93 > 0.8'] },
      },
      links: [{ href: 'https://acme.slack.com/archives/C0DEPLOYS/p1700000000000100', text: 'Deployment thread' }],
    });
    expect(resolve?.method).toBe('POST');
    expect(JSON.parse(resolve?.body ?? '')).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'resolve',
      dedup_key: 'switchyard-dep-42-breach',
    });
  });

  it('leaves out links and details when there are none', async () => {
    await paging.trigger({ ...breach(), links: [], details: undefined });
    const body = JSON.parse(enqueued()[0]?.body ?? '') as Record<string, unknown>;
    expect(body).not.toHaveProperty('links');
    expect(body.payload).not.toHaveProperty('custom_details');
  });

  it('sends each cause with its severity; critical and error page at high urgency', async () => {
    for (const cause of PAGE_CAUSES) {
      await paging.trigger({ ...breach(), ...pageFor('dep-7', cause), summary: `dep-7 ${cause}` });
    }
    expect(pd.events.map((e) => [e.dedup_key, e.payload?.severity])).toEqual([
      ['switchyard-dep-7-rollback-failed', 'critical'],
      ['switchyard-dep-7-breach', 'error'],
      ['switchyard-dep-7-pause', 'warning'],
    ]);
    expect(pd.incidents.map((i) => i.urgency)).toEqual(['high', 'high', 'low']);
    const open = await paging.openHighUrgencyIncidents(ACME_SERVICE);
    expect(open.map((i) => i.title).sort()).toEqual(['dep-7 breach', 'dep-7 rollback-failed']);
  });

  it('a service with its own routing key pages and resolves through it', async () => {
    const page = { ...breach(), service: 'acme-checkout' };
    await paging.trigger(page);
    await paging.resolve({ service: 'acme-checkout', dedupKey: page.dedupKey });
    expect(pd.events.map((e) => e.routing_key)).toEqual([CHECKOUT_KEY, CHECKOUT_KEY]);
    expect(pd.incidents[0]).toMatchObject({ serviceId: CHECKOUT_SERVICE, status: 'resolved' });
  });

  it('a resolve sent through another routing key does not close the incident', async () => {
    const page = breach();
    await paging.trigger(page);
    await paging.resolve({ service: 'acme-checkout', dedupKey: page.dedupKey });
    expect(pd.incidents[0]?.status).toBe('triggered');
  });

  it('cuts a summary to PagerDuty’s 1024 characters instead of having the event refused', async () => {
    await paging.trigger({ ...breach(), summary: 'x'.repeat(5000) });
    const summary = pd.events[0]?.payload?.summary ?? '';
    expect(summary).toHaveLength(MAX_SUMMARY_LENGTH);
    expect(summary.endsWith('…')).toBe(true);
  });

  it('resolving a page that is not open succeeds', async () => {
    await expect(paging.resolve({ service: 'acme-api', dedupKey: 'switchyard-dep-9-pause' })).resolves.toBeUndefined();
    expect(pd.incidents).toEqual([]);
  });
});

describe('PagerDutyPaging failures', () => {
  it('a 5xx is a retriable ProviderFailed with the status', async () => {
    pd.faults.inject({ status: 503, match: '/v2/enqueue' });
    const failure = await failureOf(paging.trigger(breach()));
    expect(failure.retriable).toBe(true);
    expect(failure.message).toBe('PagerDuty trigger switchyard-dep-42-breach: 503 Service Unavailable');
    expect(pd.incidents).toEqual([]);

    pd.faults.inject({ status: 500, match: '/v2/enqueue', body: '<html>oops</html>' });
    expect((await failureOf(paging.resolve({ service: 'acme-api', dedupKey: 'k' }))).retriable).toBe(true);
  });

  it('a 400 is not retriable and keeps PagerDuty’s reasons', async () => {
    const wrongKey = new PagerDutyPaging({ ...options(), routingKey: 'too-short' });
    const failure = await failureOf(wrongKey.trigger(breach()));
    expect(failure.retriable).toBe(false);
    expect(failure.message).toBe(
      "PagerDuty trigger switchyard-dep-42-breach: 400 Event object is invalid (Length of 'routing_key' is incorrect (should be 32 characters))",
    );
    expect(failure.message).not.toContain('too-short');
    expect(pd.events).toEqual([]);
  });

  it.each([401, 403, 404])('a %i from the Events API is not retriable', async (status) => {
    pd.faults.inject({ status, match: '/v2/enqueue' });
    expect((await failureOf(paging.trigger(breach()))).retriable).toBe(false);
  });

  it('pdjs tries a 429 again, and a lasting one is a retriable failure', async () => {
    pd.faults.inject({ status: 429, match: '/v2/enqueue' });
    await paging.trigger(breach());
    expect(enqueued()).toHaveLength(2);
    expect(pd.incidents).toHaveLength(1);

    pd.reset();
    pd.faults.inject({ status: 429, match: '/v2/enqueue', times: Infinity });
    const failure = await failureOf(paging.trigger(breach()));
    expect(failure).toMatchObject({ retriable: true, message: expect.stringContaining(': 429 Too Many Requests') });
    expect(enqueued()).toHaveLength(4);
  });

  it('a hanging PagerDuty fails at the deadline, retriably', async () => {
    pd.faults.inject({ hang: true, match: '/v2/enqueue' });
    const started = Date.now();
    const failure = await failureOf(paging.trigger(breach()));
    const elapsed = Date.now() - started;
    expect(failure).toMatchObject({
      retriable: true,
      message: `PagerDuty trigger switchyard-dep-42-breach: timeout after ${TIMEOUT_MS} ms`,
    });
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 1000);
  });

  it('the deadline covers a rate limit pdjs would otherwise wait out', async () => {
    const patient = new PagerDutyPaging({ ...options(), rateLimitRetryMs: 20_000 });
    pd.faults.inject({ status: 429, match: '/v2/enqueue', times: Infinity });
    const started = Date.now();
    const failure = await failureOf(patient.trigger(breach()));
    expect(failure.message).toContain(`timeout after ${TIMEOUT_MS} ms`);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 1000);
  });

  it('a dropped answer is retriable, and trying again does not open a second incident', async () => {
    pd.faults.inject({ dropAnswer: true, match: '/v2/enqueue' });
    const failure = await failureOf(paging.trigger(breach()));
    expect(failure.retriable).toBe(true);
    expect(failure.message).toMatch(/unreachable: ECONNRESET|socket hang up/);
    await paging.trigger(breach());
    expect(pd.incidents).toHaveLength(1);
    expect(pd.incidents[0]?.triggers).toBe(2);
  });

  it('an unreachable PagerDuty is retriable', async () => {
    const closed = await startPagerDutyStandIn();
    await closed.close();
    const gone = new PagerDutyPaging({ ...options(), eventsUrl: closed.url, apiUrl: closed.url });
    expect(await failureOf(gone.trigger(breach()))).toMatchObject({
      retriable: true,
      message: 'PagerDuty trigger switchyard-dep-42-breach: unreachable: ECONNREFUSED',
    });
    expect((await failureOf(gone.openHighUrgencyIncidents(ACME_SERVICE))).retriable).toBe(true);
  });

  it('no routing key for the service is a failure that no retry fixes', async () => {
    const keyless = new PagerDutyPaging({ ...options(), routingKey: undefined });
    const failure = await failureOf(keyless.trigger(breach()));
    expect(failure.retriable).toBe(false);
    expect(failure.message).toContain('set PAGERDUTY_ROUTING_KEY or services.acme-api.pagerduty.routingKey');
    await keyless.trigger({ ...breach(), service: 'acme-checkout' });
    expect(pd.events).toHaveLength(1);
  });
});

describe('PagerDutyPaging.openHighUrgencyIncidents', () => {
  it('returns the service’s triggered and acknowledged high-urgency incidents', async () => {
    const triggered = pd.addIncident({ serviceId: ACME_SERVICE, title: 'checkout 5xx' });
    const acknowledged = pd.addIncident({ serviceId: ACME_SERVICE, title: 'db failover', status: 'acknowledged' });
    pd.addIncident({ serviceId: ACME_SERVICE, title: 'old', status: 'resolved' });
    pd.addIncident({ serviceId: ACME_SERVICE, title: 'disk at 80%', urgency: 'low' });
    pd.addIncident({ serviceId: CHECKOUT_SERVICE, title: 'other service' });

    expect(await paging.openHighUrgencyIncidents(ACME_SERVICE)).toEqual([
      {
        id: triggered.id,
        title: 'checkout 5xx',
        status: 'triggered',
        urgency: 'high',
        url: `https://sandbox.pagerduty.com/incidents/${triggered.id}`,
      },
      {
        id: acknowledged.id,
        title: 'db failover',
        status: 'acknowledged',
        urgency: 'high',
        url: `https://sandbox.pagerduty.com/incidents/${acknowledged.id}`,
      },
    ]);
  });

  it('asks the REST API with the token, the version header and the filters', async () => {
    await paging.openHighUrgencyIncidents(ACME_SERVICE);
    const [req] = pd.requests;
    expect(req?.method).toBe('GET');
    expect(req?.path).toBe('/incidents');
    expect(req?.headers.authorization).toBe(`Token token=${TOKEN}`);
    expect(req?.headers.accept).toBe('application/vnd.pagerduty+json;version=2');
    expect(req?.headers['user-agent']).toMatch(/^pdjs\//);
    expect(req?.query.getAll('service_ids[]')).toEqual([ACME_SERVICE]);
    expect(req?.query.getAll('statuses[]')).toEqual(['triggered', 'acknowledged']);
    expect(req?.query.getAll('urgencies[]')).toEqual(['high']);
    expect(req?.query.get('limit')).toBe('100');
    expect(req?.query.get('offset')).toBe('0');
  });

  it('reads every page while PagerDuty says there are more', async () => {
    for (let n = 0; n < 130; n++) pd.addIncident({ serviceId: ACME_SERVICE, title: `incident ${n}` });
    const open = await paging.openHighUrgencyIncidents(ACME_SERVICE);
    expect(open).toHaveLength(130);
    expect(new Set(open.map((i) => i.id)).size).toBe(130);
    expect(pd.requests.map((r) => r.query.get('offset'))).toEqual(['0', '100']);
  });

  it('filters the answer itself: the server-side filter is not the contract', async () => {
    const incident = (id: string, fields: Record<string, unknown>) => ({
      id,
      type: 'incident',
      title: id,
      status: 'triggered',
      urgency: 'high',
      html_url: `https://acme.pagerduty.com/incidents/${id}`,
      service: { id: ACME_SERVICE, type: 'service_reference' },
      ...fields,
    });
    pd.faults.inject({
      status: 200,
      match: '/incidents',
      body: JSON.stringify({
        incidents: [
          incident('QKEEP', {}),
          incident('QRESOLVED', { status: 'resolved' }),
          incident('QLOW', { urgency: 'low' }),
          incident('QOTHER', { service: { id: CHECKOUT_SERVICE, type: 'service_reference' } }),
        ],
        limit: 100,
        offset: 0,
        more: false,
        total: null,
      }),
    });
    expect((await paging.openHighUrgencyIncidents(ACME_SERVICE)).map((i) => i.id)).toEqual(['QKEEP']);
  });

  it('a wrong token is a 401 that no retry fixes', async () => {
    const wrong = new PagerDutyPaging({ ...options(), apiToken: 'not-the-token' });
    const failure = await failureOf(wrong.openHighUrgencyIncidents(ACME_SERVICE));
    expect(failure).toMatchObject({
      retriable: false,
      message: `PagerDuty incidents of ${ACME_SERVICE}: 401 Authentication failed`,
    });
    expect(failure.message).not.toContain('not-the-token');
  });

  it('without a token it fails at once, naming the variable', async () => {
    const tokenless = new PagerDutyPaging({ ...options(), apiToken: undefined });
    expect(await failureOf(tokenless.openHighUrgencyIncidents(ACME_SERVICE))).toMatchObject({
      retriable: false,
      message: `PagerDuty incidents of ${ACME_SERVICE}: PAGERDUTY_API_TOKEN is not set`,
    });
    expect(pd.requests).toEqual([]);
  });

  it('a 5xx, even with an HTML body, is retriable; a 400 is not', async () => {
    pd.faults.inject({ status: 502, match: '/incidents', body: '<html>bad gateway</html>' });
    expect(await failureOf(paging.openHighUrgencyIncidents(ACME_SERVICE))).toMatchObject({
      retriable: true,
      message: `PagerDuty incidents of ${ACME_SERVICE}: 502 Bad Gateway`,
    });
    pd.faults.inject({ status: 500, match: '/incidents', body: '{"error":{"message":"Internal error","code":2000}}' });
    expect((await failureOf(paging.openHighUrgencyIncidents(ACME_SERVICE))).retriable).toBe(true);
    pd.faults.inject({
      status: 400,
      match: '/incidents',
      body: JSON.stringify({
        error: { message: 'Invalid Input Provided', code: 2001, errors: ['Statuses is invalid'] },
      }),
    });
    expect(await failureOf(paging.openHighUrgencyIncidents(ACME_SERVICE))).toMatchObject({
      retriable: false,
      message: `PagerDuty incidents of ${ACME_SERVICE}: 400 Invalid Input Provided (Statuses is invalid)`,
    });
  });

  it('a 200 whose body is not JSON is retriable', async () => {
    pd.faults.inject({ status: 200, match: '/incidents', body: 'maintenance' });
    expect(await failureOf(paging.openHighUrgencyIncidents(ACME_SERVICE))).toMatchObject({
      retriable: true,
      message: `PagerDuty incidents of ${ACME_SERVICE}: 200 with a body that is not JSON`,
    });
  });

  it('a hanging REST API fails at the deadline, retriably', async () => {
    pd.faults.inject({ hang: true, match: '/incidents' });
    const started = Date.now();
    expect(await failureOf(paging.openHighUrgencyIncidents(ACME_SERVICE))).toMatchObject({
      retriable: true,
      message: `PagerDuty incidents of ${ACME_SERVICE}: timeout after ${TIMEOUT_MS} ms`,
    });
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 1000);
  });
});

describe('the PagerDuty stand-in refuses what PagerDuty refuses', () => {
  const post = async (body: unknown) => {
    const response = await fetch(`${pd.url}/v2/enqueue`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const trigger = {
    routing_key: ROUTING_KEY,
    event_action: 'trigger',
    dedup_key: 'k1',
    payload: { summary: 's', source: 'src', severity: 'error' },
  };

  it('answers an accepted event with 202 and its dedup key', async () => {
    expect(await post(trigger)).toEqual({
      status: 202,
      body: { status: 'success', message: 'Event processed', dedup_key: 'k1' },
    });
  });

  it.each([
    [{ ...trigger, routing_key: 'abc' }, "Length of 'routing_key' is incorrect (should be 32 characters)"],
    [
      { ...trigger, event_action: 'page' },
      "'event_action' is missing or invalid (must be trigger, acknowledge or resolve)",
    ],
    [{ ...trigger, payload: { ...trigger.payload, severity: 'fatal' } }, "'payload.severity' is invalid"],
    [{ ...trigger, payload: { ...trigger.payload, summary: ' ' } }, "'payload.summary' is missing or blank"],
    [{ ...trigger, payload: { ...trigger.payload, summary: 'x'.repeat(1025) } }, "'payload.summary' is too long"],
    [{ ...trigger, payload: { severity: 'error', summary: 's' } }, "'payload.source' is missing or blank"],
    [{ routing_key: ROUTING_KEY, event_action: 'resolve' }, "'dedup_key' is required for resolve events"],
    [{ ...trigger, dedup_key: 'k'.repeat(256) }, "'dedup_key' is invalid"],
  ])('400 invalid event: %#', async (event, reason) => {
    const answer = await post(event);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ status: 'invalid event', message: 'Event object is invalid' });
    expect((answer.body.errors as string[]).some((e) => e.startsWith(reason))).toBe(true);
    expect(pd.events).toEqual([]);
  });

  it('refuses a body that is not JSON, and a REST call without the token', async () => {
    expect((await post('{not json')).status).toBe(400);
    const rest = await fetch(`${pd.url}/incidents`);
    expect(rest.status).toBe(401);
    expect(await rest.json()).toEqual({ error: { message: 'Authentication failed', code: 2006 } });
  });

  it('answers GET /incidents in PagerDuty’s list format', async () => {
    const incident = pd.addIncident({ serviceId: ACME_SERVICE, title: 'checkout 5xx' });
    const response = await fetch(`${pd.url}/incidents?service_ids[]=${ACME_SERVICE}&total=true`, {
      headers: { authorization: `Token token=${TOKEN}` },
    });
    expect(await response.json()).toMatchObject({
      incidents: [
        {
          id: incident.id,
          type: 'incident',
          title: 'checkout 5xx',
          status: 'triggered',
          urgency: 'high',
          html_url: `https://sandbox.pagerduty.com/incidents/${incident.id}`,
          service: { id: ACME_SERVICE, type: 'service_reference' },
          incident_key: null,
          created_at: incident.createdAt,
        },
      ],
      limit: 25,
      offset: 0,
      more: false,
      total: 1,
    });
  });
});

describe('pagerDutyPagingFromEnv', () => {
  it('is off when no routing key and no token are set', () => {
    expect(pagerDutyPagingFromEnv({})).toBeUndefined();
    expect(pagerDutyPagingFromEnv({ apiToken: TOKEN })).toBeInstanceOf(PagerDutyPaging);
    expect(pagerDutyPagingFromEnv({ serviceRoutingKeys: { 'acme-api': ROUTING_KEY } })).toBeInstanceOf(PagerDutyPaging);
  });

  it('names the malformed variable', () => {
    expect(() => pagerDutyPagingFromEnv({ routingKey: 'short' })).toThrow(
      new ConfigInvalid('PAGERDUTY_ROUTING_KEY must be a 32-character Events API v2 integration key'),
    );
    expect(() => pagerDutyPagingFromEnv({ routingKey: ROUTING_KEY, eventsUrl: 'events.pagerduty.com' })).toThrow(
      /^PAGERDUTY_EVENTS_URL must be an http\(s\) URL/,
    );
    expect(() => pagerDutyPagingFromEnv({ apiToken: TOKEN, apiUrl: 'ftp://api.pagerduty.com' })).toThrow(
      /^PAGERDUTY_API_URL must be an http\(s\) URL/,
    );
    expect(() => pagerDutyPagingFromEnv({ serviceRoutingKeys: { 'acme-api': 'x' } })).toThrow(
      /^services\.acme-api\.pagerduty\.routingKey /,
    );
  });

  it('collects the catalog’s per-service routing keys', () => {
    expect(
      serviceRoutingKeys({
        services: { 'acme-api': {}, 'acme-checkout': { pagerduty: { routingKey: CHECKOUT_KEY } } },
      }),
    ).toEqual({ 'acme-checkout': CHECKOUT_KEY });
  });
});
