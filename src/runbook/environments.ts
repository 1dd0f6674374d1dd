import { z } from 'zod';
import { duplicateRuleNames } from '../domain/approval.js';
import type { Catalog, ServiceSettings } from './catalog.js';

/** The environment every catalog has when it names none. */
export const DEFAULT_ENVIRONMENT = 'production';

/**
 * Words `/deploy` and its subcommands read among their arguments: an environment named like one
 * would make `/deploy acme-api 1.2.3 canary` ambiguous.
 */
export const RESERVED_ENVIRONMENT_NAMES = [
  'blue-green',
  'canary',
  'rolling',
  'hotfix',
  'dry-run',
  'at',
  'status',
  'promote',
  'history',
  'freeze',
  'unfreeze',
  'clear',
  'cancel',
  'help',
  'next-window',
  'resume',
] as const;

const RESERVED: ReadonlySet<string> = new Set(RESERVED_ENVIRONMENT_NAMES);

export const EnvironmentNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]*$/, {
    message: 'environment names are lower case letters, digits and -, starting with a letter',
    abort: true,
  })
  .superRefine((name, ctx) => {
    if (RESERVED.has(name))
      ctx.addIssue({
        code: 'custom',
        message: `"${name}" is a command word; environments may not be named ${RESERVED_ENVIRONMENT_NAMES.join(', ')}`,
      });
  });

const seconds = z.number({ error: 'must be a number of seconds' }).min(0, 'must be 0 or more');
const slackChannel = z.string().regex(/^[CGD][A-Z0-9]+$/, 'must be a Slack channel id (C…)');
const slackUserOrGroup = z.string().regex(/^[UWS][A-Z0-9]+$/, 'must be a Slack user (U…, W…) or user group (S…) id');

const ApprovalRuleSchema = z
  .strictObject({
    name: z.string().min(1, 'needs a name'),
    from: z.array(slackUserOrGroup).min(1, 'needs at least one user or user group'),
    count: z.number().int('must be a whole number').min(1, 'must be 1 or more').default(1),
  })
  .refine(
    // A user group's members are not known here; a list of users alone caps the count.
    (rule) => rule.from.some((id) => id.startsWith('S')) || rule.count <= new Set(rule.from).size,
    { message: 'is more than the people it names', path: ['count'] },
  );
export type ApprovalRule = z.infer<typeof ApprovalRuleSchema>;

/** `none`: the deployment starts once the checklist is submitted; otherwise every rule must be met. */
export const ApprovalSchema = z.union(
  [
    z.literal('none'),
    z.strictObject({
      rules: z
        .array(ApprovalRuleSchema)
        .min(1, 'needs at least one rule (or approval: none)')
        .superRefine((rules, ctx) => {
          // An approval names the rule it counts toward, and refusals name the open rules.
          for (const name of duplicateRuleNames(rules))
            ctx.addIssue({ code: 'custom', message: `names two rules "${name}"; rule names must differ` });
        }),
    }),
  ],
  { error: 'must be none or { rules: [{ name, from, count }] }' },
);
export type Approval = z.infer<typeof ApprovalSchema>;

export const EnvironmentSchema = z.strictObject({
  /** A context of KUBECONFIG; default: its current context. */
  kubeContext: z.string().min(1).optional(),
  /** ELBv2 calls go to this region, with the credentials of this role (STS AssumeRole). */
  aws: z
    .strictObject({
      region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region such as us-west-2'),
      roleArn: z
        .string()
        .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)')
        .optional(),
    })
    .optional(),
  /** Announcements and threads of this environment; default `slack.channel`. */
  channel: slackChannel.optional(),
  approval: ApprovalSchema.optional(),
  /** A version must have completed there first… */
  promotedFrom: z.string().optional(),
  /** …and served there this long since, without a rollback. */
  soakSeconds: seconds.default(0),
});
export type EnvironmentConfig = z.infer<typeof EnvironmentSchema>;
export interface Environment extends EnvironmentConfig {
  name: string;
}

/** The catalog's environments in the order written; `production` alone when it names none. */
export function environmentsOf(catalog: Pick<Catalog, 'environments'>): Environment[] {
  const declared = catalog.environments ?? { [DEFAULT_ENVIRONMENT]: { soakSeconds: 0 } };
  return Object.entries(declared).map(([name, config]) => ({ name, ...config }));
}

export const environmentNames = (catalog: Pick<Catalog, 'environments'>): string[] =>
  environmentsOf(catalog).map((environment) => environment.name);

export const environmentOf = (catalog: Pick<Catalog, 'environments'>, name: string): Environment | undefined =>
  environmentsOf(catalog).find((environment) => environment.name === name);

/** What `/deploy <service> <version>` targets when no environment is named. */
export const defaultEnvironmentOf = (catalog: Pick<Catalog, 'defaultEnvironment'>): string =>
  catalog.defaultEnvironment ?? DEFAULT_ENVIRONMENT;

/**
 * A service's configuration in one environment: its own keys with that environment's overrides
 * merged over them (already validated by parseCatalog). Undefined for an unknown service or
 * environment.
 */
export function serviceIn(catalog: Catalog, service: string, environment: string): ServiceSettings | undefined {
  const config = catalog.services[service];
  if (!config || !environmentNames(catalog).includes(environment)) return undefined;
  const { environments, ...own } = config;
  return environments?.[environment] ?? own;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `override` over `base`, key by key: objects merge deeply, anything else (arrays included)
 * replaces, and a null removes the key (`traffic: ~` in YAML).
 */
export function mergeOverride(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === null) delete merged[key];
    else merged[key] = mergeOverride(base[key], value);
  }
  return merged;
}

/** The environments of a promotion chain loop (`a → b → a`), each loop once. */
export function promotionLoops(promotedFrom: ReadonlyMap<string, string>): string[][] {
  const loops: string[][] = [];
  const settled = new Set<string>();
  for (const start of promotedFrom.keys()) {
    const path: string[] = [];
    let at: string | undefined = start;
    while (at !== undefined && !settled.has(at) && !path.includes(at)) {
      path.push(at);
      at = promotedFrom.get(at);
    }
    if (at !== undefined && path.includes(at)) loops.push([...path.slice(path.indexOf(at)), at]);
    for (const name of path) settled.add(name);
  }
  return loops;
}
