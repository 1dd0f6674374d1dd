import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { FaultControls, sendJson, startHttpStandIn, type RecordedRequest, type StandIn } from './http-server.js';

export type IncidentStatus = 'triggered' | 'acknowledged' | 'resolved';
export type Urgency = 'high' | 'low';

export interface StandInIncident {
  id: string;
  number: number;
  title: string;
  status: IncidentStatus;
  urgency: Urgency;
  serviceId: string;
  /** The dedup key of the alert that opened it (`incident_key` on the wire); null for one made by hand. */
  incidentKey: string | null;
  /** The integration it came through; dedup and resolve only apply within the same one. */
  routingKey: string | null;
  severity?: string;
  createdAt: string;
  /** Trigger events merged into it (1 for the one that opened it). */
  triggers: number;
}

/** An event the Events API accepted (202), as sent. */
export interface AcceptedEvent {
  routing_key: string;
  event_action: 'trigger' | 'acknowledge' | 'resolve';
  dedup_key: string;
  payload?: {
    summary?: string;
    source?: string;
    severity?: string;
    custom_details?: unknown;
    [key: string]: unknown;
  };
  links?: { href: string; text?: string }[];
  [key: string]: unknown;
}

export interface PagerDutyStandIn extends StandIn {
  /** Accepted events in order; refused ones are only in `requests`. */
  events: AcceptedEvent[];
  incidents: StandInIncident[];
  /** An incident on `serviceId`, as if someone or another integration had opened it. */
  addIncident(incident: {
    serviceId: string;
    title?: string;
    status?: IncidentStatus;
    urgency?: Urgency;
  }): StandInIncident;
  setIncidentStatus(id: string, status: IncidentStatus): void;
  /** The open (triggered or acknowledged) incident opened through `routingKey` with `dedupKey`. */
  openIncident(dedupKey: string, routingKey?: string): StandInIncident | undefined;
  /** Events to this integration key create incidents on `serviceId`. */
  addIntegration(routingKey: string, serviceId: string): void;
  /** Forgets events, incidents and requests; integrations stay. */
  reset(): void;
  faults: FaultControls;
  requests: RecordedRequest[];
}

/** The service that events through an integration key nobody registered land on. */
export const STAND_IN_SERVICE_ID = 'PSANDBX';

const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const ACTIONS = ['trigger', 'acknowledge', 'resolve'];
const STATUSES: IncidentStatus[] = ['triggered', 'acknowledged', 'resolved'];
const URGENCIES: Urgency[] = ['high', 'low'];
const MAX_SUMMARY = 1024;
const MAX_DEDUP_KEY = 255;

const blank = (value: unknown): boolean => typeof value !== 'string' || value.trim() === '';

const invalidEvent = (res: ServerResponse, errors: string[]): void =>
  sendJson(res, 400, { status: 'invalid event', message: 'Event object is invalid', errors });

const restError = (res: ServerResponse, status: number, message: string, code: number, errors?: string[]): void =>
  sendJson(res, status, { error: { message, code, ...(errors ? { errors } : {}) } });

/** The Events API's checks on an alert event, in its own words where known. */
function eventProblems(event: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (blank(event.routing_key)) problems.push("'routing_key' is missing or blank");
  else if ((event.routing_key as string).length !== 32) {
    problems.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  }
  const action = event.event_action;
  if (typeof action !== 'string' || !ACTIONS.includes(action)) {
    problems.push("'event_action' is missing or invalid (must be trigger, acknowledge or resolve)");
  }
  if (
    event.dedup_key !== undefined &&
    (typeof event.dedup_key !== 'string' || event.dedup_key.length > MAX_DEDUP_KEY)
  ) {
    problems.push(`'dedup_key' is invalid (a string of at most ${MAX_DEDUP_KEY} characters)`);
  }
  if ((action === 'acknowledge' || action === 'resolve') && blank(event.dedup_key)) {
    problems.push(`'dedup_key' is required for ${action} events`);
  }
  if (action === 'trigger') {
    const payload = event.payload;
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      problems.push("'payload' is missing or not an object");
    } else {
      const p = payload as Record<string, unknown>;
      if (blank(p.summary)) problems.push("'payload.summary' is missing or blank");
      else if ((p.summary as string).length > MAX_SUMMARY) {
        problems.push(`'payload.summary' is too long (maximum is ${MAX_SUMMARY} characters)`);
      }
      if (blank(p.source)) problems.push("'payload.source' is missing or blank");
      if (typeof p.severity !== 'string' || !SEVERITIES.includes(p.severity)) {
        problems.push("'payload.severity' is invalid (must be one of critical, error, warning, info)");
      }
      if (p.custom_details !== undefined && (typeof p.custom_details !== 'object' || p.custom_details === null)) {
        problems.push("'payload.custom_details' must be an object");
      }
    }
    if (event.links !== undefined) {
      const links = event.links;
      if (!Array.isArray(links) || links.some((l) => typeof l !== 'object' || l === null || blank(l.href))) {
        problems.push("'links' must be a list of objects with an 'href'");
      }
    }
  }
  return problems;
}

/**
 * A stand-in for PagerDuty's Events API v2 (`POST /v2/enqueue`) and the part of its REST API v2
 * that Switchyard reads (`GET /incidents`), both on one server and in PagerDuty's wire formats,
 * so the official client can be pointed at it (PAGERDUTY_EVENTS_URL and PAGERDUTY_API_URL).
 * Events open, merge into and resolve incidents by dedup key within their integration; incident
 * urgency follows the alert's severity (critical and error are high), as a service set to
 * "urgency based on alert severity" does.
 */
export async function startPagerDutyStandIn(
  options: { port?: number; apiToken?: string; integrations?: Record<string, string> } = {},
): Promise<PagerDutyStandIn> {
  const apiToken = options.apiToken ?? 'sandbox-pagerduty-token';
  const integrations = new Map(Object.entries(options.integrations ?? {}));
  const events: AcceptedEvent[] = [];
  const incidents: StandInIncident[] = [];
  const faults = new FaultControls();
  const requests: RecordedRequest[] = [];
  let nextNumber = 1;

  const newIncident = (fields: Omit<StandInIncident, 'id' | 'number' | 'createdAt' | 'triggers'>): StandInIncident => {
    const number = nextNumber++;
    const incident: StandInIncident = {
      id: `Q${number.toString(36).toUpperCase().padStart(13, '0')}`,
      number,
      createdAt: new Date().toISOString(),
      triggers: 1,
      ...fields,
    };
    incidents.push(incident);
    return incident;
  };

  const openIncident = (dedupKey: string, routingKey?: string): StandInIncident | undefined =>
    incidents.find(
      (i) =>
        i.incidentKey === dedupKey &&
        i.status !== 'resolved' &&
        (routingKey === undefined || i.routingKey === routingKey),
    );

  const answerEnqueue = (req: RecordedRequest, res: ServerResponse): void => {
    let event: unknown;
    try {
      event = JSON.parse(req.body);
    } catch {
      return invalidEvent(res, ['Event object is not valid JSON']);
    }
    if (typeof event !== 'object' || event === null || Array.isArray(event)) {
      return invalidEvent(res, ['Event object must be a JSON object']);
    }
    const problems = eventProblems(event as Record<string, unknown>);
    if (problems.length > 0) return invalidEvent(res, problems);

    const accepted = event as AcceptedEvent;
    // A trigger without a dedup key always opens a new alert under a key PagerDuty makes up.
    const dedupKey = accepted.dedup_key || randomBytes(16).toString('hex');
    events.push({ ...accepted, dedup_key: dedupKey });
    const open = openIncident(dedupKey, accepted.routing_key);
    if (accepted.event_action === 'trigger') {
      if (open) open.triggers += 1;
      else {
        const severity = accepted.payload?.severity ?? 'error';
        newIncident({
          title: accepted.payload?.summary ?? dedupKey,
          status: 'triggered',
          urgency: severity === 'critical' || severity === 'error' ? 'high' : 'low',
          serviceId: integrations.get(accepted.routing_key) ?? STAND_IN_SERVICE_ID,
          incidentKey: dedupKey,
          routingKey: accepted.routing_key,
          severity,
        });
      }
    } else if (open) {
      // Acknowledging or resolving nothing open is accepted and dropped, as PagerDuty does.
      open.status = accepted.event_action === 'resolve' ? 'resolved' : 'acknowledged';
    }
    sendJson(res, 202, { status: 'success', message: 'Event processed', dedup_key: dedupKey });
  };

  const wireIncident = (i: StandInIncident, base: string) => ({
    id: i.id,
    type: 'incident',
    summary: `[#${i.number}] ${i.title}`,
    self: `${base}/incidents/${i.id}`,
    html_url: `https://sandbox.pagerduty.com/incidents/${i.id}`,
    incident_number: i.number,
    title: i.title,
    created_at: i.createdAt,
    updated_at: i.createdAt,
    status: i.status,
    incident_key: i.incidentKey,
    service: {
      id: i.serviceId,
      type: 'service_reference',
      summary: `service ${i.serviceId}`,
      self: `${base}/services/${i.serviceId}`,
      html_url: `https://sandbox.pagerduty.com/service-directory/${i.serviceId}`,
    },
    assignments: [],
    acknowledgements: [],
    last_status_change_at: i.createdAt,
    urgency: i.urgency,
    alert_counts: {
      all: i.triggers,
      triggered: i.status === 'resolved' ? 0 : 1,
      resolved: i.status === 'resolved' ? 1 : 0,
    },
  });

  const answerIncidents = (req: RecordedRequest, res: ServerResponse): void => {
    const statuses = req.query.getAll('statuses[]');
    const urgencies = req.query.getAll('urgencies[]');
    const serviceIds = req.query.getAll('service_ids[]');
    const badStatus = statuses.filter((s) => !STATUSES.includes(s as IncidentStatus));
    const badUrgency = urgencies.filter((u) => !URGENCIES.includes(u as Urgency));
    const limit = Number(req.query.get('limit') ?? 25);
    const offset = Number(req.query.get('offset') ?? 0);
    const errors = [
      ...badStatus.map((s) => `Statuses value "${s}" is not one of triggered, acknowledged, resolved`),
      ...badUrgency.map((u) => `Urgencies value "${u}" is not one of high, low`),
      ...(Number.isInteger(limit) && limit >= 1 && limit <= 100 ? [] : ['Limit must be 1..100']),
      ...(Number.isInteger(offset) && offset >= 0 && offset + limit <= 10_000 ? [] : ['Offset is invalid']),
    ];
    if (errors.length > 0) return restError(res, 400, 'Invalid Input Provided', 2001, errors);
    const matching = incidents.filter(
      (i) =>
        (statuses.length === 0 ? i.status !== 'resolved' : statuses.includes(i.status)) &&
        (urgencies.length === 0 || urgencies.includes(i.urgency)) &&
        (serviceIds.length === 0 || serviceIds.includes(i.serviceId)),
    );
    const base = `http://${req.headers.host ?? '127.0.0.1'}`;
    sendJson(res, 200, {
      incidents: matching.slice(offset, offset + limit).map((i) => wireIncident(i, base)),
      limit,
      offset,
      more: offset + limit < matching.length,
      total: req.query.get('total') === 'true' ? matching.length : null,
    });
  };

  const server = await startHttpStandIn(
    (req, res) => {
      if (req.path === '/v2/enqueue') {
        if (req.method !== 'POST') return sendJson(res, 405, { status: 'error', message: 'Method not allowed' });
        return answerEnqueue(req, res);
      }
      // The REST API: a token on every request.
      if (req.headers.authorization !== `Token token=${apiToken}`) {
        return restError(res, 401, 'Authentication failed', 2006);
      }
      if (req.method === 'GET' && req.path === '/incidents') return answerIncidents(req, res);
      restError(res, 404, 'Not Found', 2100);
    },
    { port: options.port, faults, log: requests },
  );

  return {
    ...server,
    events,
    incidents,
    addIncident: (i) =>
      newIncident({
        title: i.title ?? `incident on ${i.serviceId}`,
        status: i.status ?? 'triggered',
        urgency: i.urgency ?? 'high',
        serviceId: i.serviceId,
        incidentKey: null,
        routingKey: null,
      }),
    setIncidentStatus: (id, status) => {
      const incident = incidents.find((i) => i.id === id);
      if (!incident) throw new Error(`no incident ${id} in the PagerDuty stand-in`);
      incident.status = status;
    },
    openIncident,
    addIntegration: (routingKey, serviceId) => void integrations.set(routingKey, serviceId),
    reset: () => {
      events.splice(0);
      incidents.splice(0);
      requests.splice(0);
      faults.clear();
    },
    faults,
    requests,
  };
}
