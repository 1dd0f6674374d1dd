import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { wholeVersionRule } from '../domain/version.js';
import { DEFAULT_SCHEDULE_GRACE_SECONDS } from '../domain/schedule-time.js';
import { CatalogInvalid } from '../errors.js';
import {
  DEFAULT_APPROVAL_TIMEOUT_SECONDS,
  DEFAULT_BLUE_GREEN_STAGES,
  DEFAULT_CANARY_STAGES,
  DEFAULT_CHECKLIST,
  DEFAULT_FAILURE_LIMIT,
  DEFAULT_GATE_INTERVAL_SECONDS,
  DEFAULT_INCONCLUSIVE_LIMIT,
  DEFAULT_MONITOR_PRIORITIES,
  DEFAULT_MONITOR_SECONDS,
  DEFAULT_ROLLBACK_WINDOW_SECONDS,
  DEFAULT_ROLLOUT_TIMEOUT_SECONDS,
  DEFAULT_SMOKE_MAX_LATENCY_MS,
  seed000MetricGates,
} from './defaults.js';
import {
  ApprovalSchema,
  DEFAULT_ENVIRONMENT,
  EnvironmentNameSchema,
  EnvironmentSchema,
  mergeOverride,
  promotionLoops,
} from './environments.js';

/** The checklist modal also holds a header, summary, ticket, strategy and justification: 100 blocks in all. */
export const MAX_CHECKLIST_ITEMS = 90;

const checklistItems = z
  .array(z.string().min(1).max(2000))
  .min(1)
  .max(MAX_CHECKLIST_ITEMS, `at most ${MAX_CHECKLIST_ITEMS} items (a Slack modal holds 100 blocks)`);
const seconds = z.number({ error: 'must be a number of seconds' }).min(0, 'must be 0 or more');
const slackUser = z.string().regex(/^[UW][A-Z0-9]+$/, 'must be a Slack user id (U…)');
const slackChannel = z.string().regex(/^[CGD][A-Z0-9]+$/, 'must be a Slack channel id (C…)');
const dayName = z.enum(['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'], {
  error: 'must be one of Mon Tue Wed Thu Fri Sat Sun',
});
const hourRange = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$/, { message: 'must be HH:MM-HH:MM', abort: true })
  .refine((range) => {
    const [from, to] = range.split('-');
    return (from ?? '') < (to ?? '');
  }, 'must end after it starts (split a range that crosses midnight in two)');
/** A service's own version rule, compiled here so that a bad one stops the start instead of a /deploy. */
const versionPattern = z
  .string()
  .min(1)
  .superRefine((pattern, ctx) => {
    try {
      wholeVersionRule(pattern);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `is not a regular expression (${(error as Error).message})` });
    }
  });
const colorMap = <T extends z.ZodType>(value: T) => z.strictObject({ blue: value, green: value });
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

export const StrategySchema = z.enum(['blue-green', 'canary', 'rolling'], {
  error: 'must be blue-green, canary or rolling',
});
export type Strategy = z.infer<typeof StrategySchema>;

const StageSchema = z.strictObject({
  weight: z.number().int('must be a whole number').min(0, 'must be 0..100').max(100, 'must be 0..100'),
  bakeSeconds: seconds,
});
export type Stage = z.infer<typeof StageSchema>;

const MetricGateSchema = z
  .strictObject({
    name: z.string().min(1),
    query: z.string().min(1, 'must be a Datadog metric query'),
    max: z.number().optional(),
    min: z.number().optional(),
    maxOverBaseline: z
      .strictObject({ ratio: z.number().positive().optional(), delta: z.number().min(0).optional() })
      .refine((b) => b.ratio !== undefined || b.delta !== undefined, 'needs ratio or delta')
      .optional(),
  })
  .refine(
    (m) => m.max !== undefined || m.min !== undefined || m.maxOverBaseline !== undefined,
    'needs max, min or maxOverBaseline',
  );
export type MetricGate = z.infer<typeof MetricGateSchema>;

const LogGateSchema = z.strictObject({
  name: z.string().min(1),
  query: z.string().min(1, 'must be a Datadog log search query such as "service:acme-api status:error"'),
  max: z.number({ error: 'must be a number of logs' }).int('must be a whole number').min(0, 'must be 0 or more'),
  windowSeconds: z.number({ error: 'must be a number of seconds' }).positive('must be more than 0'),
});

const SloGateSchema = z.strictObject({
  name: z.string().min(1),
  id: z.string().regex(/^[A-Za-z0-9]+$/, 'must be a Datadog SLO id (letters and digits)'),
  minBudgetRemaining: z
    .number({ error: 'must be a percentage' })
    .min(-100, 'must be a percentage, -100..100')
    .max(100, 'must be a percentage, -100..100'),
});

const SmokeSchema = z.strictObject({
  name: z.string().min(1),
  method: z.enum(['GET', 'POST', 'PUT', 'HEAD']).default('GET'),
  url: z.string().min(1),
  expectStatus: z.number().int().min(100).max(599).default(200),
  maxLatencyMs: z.number().positive().default(DEFAULT_SMOKE_MAX_LATENCY_MS),
  body: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
});
export type SmokeCheck = z.infer<typeof SmokeSchema>;

const HookSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label (lower case, digits, -)'),
  image: z.string().min(1),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string()).optional(),
  timeoutSeconds: seconds.default(600),
});
export type Hook = z.infer<typeof HookSchema>;

const ServiceFields = z.strictObject({
  strategy: StrategySchema.default('blue-green'),
  versionPattern: versionPattern.optional(),
  github: z
    .strictObject({
      repo: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be owner/name, e.g. acme/acme-api'),
    })
    .optional(),
  deployers: z.array(slackUser).optional(),
  /** This service's approval rules, over its environment's and the catalog's. */
  approval: ApprovalSchema.optional(),
  checklist: checklistItems.optional(),
  traffic: z
    .strictObject({
      provider: z.literal('alb', { error: 'must be alb' }).default('alb'),
      listenerArn: z.string().startsWith('arn:', 'must be an ARN'),
      ruleArn: z.string().startsWith('arn:', 'must be an ARN').optional(),
      targetGroups: colorMap(z.string().startsWith('arn:', 'must be an ARN')),
    })
    .optional(),
  workload: z.strictObject({
    provider: z.literal('kubernetes', { error: 'must be kubernetes' }).default('kubernetes'),
    namespace: z.string().min(1),
    deployments: z.union([colorMap(z.string().min(1)), z.strictObject({ main: z.string().min(1) })], {
      error: 'must be { blue, green } or, for rolling, { main }',
    }),
    container: z.string().min(1),
    image: z
      .string()
      .min(1)
      .refine((s) => !/:[^/]*$/.test(s), 'must be the repository without a tag'),
    rolloutTimeoutSeconds: seconds.default(DEFAULT_ROLLOUT_TIMEOUT_SECONDS),
  }),
  health: z
    .strictObject({
      urls: z.union([colorMap(httpUrl), z.strictObject({ main: httpUrl })]),
      versionField: z.string().min(1).default('sha'),
      timeoutMs: z.number().positive().default(5000),
    })
    .optional(),
  smoke: z.array(SmokeSchema).default([]),
  stages: z.array(StageSchema).min(1).optional(),
  gates: z
    .strictObject({
      intervalSeconds: z.number().positive('must be more than 0').default(DEFAULT_GATE_INTERVAL_SECONDS),
      failureLimit: z.number().int().min(0).default(DEFAULT_FAILURE_LIMIT),
      inconclusiveLimit: z.number().int().min(1).default(DEFAULT_INCONCLUSIVE_LIMIT),
      // Omitted: seed 000's gates for the service (see withDefaultGates); [] turns them off.
      metrics: z.array(MetricGateSchema).optional(),
      logs: z.array(LogGateSchema).optional(),
      slos: z.array(SloGateSchema).optional(),
      monitors: z
        .strictObject({
          tags: z.array(z.string()).min(1),
          priorities: z.array(z.number().int().min(1).max(5)).default([...DEFAULT_MONITOR_PRIORITIES]),
        })
        .optional(),
    })
    .prefault({}),
  rollbackWindowSeconds: seconds.default(DEFAULT_ROLLBACK_WINDOW_SECONDS),
  monitorSeconds: seconds.default(DEFAULT_MONITOR_SECONDS),
  pagerduty: z
    .strictObject({
      routingKey: z
        .string()
        .regex(/^[A-Za-z0-9]{32}$/, 'must be a 32-character Events API v2 integration key')
        .optional(),
      serviceId: z
        .string()
        .regex(/^P[A-Z0-9]{6}$/, 'must be a PagerDuty service id such as PABC123')
        .optional(),
    })
    .optional(),
  hooks: z
    .strictObject({ preDeploy: z.array(HookSchema).default([]), postDeploy: z.array(HookSchema).default([]) })
    .prefault({}),
});

/** The checks across a service's keys; the same for its own keys and for each environment's merge. */
function checkService(s: z.output<typeof ServiceFields>, ctx: z.core.$RefinementCtx): void {
  const paired = 'blue' in s.workload.deployments;
  if (s.strategy === 'rolling' && paired) {
    ctx.addIssue({
      code: 'custom',
      path: ['workload', 'deployments'],
      message: 'rolling needs { main: <deployment> }',
    });
  }
  if (s.strategy !== 'rolling' && !paired) {
    ctx.addIssue({
      code: 'custom',
      path: ['workload', 'deployments'],
      message: `${s.strategy} needs { blue, green }`,
    });
  }
  if (s.strategy === 'rolling' && s.traffic) {
    ctx.addIssue({
      code: 'custom',
      path: ['traffic'],
      message: 'rolling deployments have no traffic weights; remove it or use blue-green / canary',
    });
  }
  if (s.health && 'main' in s.health.urls === paired) {
    ctx.addIssue({
      code: 'custom',
      path: ['health', 'urls'],
      message: paired ? 'needs { blue, green } for a blue/green pair' : 'needs { main } for rolling',
    });
  }
  if (s.strategy !== 'rolling' && !s.traffic) {
    ctx.addIssue({ code: 'custom', path: ['traffic'], message: `is required for ${s.strategy}` });
  }
  if (s.stages) {
    s.stages.forEach((stage, i) => {
      const before = s.stages?.[i - 1];
      if (before && stage.weight <= before.weight) {
        ctx.addIssue({
          code: 'custom',
          path: ['stages', i, 'weight'],
          message: 'must be greater than the stage before',
        });
      }
    });
    if (s.stages[s.stages.length - 1]?.weight !== 100) {
      ctx.addIssue({
        code: 'custom',
        path: ['stages', s.stages.length - 1, 'weight'],
        message: 'the last stage must be 100',
      });
    }
  }
}

const ServiceSchema = ServiceFields.superRefine(checkService);

/**
 * A service as written in the catalog: its own keys, and per environment the keys to merge over
 * them (checked by parseCatalog, merged, then validated like the service itself).
 */
const ServiceEntrySchema = ServiceFields.extend({
  environments: z
    .record(z.string(), z.record(z.string(), z.unknown(), { error: 'must be a map of the service keys to override' }))
    .optional(),
}).superRefine(checkService);

/** The catalog's schema: every key it accepts (services.example.yaml shows each). */
export const CatalogSchema = z
  .strictObject({
    defaultEnvironment: z.string().optional(),
    environments: z.record(EnvironmentNameSchema, EnvironmentSchema).optional(),
    slack: z.strictObject({
      channel: slackChannel,
      incidentsChannel: slackChannel.optional(),
      releaseManagers: z.array(slackUser).min(1, 'needs at least one release manager'),
      // Enterprise Grid user ids start with W, as for the other user fields.
      onCall: z.string().regex(/^[SUW][A-Z0-9]+$/, 'must be a user group (S…) or user (U…) id'),
    }),
    window: z
      .strictObject({
        timezone: z.string().refine(isTimeZone, 'must be an IANA time zone such as America/New_York'),
        blockedDays: z.array(dayName).default([]),
        blockedHours: z.array(hourRange).default([]),
      })
      .optional(),
    checklist: checklistItems.default([...DEFAULT_CHECKLIST]),
    approvalTimeoutSeconds: seconds.default(DEFAULT_APPROVAL_TIMEOUT_SECONDS),
    /** How late a scheduled start (`/deploy … at`) may still happen; past it the deployment expires. */
    scheduleGraceSeconds: seconds.default(DEFAULT_SCHEDULE_GRACE_SECONDS),
    /** Approval rules of every deployment; default: one release manager. */
    approval: ApprovalSchema.optional(),
    services: z
      .record(
        z.string().regex(/^[a-z0-9][-a-z0-9_.]*$/, 'service names are lower case letters, digits, - _ .'),
        ServiceEntrySchema,
      )
      .transform((services) =>
        Object.fromEntries(
          // Overrides are merged and validated from the written input (see parseCatalog).
          Object.entries(services).map(([name, { environments: _overrides, ...service }]) => [
            name,
            withDefaultGates(name, service),
          ]),
        ),
      ),
  })
  .superRefine((catalog, ctx) => {
    const names = Object.keys(catalog.environments ?? { [DEFAULT_ENVIRONMENT]: {} });
    const known = names.join(', ');
    if (catalog.defaultEnvironment !== undefined && !names.includes(catalog.defaultEnvironment))
      ctx.addIssue({
        code: 'custom',
        path: ['defaultEnvironment'],
        message: `"${catalog.defaultEnvironment}" is not an environment (defined: ${known})`,
      });
    else if (catalog.defaultEnvironment === undefined && !names.includes(DEFAULT_ENVIRONMENT))
      ctx.addIssue({
        code: 'custom',
        path: ['defaultEnvironment'],
        message: `is needed when no environment is named ${DEFAULT_ENVIRONMENT} (defined: ${known})`,
      });
    const promotedFrom = new Map<string, string>();
    for (const [name, environment] of Object.entries(catalog.environments ?? {})) {
      const source = environment.promotedFrom;
      if (source === undefined) continue;
      const path = ['environments', name, 'promotedFrom'];
      if (source === name) ctx.addIssue({ code: 'custom', path, message: 'must name another environment' });
      else if (!names.includes(source))
        ctx.addIssue({ code: 'custom', path, message: `"${source}" is not an environment (defined: ${known})` });
      else promotedFrom.set(name, source);
    }
    for (const loop of promotionLoops(promotedFrom))
      ctx.addIssue({
        code: 'custom',
        path: ['environments', loop[0] ?? '', 'promotedFrom'],
        message: `promotion goes round in a loop: ${loop.join(' ← ')}`,
      });
  });

/**
 * Seed 000's gates (p99 under 800 ms, errors under 1%) on the service's APM metrics when a
 * service names none; canary gets seed 004's success rate instead, at plan time.
 */
function withDefaultGates<S extends { strategy: string; gates: { metrics?: MetricGate[] } }>(name: string, service: S) {
  const metrics = service.gates.metrics ?? (service.strategy === 'canary' ? [] : seed000MetricGates(name));
  return { ...service, gates: { ...service.gates, metrics } };
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

type ParsedCatalog = z.infer<typeof CatalogSchema>;
/** A service's configuration in one environment. */
export type ServiceSettings = ParsedCatalog['services'][string];
/** A service as the catalog holds it: its own keys, and its merged configuration per environment it overrides. */
export type ServiceConfig = ServiceSettings & { environments?: Record<string, ServiceSettings> };
export type Catalog = Omit<ParsedCatalog, 'services'> & { services: Record<string, ServiceConfig> };

/** `services.acme-api.stages[1].weight` */
export const formatPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    '',
  );

// Zod reports a bad record key as "Invalid key in record"; the key's own rule says what is accepted.
const issueMessage = (issue: z.core.$ZodIssue): string =>
  issue.code === 'invalid_key' && issue.issues[0] ? issue.issues[0].message : issue.message;

const describeIssue =
  (prefix: readonly PropertyKey[]) =>
  (issue: z.core.$ZodIssue): string =>
    `${formatPath([...prefix, ...issue.path]) || '(root)'}: ${issueMessage(issue)}`;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const startsWith = (path: readonly PropertyKey[], prefix: readonly PropertyKey[]): boolean =>
  prefix.every((key, i) => path[i] === key);

export function parseCatalog(input: unknown): Catalog {
  const result = CatalogSchema.safeParse(input);
  const issues = result.success ? [] : result.error.issues;
  const problems = issues.map(describeIssue([]));
  const written = isPlainObject(input) ? input : {};
  const environmentNames = Object.keys(
    isPlainObject(written.environments) ? written.environments : { [DEFAULT_ENVIRONMENT]: {} },
  );
  const resolved = new Map<string, Record<string, ServiceSettings>>();
  for (const [name, service] of Object.entries(isPlainObject(written.services) ? written.services : {})) {
    // An override is merged over the service's own keys: check them first, so each problem is reported once.
    if (!isPlainObject(service) || issues.some((issue) => startsWith(issue.path, ['services', name]))) continue;
    const { environments: overrides, ...own } = service;
    if (!isPlainObject(overrides)) continue;
    const byEnvironment: Record<string, ServiceSettings> = {};
    for (const [environment, override] of Object.entries(overrides)) {
      const prefix = ['services', name, 'environments', environment];
      if (!environmentNames.includes(environment)) {
        problems.push(
          `${formatPath(prefix)}: "${environment}" is not an environment (defined: ${environmentNames.join(', ')})`,
        );
        continue;
      }
      const merged = ServiceSchema.safeParse(mergeOverride(own, override));
      if (merged.success) byEnvironment[environment] = withDefaultGates(name, merged.data);
      else problems.push(...merged.error.issues.map(describeIssue(prefix)));
    }
    resolved.set(name, byEnvironment);
  }
  if (!result.success || problems.length > 0) throw new CatalogInvalid(problems);
  const services = Object.fromEntries(
    Object.entries(result.data.services).map(([name, service]): [string, ServiceConfig] => {
      const environments = resolved.get(name);
      return [name, environments && Object.keys(environments).length > 0 ? { ...service, environments } : service];
    }),
  );
  return { ...result.data, services };
}

export async function loadCatalog(file: string): Promise<Catalog> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CatalogInvalid([`${file}: cannot be read (${(error as Error).message})`]);
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new CatalogInvalid([`${file}: is not valid YAML (${(error as Error).message.split('\n')[0]})`]);
  }
  return parseCatalog(data);
}

export const stagesOf = (service: ServiceConfig, strategy: Strategy): readonly Stage[] =>
  service.stages ?? (strategy === 'canary' ? DEFAULT_CANARY_STAGES : DEFAULT_BLUE_GREEN_STAGES);

export const checklistOf = (catalog: Catalog, service: ServiceConfig): readonly string[] =>
  service.checklist ?? catalog.checklist;
