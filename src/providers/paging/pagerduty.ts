import { STATUS_CODES } from 'node:http';
import { api } from '@pagerduty/pdjs';
// pdjs's own transport, the one its `event()` posts through. `event()` itself only takes a host
// (`server`) and always builds `https://<server>/v2/enqueue`, so it cannot reach an http:// URL
// such as a proxy or a local stand-in; this builds the same request for any PAGERDUTY_EVENTS_URL.
import { request } from '@pagerduty/pdjs/build/src/common.js';
import type { EventPayloadV2 } from '@pagerduty/pdjs/build/src/events.js';
import { ConfigInvalid, ProviderFailed } from '../../errors.js';
import type { Incident, Page, PagingProvider } from './paging.js';

export const DEFAULT_PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com';
export const DEFAULT_PAGERDUTY_API_URL = 'https://api.pagerduty.com';
export const DEFAULT_PAGERDUTY_TIMEOUT_MS = 10_000;
/** PagerDuty keeps this much of an alert's summary and rejects longer ones. */
export const MAX_SUMMARY_LENGTH = 1024;
/** Incidents read per request (the REST API's largest page) and pages read at most. */
const PAGE_SIZE = 100;
const MAX_PAGES = 5;

export interface PagerDutyPagingOptions {
  /** Events API v2 integration key used for services without their own. */
  routingKey?: string;
  /** Service name → its own integration key (the catalog's `pagerduty.routingKey`). */
  serviceRoutingKeys?: Record<string, string>;
  /** REST API token; without it incidents cannot be read. */
  apiToken?: string;
  /** Events API root, default https://events.pagerduty.com; `/v2/enqueue` is appended. */
  eventsUrl?: string;
  /** REST API root, default https://api.pagerduty.com; `/incidents` is appended. */
  apiUrl?: string;
  /** Deadline of each call, retries and reading the answer included. */
  timeoutMs?: number;
  /**
   * pdjs tries a request PagerDuty answered with 429 three more times, waiting this long before
   * each; default an eighth of the timeout, so a lasting rate limit is reported before the deadline.
   */
  rateLimitRetryMs?: number;
}

/** Rate limits, timeouts and PagerDuty's own trouble may pass; a refused request will not. */
const retriableStatus = (status: number): boolean => status === 408 || status === 429 || status >= 500;

const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** PagerDuty's own words from an error body: Events API `{message, errors}` or REST `{error: {message, errors}}`. */
function errorDetail(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const outer = body as { message?: unknown; errors?: unknown; error?: unknown };
  const inner =
    typeof outer.error === 'object' && outer.error !== null
      ? (outer.error as { message?: unknown; errors?: unknown })
      : outer;
  const message = typeof inner.message === 'string' ? inner.message : undefined;
  const errors = Array.isArray(inner.errors) ? inner.errors.map(String) : [];
  if (!message && errors.length === 0) return undefined;
  return errors.length > 0 ? `${message ?? 'error'} (${errors.join('; ')})` : message;
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

function statusFailure(what: string, status: number, body: unknown): ProviderFailed {
  const detail = errorDetail(body) ?? STATUS_CODES[status] ?? 'error';
  return new ProviderFailed(clip(`${what}: ${status} ${detail}`, 300), { retriable: retriableStatus(status) });
}

/** What happened on the way to PagerDuty, when no answer came back. */
function transportFailure(what: string, error: unknown): ProviderFailed {
  if (error instanceof ProviderFailed) return error;
  // api() rejects with the Response itself when an answer's body is not JSON (a proxy's HTML page).
  if (typeof error === 'object' && error !== null && typeof (error as { status?: unknown }).status === 'number') {
    const status = (error as { status: number }).status;
    if (status < 300) {
      return new ProviderFailed(`${what}: ${status} with a body that is not JSON`, { retriable: true, cause: error });
    }
    const { message, retriable } = statusFailure(what, status, undefined);
    return new ProviderFailed(message, { retriable, cause: error });
  }
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return new ProviderFailed(`${what}: unreachable: ${typeof code === 'string' ? code : message}`, {
    retriable: true,
    cause: error,
  });
}

/** An Events API v2 event as sent: a resolve carries no payload. */
type WireEvent = Omit<EventPayloadV2, 'payload'> & { payload?: EventPayloadV2['payload'] };

interface WireIncident {
  id?: unknown;
  title?: unknown;
  status?: unknown;
  urgency?: unknown;
  html_url?: unknown;
  service?: { id?: unknown };
}

/**
 * Pages through PagerDuty with the official client (`@pagerduty/pdjs`): alerts through the
 * Events API v2, open incidents through the REST API v2.
 */
export class PagerDutyPaging implements PagingProvider {
  private readonly enqueueUrl: string;
  private readonly incidentsUrl: string;
  private readonly timeoutMs: number;
  private readonly rateLimitRetryMs: number;

  get readsIncidents(): boolean {
    return Boolean(this.options.apiToken);
  }

  constructor(private readonly options: PagerDutyPagingOptions) {
    const root = (url: string) => url.replace(/\/+$/, '');
    this.enqueueUrl = `${root(options.eventsUrl ?? DEFAULT_PAGERDUTY_EVENTS_URL)}/v2/enqueue`;
    this.incidentsUrl = `${root(options.apiUrl ?? DEFAULT_PAGERDUTY_API_URL)}/incidents`;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_PAGERDUTY_TIMEOUT_MS;
    this.rateLimitRetryMs = options.rateLimitRetryMs ?? Math.floor(this.timeoutMs / 8);
  }

  async trigger(page: Page): Promise<void> {
    await this.enqueue({
      routing_key: this.routingKeyFor(page.service, 'trigger', page.dedupKey),
      event_action: 'trigger',
      dedup_key: page.dedupKey,
      payload: {
        summary: clip(page.summary, MAX_SUMMARY_LENGTH),
        source: page.source,
        severity: page.severity,
        ...(page.details ? { custom_details: page.details } : {}),
      },
      ...(page.links && page.links.length > 0 ? { links: page.links } : {}),
    });
  }

  async resolve(page: { service: string; dedupKey: string }): Promise<void> {
    await this.enqueue({
      routing_key: this.routingKeyFor(page.service, 'resolve', page.dedupKey),
      event_action: 'resolve',
      dedup_key: page.dedupKey,
    });
  }

  async openHighUrgencyIncidents(serviceId: string): Promise<Incident[]> {
    const what = `PagerDuty incidents of ${serviceId}`;
    const token = this.options.apiToken;
    if (!token) throw new ProviderFailed(`${what}: PAGERDUTY_API_TOKEN is not set`, { retriable: false });
    return this.bounded(what, async (signal) => {
      const found: Incident[] = [];
      for (let page = 0, offset = 0; page < MAX_PAGES; page += 1, offset += PAGE_SIZE) {
        const response = await api({
          url: this.incidentsUrl,
          token,
          queryParameters: {
            'service_ids[]': [serviceId],
            'statuses[]': ['triggered', 'acknowledged'],
            'urgencies[]': ['high'],
            limit: String(PAGE_SIZE),
            offset: String(offset),
          },
          signal,
          // pdjs's own timeout only starts a timer that does nothing; the deadline here bounds the call.
          requestTimeout: 0,
          retryTimeout: this.rateLimitRetryMs,
        });
        if (response.status < 200 || response.status >= 300) throw statusFailure(what, response.status, response.data);
        const body = response.data as { incidents?: unknown; more?: unknown } | undefined;
        if (!Array.isArray(body?.incidents)) {
          throw new ProviderFailed(`${what}: ${response.status} without an incidents list`, { retriable: true });
        }
        found.push(...(body.incidents as WireIncident[]).flatMap((i) => openHighUrgency(i, serviceId)));
        if (body.more !== true) break;
      }
      return found;
    });
  }

  private routingKeyFor(service: string, action: string, dedupKey: string): string {
    const key = this.options.serviceRoutingKeys?.[service] ?? this.options.routingKey;
    if (!key) {
      throw new ProviderFailed(
        `PagerDuty ${action} ${dedupKey}: no routing key for ${service} (set PAGERDUTY_ROUTING_KEY or services.${service}.pagerduty.routingKey)`,
        { retriable: false },
      );
    }
    return key;
  }

  /** One Events API v2 event; 202 means PagerDuty accepted it. */
  private async enqueue(event: WireEvent): Promise<void> {
    const what = `PagerDuty ${event.event_action} ${event.dedup_key ?? ''}`.trim();
    await this.bounded(what, async (signal) => {
      const response = await request(this.enqueueUrl, {
        method: 'POST',
        body: JSON.stringify(event),
        signal,
        requestTimeout: 0,
        retryTimeout: this.rateLimitRetryMs,
      });
      const text = await response.text();
      if (response.status < 200 || response.status >= 300) throw statusFailure(what, response.status, parseJson(text));
    });
  }

  /** Runs `call` with a deadline: past it, the request is aborted and the call fails as a retriable timeout. */
  private async bounded<T>(what: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const timeout = new ProviderFailed(`${what}: timeout after ${this.timeoutMs} ms`, { retriable: true });
    let timer: NodeJS.Timeout | undefined;
    // A race, not only the abort: pdjs waits between its 429 retries without looking at the signal.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(timeout);
        controller.abort();
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([call(controller.signal), deadline]);
    } catch (error) {
      if (controller.signal.aborted) throw timeout;
      throw transportFailure(what, error);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The incident in domain words when it is open, high-urgency and on `serviceId`; the server's filter is not the contract. */
function openHighUrgency(incident: WireIncident, serviceId: string): Incident[] {
  const { id, title, status, urgency, html_url: url } = incident;
  if (typeof id !== 'string' || (status !== 'triggered' && status !== 'acknowledged') || urgency !== 'high') return [];
  if (incident.service?.id !== serviceId) return [];
  return [
    {
      id,
      title: typeof title === 'string' ? title : id,
      status,
      urgency,
      url: typeof url === 'string' ? url : '',
    },
  ];
}

const ROUTING_KEY = /^[A-Za-z0-9]{32}$/;

/**
 * Builds the provider from PAGERDUTY_ROUTING_KEY, PAGERDUTY_API_TOKEN, PAGERDUTY_EVENTS_URL,
 * PAGERDUTY_API_URL and the catalog's per-service routing keys, naming the variable that is
 * malformed; undefined when none of the keys or the token is set (paging is off).
 */
export function pagerDutyPagingFromEnv(settings: PagerDutyPagingOptions): PagerDutyPaging | undefined {
  const checkUrl = (variable: string, url: string | undefined, example: string) => {
    if (url !== undefined && !/^https?:\/\/[^/]+/.test(url)) {
      throw new ConfigInvalid(`${variable} must be an http(s) URL such as ${example} (got "${url}")`);
    }
  };
  checkUrl('PAGERDUTY_EVENTS_URL', settings.eventsUrl, DEFAULT_PAGERDUTY_EVENTS_URL);
  checkUrl('PAGERDUTY_API_URL', settings.apiUrl, DEFAULT_PAGERDUTY_API_URL);
  if (settings.routingKey !== undefined && !ROUTING_KEY.test(settings.routingKey)) {
    throw new ConfigInvalid('PAGERDUTY_ROUTING_KEY must be a 32-character Events API v2 integration key');
  }
  for (const [service, key] of Object.entries(settings.serviceRoutingKeys ?? {})) {
    if (!ROUTING_KEY.test(key)) {
      throw new ConfigInvalid(`services.${service}.pagerduty.routingKey must be a 32-character integration key`);
    }
  }
  const keys = Object.keys(settings.serviceRoutingKeys ?? {}).length;
  if (!settings.routingKey && keys === 0 && !settings.apiToken) return undefined;
  return new PagerDutyPaging(settings);
}

/** Service name → routing key, for the services of a catalog that have their own. */
export const serviceRoutingKeys = (catalog: {
  services: Record<string, { pagerduty?: { routingKey?: string } }>;
}): Record<string, string> =>
  Object.fromEntries(
    Object.entries(catalog.services).flatMap(([name, service]) =>
      service.pagerduty?.routingKey ? [[name, service.pagerduty.routingKey]] : [],
    ),
  );
