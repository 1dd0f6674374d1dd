/**
 * Defaults taken from seed 000 (Acme's blue-green runbook) and, for canary, seed 004.
 * Durations are in seconds.
 */
export const DEFAULT_CHECKLIST = [
  'All CI checks pass on the release branch (unit, integration, contract tests).',
  'Database migrations have been applied to staging and verified.',
  'Feature flags for unreleased functionality are defaulted to OFF.',
  'The on-call engineer has been notified in #deployments Slack channel.',
  'Change request ticket (JIRA `DEPLOY-*`) is approved by the release manager.',
  'Rollback procedure has been reviewed with at least one other engineer.',
  'Artifact SHA has been promoted from staging — never build directly for prod.',
] as const;

/** Seed 000: 10% → 50% → 100%, monitoring 5 minutes at each stage. */
export const DEFAULT_BLUE_GREEN_STAGES = [
  { weight: 10, bakeSeconds: 300 },
  { weight: 50, bakeSeconds: 300 },
  { weight: 100, bakeSeconds: 0 },
] as const;

/** Seed 004: 5% (10 min) → 25% (15 min) → 50% (15 min) → 100% (10 min). */
export const DEFAULT_CANARY_STAGES = [
  { weight: 5, bakeSeconds: 600 },
  { weight: 25, bakeSeconds: 900 },
  { weight: 50, bakeSeconds: 900 },
  { weight: 100, bakeSeconds: 600 },
] as const;

export const DEFAULT_GATE_INTERVAL_SECONDS = 30;
export const DEFAULT_FAILURE_LIMIT = 1;
export const DEFAULT_INCONCLUSIVE_LIMIT = 3;
/** Seed 000: roll back automatically within 15 minutes of the traffic shift. */
export const DEFAULT_ROLLBACK_WINDOW_SECONDS = 900;
/** Seed 000: 30 minutes of post-deploy monitoring. */
export const DEFAULT_MONITOR_SECONDS = 1800;
export const DEFAULT_ROLLOUT_TIMEOUT_SECONDS = 600;
/** An unapproved deployment expires after 4 hours. */
export const DEFAULT_APPROVAL_TIMEOUT_SECONDS = 4 * 3600;
/** Seed 000: p99 latency must stay under 800 ms. */
export const DEFAULT_P99_MAX_SECONDS = 0.8;
/** Seed 000: error rate must stay under 1% of requests. */
export const DEFAULT_ERROR_RATE_MAX = 0.01;
/** Seed 000's thresholds on the service's Datadog APM metrics (`trace.http.request.*`). */
export const seed000MetricGates = (service: string) => [
  { name: 'p99 latency', query: `p99:trace.http.request.duration{service:${service}}`, max: DEFAULT_P99_MAX_SECONDS },
  {
    name: 'error rate',
    query: `sum:trace.http.request.errors{service:${service}}.as_rate()/sum:trace.http.request.hits{service:${service}}.as_rate()`,
    max: DEFAULT_ERROR_RATE_MAX,
  },
];

/** Seed 000: SEV1 and SEV2 alerts firing trigger a rollback. */
export const DEFAULT_MONITOR_PRIORITIES = [1, 2] as const;
/** Seed 000 smoke test: auth token within 200 ms. */
export const DEFAULT_SMOKE_MAX_LATENCY_MS = 200;
