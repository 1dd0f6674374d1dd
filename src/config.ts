import { z } from 'zod';
import { ConfigInvalid } from './errors.js';
import { formatPath } from './runbook/catalog.js';

const optionalUrl = (hint: string) => z.url({ error: `must be a URL such as ${hint}` }).optional();
const httpUrl = (hint: string) =>
  z.url({ protocol: /^https?$/, error: `must be an http(s) URL such as ${hint}` }).optional();
const positiveInt = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .positive('must be more than 0')
    .default(fallback);

const EnvSchema = z
  .object({
    SLACK_BOT_TOKEN: z.string({ error: 'is required (xoxb-…)' }).min(1, 'is required (xoxb-…)'),
    /** Verifies requests over HTTP; Socket Mode (SLACK_APP_TOKEN) receives over its own authenticated socket. */
    SLACK_SIGNING_SECRET: z.string().min(1).optional(),
    SLACK_APP_TOKEN: z.string().startsWith('xapp-', 'must start with xapp- (an app-level token)').optional(),
    SLACK_API_URL: optionalUrl('https://slack.com/api/').refine(
      (u) => u === undefined || u.endsWith('/api/'),
      'must end in /api/',
    ),
    REDIS_URL: z
      .url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' })
      .default('redis://127.0.0.1:6379'),
    SERVICES_FILE: z.string().min(1).default('services.yaml'),
    PORT: z.coerce
      .number({ error: 'must be a port number' })
      .int()
      .min(0, 'must be 0..65535')
      .max(65535, 'must be 0..65535')
      .default(3000),
    DD_API_KEY: z.string().optional(),
    DD_APP_KEY: z.string().optional(),
    DD_SITE: z.string().default('datadoghq.com'),
    DATADOG_API_URL: optionalUrl('http://127.0.0.1:8126'),
    /** Events API v2 integration key; a service's `pagerduty.routingKey` overrides it. Paging is off without any. */
    PAGERDUTY_ROUTING_KEY: z
      .string()
      .regex(/^[A-Za-z0-9]{32}$/, 'must be a 32-character Events API v2 integration key')
      .optional(),
    /** REST API token, to read the open incidents of a service's PagerDuty service. */
    PAGERDUTY_API_TOKEN: z.string().optional(),
    PAGERDUTY_EVENTS_URL: httpUrl('https://events.pagerduty.com'),
    PAGERDUTY_API_URL: httpUrl('https://api.pagerduty.com'),
    /** GitHub token (contents: read, deployments: write): commit lists in announcements, GitHub deployments. Off without it. */
    GITHUB_TOKEN: z.string().optional(),
    GITHUB_API_URL: httpUrl('https://api.github.com'),
    /** Key prefix in Redis and BullMQ queue prefix; lets several installs (or tests) share one Redis. */
    SWITCHYARD_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _ only')
      .default('switchyard'),
    /** Days a finished deployment's record, events and messages are kept; DORA needs 30. */
    RETENTION_DAYS: z.coerce
      .number({ error: 'must be a number of days' })
      .int('must be a whole number of days')
      .min(30, 'must be at least 30 (DORA metrics look back 30 days)')
      .default(90),
    /** How many deployments one worker process runs at once. */
    WORKER_CONCURRENCY: positiveInt(50),
    /**
     * BullMQ lock and stall check: a killed worker's deployment is taken up by another worker
     * between half the lock and the lock plus one interval after the kill (2.5-6 s by default).
     * The lock is renewed every half lock, so a worker whose event loop or Redis stalls longer
     * than that loses its deployment to another worker.
     */
    WORKER_LOCK_MS: positiveInt(5_000),
    WORKER_STALLED_INTERVAL_MS: positiveInt(1_000),
    /** Slack messages per second per channel from the outbox (Slack allows about one, with short bursts). */
    SLACK_CHANNEL_MESSAGES_PER_SECOND: z.coerce
      .number({ error: 'must be a number' })
      .positive('must be more than 0')
      .default(1),
    /** The announcement's status line is edited at most this often. */
    ANNOUNCEMENT_UPDATE_MS: positiveInt(3_000),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Basic-auth credential of the queue dashboard (Bull Board) at /admin/queues; off unless both are set. */
    BULL_BOARD_USER: z
      .string()
      .regex(/^[^:\s]+$/, 'must not contain a colon or spaces')
      .optional(),
    BULL_BOARD_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  })
  .superRefine(
    (env, problems) => {
      if (env.SLACK_SIGNING_SECRET === undefined && env.SLACK_APP_TOKEN === undefined) {
        problems.addIssue({
          code: 'custom',
          path: ['SLACK_SIGNING_SECRET'],
          message: 'is required (or set SLACK_APP_TOKEN, xapp-…, to receive over Socket Mode instead of HTTP)',
        });
      }
    },
    // Only asks whether two variables are present, so it is named alongside the other variables' problems.
    { when: () => true },
  )
  .superRefine((env, problems) => {
    const [set, missing] =
      env.BULL_BOARD_USER === undefined
        ? ['BULL_BOARD_PASSWORD', 'BULL_BOARD_USER']
        : ['BULL_BOARD_USER', 'BULL_BOARD_PASSWORD'];
    if ((env.BULL_BOARD_USER === undefined) !== (env.BULL_BOARD_PASSWORD === undefined)) {
      problems.addIssue({
        code: 'custom',
        path: [missing],
        message: `is required when ${set} is set (the queue dashboard needs both, or neither to stay off)`,
      });
    }
  });

export type Config = z.infer<typeof EnvSchema>;

/** Parses the environment; throws one line per bad variable, naming it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = EnvSchema.safeParse(present);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `${formatPath(issue.path)} ${issue.message}`);
    throw new ConfigInvalid(`invalid environment: ${lines.join('; ')}`);
  }
  return result.data;
}
