import type { ServerResponse } from 'node:http';
import { FaultControls, sendJson, startHttpStandIn, type RecordedRequest, type StandIn } from './http-server.js';

export type MonitorState = 'OK' | 'Alert' | 'Warn' | 'No Data';

export interface StandInMonitor {
  id: number;
  name: string;
  tags: string[];
  priority: number | null;
  state: MonitorState;
  type: string;
  query: string;
}

type MetricValue = number | null | (() => number | null);

interface MetricRule {
  match: string | RegExp;
  /** Either one value served at every point, or a whole point list (oldest first). */
  value: MetricValue | (number | null)[];
}

/** One log event: its reserved attributes and tags as `key: value` (service, status, version…). */
export interface StandInLog {
  timestamp: number;
  message: string;
  attributes: Record<string, string>;
}

export interface StandInSlo {
  id: string;
  name: string;
  /** The first threshold's: `7d`, `30d` or `90d`. */
  timeframe: '7d' | '30d' | '90d';
  target: number;
  /** Percent of the error budget left over the timeframe; null = the history has none (no data). */
  budgetRemaining: number | null;
}

export interface DatadogStandIn extends StandIn {
  /** The value served for queries equal to (string) or matching (RegExp) `query`; null = no data. */
  setMetric(query: string | RegExp, value: MetricValue): void;
  /** A whole point list for matching queries, oldest first; nulls are gaps, as Datadog sends them. */
  setSeries(query: string | RegExp, points: (number | null)[]): void;
  clearMetrics(): void;
  addMonitor(monitor: {
    name: string;
    tags: string[];
    priority?: number | null;
    state: MonitorState;
    type?: string;
    query?: string;
  }): number;
  setMonitorState(id: number, state: MonitorState): void;
  /** `count` log events with these attributes at `timestamp` (default now), as an intake would store them. */
  addLogs(attributes: Record<string, string>, options?: { count?: number; timestamp?: number; message?: string }): void;
  logs: StandInLog[];
  /** Defines an SLO (its id is generated unless given) and returns its id. */
  addSlo(slo: Omit<StandInSlo, 'id'> & { id?: string }): string;
  setSloBudget(id: string, budgetRemaining: number | null): void;
  slos: StandInSlo[];
  monitors: StandInMonitor[];
  /** Deploy markers, DORA deployments and DORA failures received, in order. */
  deployRecords: DeployRecordsReceived;
  faults: FaultControls;
  requests: RecordedRequest[];
}

/** What the events and DORA endpoints received, as the client sent it (snake_case wire names). */
export interface DeployRecordsReceived {
  events: {
    title: string;
    text: string;
    tags: string[];
    alert_type?: string;
    date_happened?: number;
    aggregation_key?: string;
  }[];
  doraDeployments: Record<string, unknown>[];
  doraFailures: Record<string, unknown>[];
}

/**
 * `POST /api/v1/events` (an event, answered 202 with it) and `POST /api/v2/dora/deployment` and
 * `/api/v2/dora/failure` (answered 202 with the record's id), which take the API key alone.
 * Returns whether it answered the request.
 */
function deployRecordRoutes(apiKey: string | undefined) {
  const received: DeployRecordsReceived = { events: [], doraDeployments: [], doraFailures: [] };
  let nextEventId = 7_000_000_001;
  const handle = (req: RecordedRequest, res: ServerResponse): boolean => {
    const routes = ['/api/v1/events', '/api/v2/dora/deployment', '/api/v2/dora/failure'];
    if (req.method !== 'POST' || !routes.includes(req.path)) return false;
    const key = req.headers['dd-api-key'];
    if (typeof key !== 'string' || !key || (apiKey !== undefined && key !== apiKey)) {
      forbidden(res);
      return true;
    }
    const body = JSON.parse(req.body || '{}') as Record<string, unknown>;
    if (req.path === '/api/v1/events') {
      const event = body as DeployRecordsReceived['events'][number];
      if (typeof event.title !== 'string' || typeof event.text !== 'string') {
        sendJson(res, 400, { errors: ['Event title and text are required'] });
        return true;
      }
      received.events.push({ ...event, tags: event.tags ?? [] });
      const id = nextEventId++;
      sendJson(res, 202, {
        status: 'ok',
        event: {
          ...event,
          id,
          id_str: String(id),
          priority: 'normal',
          url: `https://app.datadoghq.com/event/event?id=${id}`,
        },
      });
      return true;
    }
    const attributes = ((body.data ?? {}) as { attributes?: Record<string, unknown> }).attributes ?? {};
    const failure = req.path.endsWith('/failure');
    const missing = ['startedAt', failure ? 'services' : 'service', ...(failure ? [] : ['finishedAt'])]
      .map((field) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`))
      .filter((field) => attributes[field] === undefined);
    if (missing.length > 0) {
      sendJson(res, 400, { errors: missing.map((field) => `missing required attribute "${field}"`) });
      return true;
    }
    (failure ? received.doraFailures : received.doraDeployments).push(attributes);
    sendJson(res, 202, {
      data: { id: String(attributes.id ?? `dora-${Date.now()}`), type: failure ? 'dora_failure' : 'dora_deployment' },
    });
    return true;
  };
  return { received, handle };
}

const POINTS_PER_SERIES = 5;

/** `p99:trace.http.request.duration{service:a,env:prod}.as_rate()` → metric name and scope. */
function parseQuery(query: string): { aggr?: string; metric: string; scope: string } {
  const m = /^(?:(\w+):)?([\w.]+)\{([^}]*)\}/.exec(query.trim());
  if (!m) return { metric: query, scope: '*' };
  return { aggr: m[1], metric: m[2] ?? query, scope: m[3] || '*' };
}

/** The `{…}` scope tags of a monitor's query, as `GET /monitor?tags=` filters on them. */
const scopeTags = (query: string): string[] =>
  [...query.matchAll(/\{([^}]*)\}/g)].flatMap((m) => (m[1] ?? '').split(',').map((t) => t.trim()));

const csv = (value: string | null): string[] =>
  value
    ? value
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean)
    : [];

const forbidden = (res: ServerResponse): void => sendJson(res, 403, { errors: ['Forbidden'] });

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A logs search bound: milliseconds, an ISO date, `now` or `now-15m`, as Datadog accepts them. */
function parseTimeBound(value: unknown, now: number): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return Number(text);
  const relative = /^now(?:-(\d+)([smhd]))?$/.exec(text);
  if (relative) return now - (relative[1] ? Number(relative[1]) * (UNIT_MS[relative[2] ?? 's'] ?? 0) : 0);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : date;
}

/**
 * The subset of the log search syntax the gates use: `key:value` terms (tags and reserved
 * attributes, `*` as a wildcard in the value), `-key:value` to exclude, free words in the
 * message, all ANDed; `*` alone matches everything.
 */
function matchesLogQuery(log: StandInLog, query: string): boolean {
  const terms = query
    .trim()
    .split(/\s+/)
    .filter((t) => t && t !== '*' && t !== 'AND');
  return terms.every((term) => {
    const negated = term.startsWith('-');
    const body = negated ? term.slice(1) : term;
    const colon = body.indexOf(':');
    let hit: boolean;
    if (colon > 0) {
      const key = body.slice(0, colon).replace(/^@/, '');
      const pattern = new RegExp(
        `^${body
          .slice(colon + 1)
          .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
          .replaceAll('*', '.*')}$`,
        'i',
      );
      const value = log.attributes[key];
      hit = value !== undefined && pattern.test(value);
    } else hit = log.message.toLowerCase().includes(body.toLowerCase());
    return negated ? !hit : hit;
  });
}

/**
 * A stand-in for the parts of Datadog's v1 API that Switchyard reads, in Datadog's own wire
 * format, so the official client can be pointed at it (`DATADOG_API_URL`).
 */
export async function startDatadogStandIn(
  options: { port?: number; apiKey?: string; appKey?: string } = {},
): Promise<DatadogStandIn> {
  const rules: MetricRule[] = [];
  const monitors: StandInMonitor[] = [];
  const faults = new FaultControls();
  const requests: RecordedRequest[] = [];
  let nextId = 1_000_001;
  const deployRecords = deployRecordRoutes(options.apiKey);

  const authorized = (req: RecordedRequest): boolean => {
    const api = req.headers['dd-api-key'];
    const app = req.headers['dd-application-key'];
    if (typeof api !== 'string' || !api || typeof app !== 'string' || !app) return false;
    return (
      (options.apiKey === undefined || api === options.apiKey) &&
      (options.appKey === undefined || app === options.appKey)
    );
  };

  const pointsFor = (query: string): (number | null)[] => {
    // The latest rule wins, so a test can override a broad RegExp with a later, narrower one.
    const rule = [...rules]
      .reverse()
      .find((r) => (typeof r.match === 'string' ? r.match === query : r.match.test(query)));
    if (!rule) return [];
    if (Array.isArray(rule.value)) return rule.value;
    const value = typeof rule.value === 'function' ? rule.value() : rule.value;
    return value === null ? [] : Array.from({ length: POINTS_PER_SERIES }, () => value);
  };

  const answerQuery = (req: RecordedRequest, res: ServerResponse): void => {
    const from = Number(req.query.get('from'));
    const to = Number(req.query.get('to'));
    const query = req.query.get('query');
    if (!query || !Number.isFinite(from) || !Number.isFinite(to)) {
      sendJson(res, 400, { errors: ['The parameters from, to and query are required'] });
      return;
    }
    const points = pointsFor(query);
    const interval = Math.max(1, Math.floor((to - from) / Math.max(points.length, 1)));
    const start = to - interval * (points.length - 1);
    const { aggr, metric, scope } = parseQuery(query);
    const series =
      points.length === 0 || points.every((p) => p === null)
        ? []
        : [
            {
              aggr: aggr ?? null,
              display_name: metric,
              end: to * 1000,
              expression: query,
              interval,
              length: points.length,
              metric,
              pointlist: points.map((value, i) => [(start + i * interval) * 1000, value]),
              query_index: 0,
              scope,
              start: start * 1000,
              tag_set: scope === '*' ? [] : scope.split(','),
              unit: null,
            },
          ];
    sendJson(res, 200, {
      status: 'ok',
      res_type: 'time_series',
      resp_version: 1,
      series,
      from_date: from * 1000,
      to_date: to * 1000,
      group_by: [],
      query,
      message: '',
    });
  };

  const wireMonitor = (m: StandInMonitor, withGroups: boolean) => ({
    id: m.id,
    name: m.name,
    type: m.type,
    query: m.query,
    message: `${m.name} @pagerduty`,
    tags: m.tags,
    priority: m.priority,
    overall_state: m.state,
    overall_state_modified: new Date().toISOString(),
    options: { notify_no_data: false, thresholds: { critical: 1 } },
    multi: false,
    created: '2024-01-01T00:00:00.000000+00:00',
    modified: '2024-01-01T00:00:00.000000+00:00',
    deleted: null,
    restricted_roles: null,
    org_id: 1,
    creator: { email: 'sre@example.com', handle: 'sre@example.com', name: 'SRE' },
    ...(withGroups ? { state: { groups: {} } } : {}),
  });

  const answerListMonitors = (req: RecordedRequest, res: ServerResponse): void => {
    const monitorTags = csv(req.query.get('monitor_tags'));
    const tags = csv(req.query.get('tags'));
    const name = req.query.get('name')?.toLowerCase();
    const matching = monitors.filter(
      (m) =>
        monitorTags.every((t) => m.tags.includes(t)) &&
        tags.every((t) => scopeTags(m.query).includes(t)) &&
        (!name || m.name.toLowerCase().includes(name)),
    );
    const page = req.query.get('page');
    const pageSize = Number(req.query.get('page_size') ?? 100);
    // Datadog returns every monitor when `page` is absent, and pages only when asked.
    const shown = page === null ? matching : matching.slice(Number(page) * pageSize, (Number(page) + 1) * pageSize);
    sendJson(
      res,
      200,
      shown.map((m) => wireMonitor(m, req.query.has('group_states'))),
    );
  };

  /** Monitor search syntax, the subset that matters here: `tag:"k:v"`, `status:alert`, `priority:p1`, free text. */
  const answerSearch = (req: RecordedRequest, res: ServerResponse): void => {
    const terms = [...(req.query.get('query') ?? '').matchAll(/(\w+):"([^"]*)"|(\w+):(\S+)|(\S+)/g)];
    const matching = monitors.filter((m) =>
      terms.every((t) => {
        const key = (t[1] ?? t[3])?.toLowerCase();
        const value = (t[2] ?? t[4] ?? t[5] ?? '').toLowerCase();
        if (key === 'tag') return m.tags.some((tag) => tag.toLowerCase() === value);
        if (key === 'status') return m.state.toLowerCase() === value;
        if (key === 'priority') return m.priority !== null && `p${m.priority}` === value;
        if (key === 'id') return String(m.id) === value;
        return m.name.toLowerCase().includes(value);
      }),
    );
    const perPage = Number(req.query.get('per_page') ?? 30);
    const page = Number(req.query.get('page') ?? 0);
    sendJson(res, 200, {
      monitors: matching.slice(page * perPage, (page + 1) * perPage).map((m) => ({
        id: m.id,
        name: m.name,
        status: m.state,
        tags: m.tags,
        type: m.type,
        query: m.query,
        classification: 'metric',
        creator: { handle: 'sre@example.com', name: 'SRE' },
        last_triggered_ts: m.state === 'Alert' ? Math.floor(Date.now() / 1000) : null,
        metrics: [parseQuery(m.query).metric],
        notifications: [],
        org_id: 1,
        scopes: scopeTags(m.query),
      })),
      metadata: {
        page,
        page_count: Math.ceil(matching.length / perPage),
        per_page: perPage,
        total_count: matching.length,
      },
      counts: { status: [], type: [], tag: [], muted: [] },
    });
  };

  const logs: StandInLog[] = [];
  const slos: StandInSlo[] = [];

  /** `POST /api/v2/logs/analytics/aggregate` with one `count` compute of type `total` and no group-by. */
  const answerLogsAggregate = (req: RecordedRequest, res: ServerResponse): void => {
    let body: {
      compute?: { aggregation?: string; type?: string }[];
      filter?: { query?: string; from?: string; to?: string };
      group_by?: unknown[];
    };
    try {
      body = JSON.parse(req.body || '{}') as typeof body;
    } catch {
      sendJson(res, 400, { errors: ['Malformed JSON'] });
      return;
    }
    const compute = body.compute ?? [{ aggregation: 'count', type: 'total' }];
    if (compute.some((c) => c.aggregation !== 'count') || (body.group_by?.length ?? 0) > 0) {
      sendJson(res, 400, { errors: ['this stand-in counts logs only (aggregation count, no group_by)'] });
      return;
    }
    const now = Date.now();
    const from = parseTimeBound(body.filter?.from ?? 'now-15m', now);
    const to = parseTimeBound(body.filter?.to ?? 'now', now);
    if (from === undefined || to === undefined) {
      sendJson(res, 400, { errors: ['filter.from and filter.to must be dates, timestamps or now-relative'] });
      return;
    }
    const query = body.filter?.query ?? '*';
    const count = logs.filter((l) => l.timestamp >= from && l.timestamp <= to && matchesLogQuery(l, query)).length;
    sendJson(res, 200, {
      data: { buckets: [{ by: {}, computes: Object.fromEntries(compute.map((_, i) => [`c${i}`, count])) }] },
      meta: { elapsed: 12, request_id: `req-${now}`, status: 'done' },
    });
  };

  const wireThreshold = (slo: StandInSlo) => ({
    target: slo.target,
    target_display: String(slo.target),
    timeframe: slo.timeframe,
  });

  /** `GET /api/v1/slo/{slo_id}` */
  const answerSlo = (slo: StandInSlo, res: ServerResponse): void =>
    sendJson(res, 200, {
      data: {
        id: slo.id,
        name: slo.name,
        type: 'metric',
        type_id: 1,
        description: null,
        tags: [],
        monitor_ids: [],
        query: {
          numerator: 'sum:trace.http.request.hits{status:ok}.as_count()',
          denominator: 'sum:trace.http.request.hits{*}.as_count()',
        },
        thresholds: [wireThreshold(slo)],
        target_threshold: slo.target,
        timeframe: slo.timeframe,
        created_at: 1_700_000_000,
        modified_at: 1_700_000_000,
        creator: { email: 'sre@example.com', handle: 'sre@example.com', name: 'SRE' },
      },
      errors: [],
    });

  /** `GET /api/v1/slo/{slo_id}/history?from_ts&to_ts`: the budget per threshold timeframe in `overall`. */
  const answerSloHistory = (slo: StandInSlo, req: RecordedRequest, res: ServerResponse): void => {
    const fromTs = Number(req.query.get('from_ts'));
    const toTs = Number(req.query.get('to_ts'));
    if (!Number.isInteger(fromTs) || !Number.isInteger(toTs) || fromTs >= toTs) {
      sendJson(res, 400, { errors: ['from_ts and to_ts are required epoch seconds, from_ts before to_ts'] });
      return;
    }
    const budget = slo.budgetRemaining;
    const sli = budget === null ? null : 100 - ((100 - slo.target) * (100 - budget)) / 100;
    sendJson(res, 200, {
      data: {
        from_ts: fromTs,
        to_ts: toTs,
        type: 'metric',
        type_id: 1,
        thresholds: { [slo.timeframe]: wireThreshold(slo) },
        overall: {
          name: slo.name,
          sli_value: sli,
          span_precision: 2,
          precision: { [slo.timeframe]: 2 },
          error_budget_remaining: budget === null ? {} : { [slo.timeframe]: budget },
        },
      },
      errors: budget === null ? [{ error: 'no data for the SLO in this window' }] : null,
    });
  };

  const routeSlo = (req: RecordedRequest, res: ServerResponse): void => {
    const match = /^\/api\/v1\/slo\/([^/]+)(\/history)?$/.exec(req.path);
    const slo = slos.find((s) => s.id === decodeURIComponent(match?.[1] ?? ''));
    if (!slo) return sendJson(res, 404, { errors: ['SLO not found'] });
    if (match?.[2]) return answerSloHistory(slo, req, res);
    return answerSlo(slo, res);
  };

  const server = await startHttpStandIn(
    (req, res) => {
      if (deployRecords.handle(req, res)) return;
      if (!authorized(req)) return forbidden(res);
      if (req.method === 'GET' && req.path === '/api/v1/query') return answerQuery(req, res);
      if (req.method === 'GET' && req.path === '/api/v1/monitor') return answerListMonitors(req, res);
      if (req.method === 'GET' && req.path === '/api/v1/monitor/search') return answerSearch(req, res);
      if (req.method === 'POST' && req.path === '/api/v2/logs/analytics/aggregate')
        return answerLogsAggregate(req, res);
      if (req.method === 'GET' && req.path.startsWith('/api/v1/slo/')) return routeSlo(req, res);
      sendJson(res, 404, { errors: ['Not found'] });
    },
    { port: options.port, faults, log: requests },
  );

  const setRule = (match: string | RegExp, value: MetricRule['value']): void => {
    const existing = rules.findIndex((r) => String(r.match) === String(match) && typeof r.match === typeof match);
    if (existing >= 0) rules.splice(existing, 1);
    rules.push({ match, value });
  };

  return {
    ...server,
    setMetric: (query, value) => setRule(query, value),
    setSeries: (query, points) => setRule(query, [...points]),
    clearMetrics: () => void rules.splice(0),
    addMonitor: (m) => {
      const id = nextId++;
      monitors.push({
        id,
        name: m.name,
        tags: [...m.tags],
        priority: m.priority ?? null,
        state: m.state,
        type: m.type ?? 'metric alert',
        query: m.query ?? `avg(last_5m):avg:trace.http.request.errors{${m.tags.join(',')}} > 1`,
      });
      return id;
    },
    setMonitorState: (id, state) => {
      const monitor = monitors.find((m) => m.id === id);
      if (!monitor) throw new Error(`no monitor ${id} in the Datadog stand-in`);
      monitor.state = state;
    },
    addLogs: (attributes, options = {}) => {
      for (let i = 0; i < (options.count ?? 1); i++)
        logs.push({
          timestamp: options.timestamp ?? Date.now(),
          message: options.message ?? `${attributes.status ?? 'info'} log ${logs.length + 1}`,
          attributes: { ...attributes },
        });
    },
    logs,
    addSlo: (slo) => {
      const id = slo.id ?? `${(nextId++).toString(16)}${'0'.repeat(24)}`;
      slos.push({ ...slo, id });
      return id;
    },
    setSloBudget: (id, budgetRemaining) => {
      const slo = slos.find((s) => s.id === id);
      if (!slo) throw new Error(`no SLO ${id} in the Datadog stand-in`);
      slo.budgetRemaining = budgetRemaining;
    },
    slos,
    monitors,
    deployRecords: deployRecords.received,
    faults,
    requests,
  };
}
