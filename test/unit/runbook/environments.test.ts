import { describe, expect, it } from 'vitest';
import { CatalogInvalid } from '../../../src/errors.js';
import { parseCatalog } from '../../../src/runbook/catalog.js';
import {
  defaultEnvironmentOf,
  environmentOf,
  environmentsOf,
  mergeOverride,
  RESERVED_ENVIRONMENT_NAMES,
  serviceIn,
} from '../../../src/runbook/environments.js';
import { specCatalog, specCatalogInput, type CatalogInput } from '../fixtures.js';

const STAGING_LISTENER =
  'arn:aws:elasticloadbalancing:us-west-2:111111111111:listener/app/acme-staging/1111111111111111/2222222222222222';
const STAGING_BLUE =
  'arn:aws:elasticloadbalancing:us-west-2:111111111111:targetgroup/acme-staging-blue/3333333333333333';
const ROLE = 'arn:aws:iam::111111111111:role/switchyard';

/** The reference catalog example with the two environments of the environments section and a staging override. */
function withEnvironments(): CatalogInput {
  const input = specCatalogInput();
  input.defaultEnvironment = 'production';
  input.environments = {
    staging: {
      kubeContext: 'staging',
      aws: { region: 'us-west-2', roleArn: ROLE },
      channel: 'C0STAGING',
      approval: 'none',
    },
    production: { promotedFrom: 'staging', soakSeconds: 3600 },
  };
  input.services['acme-api'].environments = {
    staging: {
      traffic: { listenerArn: STAGING_LISTENER, targetGroups: { blue: STAGING_BLUE } },
      workload: { namespace: 'staging' },
      health: { urls: { green: 'http://acme-api-green.staging.svc/healthz' } },
      smoke: [],
    },
  };
  return input;
}

function problemsOf(input: unknown): string[] {
  try {
    parseCatalog(input);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(CatalogInvalid);
    return (error as CatalogInvalid).problems;
  }
}

const broken = (mutate: (c: CatalogInput) => void): string[] => {
  const input = withEnvironments();
  mutate(input);
  return problemsOf(input);
};

describe('a catalog without environments', () => {
  it('has one environment, production, the default, where every service is as written', () => {
    const catalog = specCatalog();
    expect(catalog.environments).toBeUndefined();
    expect(catalog.defaultEnvironment).toBeUndefined();
    expect(defaultEnvironmentOf(catalog)).toBe('production');
    expect(environmentsOf(catalog)).toEqual([{ name: 'production', soakSeconds: 0 }]);
    expect(serviceIn(catalog, 'acme-api', 'production')).toEqual(catalog.services['acme-api']);
    expect(catalog.services['acme-api']).not.toHaveProperty('environments');
    expect(serviceIn(catalog, 'acme-api', 'staging')).toBeUndefined();
    expect(serviceIn(catalog, 'nope', 'production')).toBeUndefined();
  });

  it('parses to exactly what it parsed to before (no new keys)', () => {
    expect(Object.keys(specCatalog()).sort()).toEqual([
      'approvalTimeoutSeconds',
      'checklist',
      'scheduleGraceSeconds',
      'services',
      'slack',
      'window',
    ]);
  });
});

describe('environments', () => {
  const catalog = parseCatalog(withEnvironments());

  it('keeps each environment’s settings, with soakSeconds defaulting to 0', () => {
    expect(environmentsOf(catalog)).toEqual([
      {
        name: 'staging',
        kubeContext: 'staging',
        aws: { region: 'us-west-2', roleArn: ROLE },
        channel: 'C0STAGING',
        approval: 'none',
        soakSeconds: 0,
      },
      { name: 'production', promotedFrom: 'staging', soakSeconds: 3600 },
    ]);
    expect(environmentOf(catalog, 'production')?.promotedFrom).toBe('staging');
    expect(defaultEnvironmentOf(catalog)).toBe('production');
  });

  it('stores approval rules as written (count defaults to 1)', () => {
    const input = withEnvironments();
    input.environments.production.approval = {
      rules: [
        { name: 'release manager', from: ['U0RM1', 'U0RM2'] },
        { name: 'tech lead', from: ['S0TECHLEADS', 'W0LEAD'], count: 2 },
      ],
    };
    expect(environmentOf(parseCatalog(input), 'production')?.approval).toEqual({
      rules: [
        { name: 'release manager', from: ['U0RM1', 'U0RM2'], count: 1 },
        { name: 'tech lead', from: ['S0TECHLEADS', 'W0LEAD'], count: 2 },
      ],
    });
  });

  it('merges a service’s override key by key over its own keys; arrays replace', () => {
    const staging = serviceIn(catalog, 'acme-api', 'staging');
    const production = serviceIn(catalog, 'acme-api', 'production');
    expect(staging?.traffic).toEqual({
      provider: 'alb',
      listenerArn: STAGING_LISTENER,
      ruleArn: production?.traffic?.ruleArn,
      targetGroups: { blue: STAGING_BLUE, green: production?.traffic?.targetGroups.green },
    });
    expect(staging?.workload).toEqual({ ...production?.workload, namespace: 'staging' });
    expect(staging?.health?.urls).toEqual({
      blue: 'http://acme-api-blue.prod.svc/healthz',
      green: 'http://acme-api-green.staging.svc/healthz',
    });
    expect(staging?.smoke).toEqual([]);
    expect(production?.smoke).toHaveLength(1);
    expect(staging?.stages).toEqual(production?.stages);
    expect(staging).not.toHaveProperty('environments');
    expect(production).not.toHaveProperty('environments');
    // A service without an override is the same everywhere.
    expect(serviceIn(catalog, 'acme-worker', 'staging')).toEqual(serviceIn(catalog, 'acme-worker', 'production'));
  });

  it('a merged config gets the same defaults as a service (default gates follow an overridden strategy)', () => {
    const input = withEnvironments();
    delete input.services['acme-api'].gates;
    input.services['acme-api'].environments.staging.strategy = 'canary';
    const c = parseCatalog(input);
    expect(serviceIn(c, 'acme-api', 'staging')?.strategy).toBe('canary');
    expect(serviceIn(c, 'acme-api', 'staging')?.gates.metrics).toEqual([]);
    expect(serviceIn(c, 'acme-api', 'production')?.gates.metrics.map((m) => m.name)).toEqual([
      'p99 latency',
      'error rate',
    ]);
  });

  it('a null in an override removes the key', () => {
    const input = withEnvironments();
    input.services['acme-api'].environments.staging.traffic.ruleArn = null;
    expect(serviceIn(parseCatalog(input), 'acme-api', 'staging')?.traffic?.ruleArn).toBeUndefined();
  });

  it('mergeOverride: objects deep, arrays and scalars replace, null removes', () => {
    expect(mergeOverride({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, d: null, e: 'x' })).toEqual({
      a: { b: 1, c: [3] },
      e: 'x',
    });
    expect(mergeOverride([1], { a: 1 })).toEqual({ a: 1 });
  });
});

describe('environments: every error names its path', () => {
  it('an override is validated like a service, with the override’s path', () => {
    expect(
      broken((c) => {
        c.services['acme-api'].environments.staging.traffic.listenerArn = 'listener/app/acme-staging';
        c.services['acme-api'].environments.staging.stages = [{ weight: 50, bakeSeconds: 1 }];
      }),
    ).toEqual([
      'services.acme-api.environments.staging.traffic.listenerArn: must be an ARN',
      'services.acme-api.environments.staging.stages[0].weight: the last stage must be 100',
    ]);
  });

  it('an override that leaves a blue-green service without a listener', () => {
    expect(broken((c) => (c.services['acme-api'].environments.staging.traffic = null))).toEqual([
      'services.acme-api.environments.staging.traffic: is required for blue-green',
    ]);
    const problems = broken((c) => (c.services['acme-api'].environments.staging.traffic.listenerArn = null));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^services\.acme-api\.environments\.staging\.traffic\.listenerArn: /);
    // A rolling service made blue-green in one environment needs a pair and a listener there.
    expect(broken((c) => (c.services['acme-worker'].environments = { staging: { strategy: 'blue-green' } }))).toEqual([
      'services.acme-worker.environments.staging.workload.deployments: blue-green needs { blue, green }',
      'services.acme-worker.environments.staging.traffic: is required for blue-green',
    ]);
  });

  it('unknown keys in an override, and an override of environments inside one', () => {
    expect(
      broken((c) => {
        c.services['acme-api'].environments.staging.bakeSecs = 5;
        c.services['acme-api'].environments.staging.environments = {};
      }),
    ).toEqual(['services.acme-api.environments.staging: Unrecognized keys: "bakeSecs", "environments"']);
  });

  it('an override may only name defined environments', () => {
    expect(broken((c) => (c.services['acme-api'].environments.qa = { workload: { namespace: 'qa' } }))).toEqual([
      'services.acme-api.environments.qa: "qa" is not an environment (defined: staging, production)',
    ]);
    // Without an environments section, production is the one environment.
    const input = specCatalogInput();
    input.services['acme-api'].environments = { staging: {}, production: { workload: { namespace: 'prod-2' } } };
    expect(problemsOf(input)).toEqual([
      'services.acme-api.environments.staging: "staging" is not an environment (defined: production)',
    ]);
    delete input.services['acme-api'].environments.staging;
    expect(serviceIn(parseCatalog(input), 'acme-api', 'production')?.workload.namespace).toBe('prod-2');
  });

  it('an override is not the place for a service’s own mistakes: those are reported once, at the service', () => {
    expect(broken((c) => (c.services['acme-api'].stages[0].weight = -5))).toEqual([
      'services.acme-api.stages[0].weight: must be 0..100',
    ]);
  });

  it('defaultEnvironment must be a defined environment', () => {
    expect(broken((c) => (c.defaultEnvironment = 'prod'))).toEqual([
      'defaultEnvironment: "prod" is not an environment (defined: staging, production)',
    ]);
    expect(
      broken((c) => {
        delete c.defaultEnvironment;
        c.environments = { staging: {}, live: {} };
        delete c.services['acme-api'].environments;
      }),
    ).toEqual(['defaultEnvironment: is needed when no environment is named production (defined: staging, live)']);
    expect(broken((c) => (c.defaultEnvironment = 'staging'))).toEqual([]);
  });

  it('promotedFrom must name another defined environment', () => {
    expect(broken((c) => (c.environments.production.promotedFrom = 'qa'))).toEqual([
      'environments.production.promotedFrom: "qa" is not an environment (defined: staging, production)',
    ]);
    expect(broken((c) => (c.environments.production.promotedFrom = 'production'))).toEqual([
      'environments.production.promotedFrom: must name another environment',
    ]);
  });

  it('promotion chains have no loops', () => {
    const problems = broken((c) => {
      c.environments.staging.promotedFrom = 'qa';
      c.environments.qa = { promotedFrom: 'production' };
    });
    expect(problems).toEqual([
      'environments.staging.promotedFrom: promotion goes round in a loop: staging ← qa ← production ← staging',
    ]);
    expect(
      broken((c) => {
        c.environments.qa = {};
        c.environments.staging.promotedFrom = 'qa';
      }),
    ).toEqual([]);
  });

  it('an environment may not be named like a command word; the error lists the reserved words', () => {
    expect(RESERVED_ENVIRONMENT_NAMES).toEqual(
      expect.arrayContaining(['blue-green', 'canary', 'rolling', 'hotfix', 'dry-run', 'at', 'status', 'promote']),
    );
    for (const word of ['canary', 'status', 'next-window', 'resume']) {
      const problems = broken((c) => (c.environments[word] = {}));
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^environments\\.${word}: "${word}" is a command word; `));
      expect(problems[0]).toContain(RESERVED_ENVIRONMENT_NAMES.join(', '));
    }
  });

  it('environment names are lower case, starting with a letter', () => {
    for (const name of ['Staging', '1st', 'qa_1', '-x']) {
      expect(broken((c) => (c.environments[name] = {}))).toEqual([
        `environments.${name}: environment names are lower case letters, digits and -, starting with a letter`,
      ]);
    }
    expect(broken((c) => (c.environments['eu-west-2b'] = {}))).toEqual([]);
  });

  it('a role ARN, a region, a channel, a soak and approval rules are checked', () => {
    expect(
      broken((c) => {
        c.environments.staging.aws = { region: 'Oregon', roleArn: 'arn:aws:iam::1111:user/switchyard' };
        c.environments.staging.channel = '#staging';
        c.environments.production.soakSeconds = -1;
        c.environments.production.approval = { rules: [{ name: 'rm', from: ['alice'], count: 0 }] };
      }),
    ).toEqual([
      'environments.staging.aws.region: must be an AWS region such as us-west-2',
      'environments.staging.aws.roleArn: must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)',
      'environments.staging.channel: must be a Slack channel id (C…)',
      'environments.production.approval.rules[0].from[0]: must be a Slack user (U…, W…) or user group (S…) id',
      'environments.production.approval.rules[0].count: must be 1 or more',
      'environments.production.soakSeconds: must be 0 or more',
    ]);
    expect(broken((c) => (c.environments.production.approval = 'never'))).toEqual([
      'environments.production.approval: must be none or { rules: [{ name, from, count }] }',
    ]);
    expect(
      broken((c) => (c.environments.production.approval = { rules: [{ name: 'rm', from: ['U0RM1'], count: 2 }] })),
    ).toEqual(['environments.production.approval.rules[0].count: is more than the people it names']);
    expect(
      broken((c) => (c.environments.staging.aws.roleArn = 'arn:aws-us-gov:iam::111111111111:role/path/switchyard')),
    ).toEqual([]);
    expect(broken((c) => (c.environments.staging.kubeContext = ''))).toHaveLength(1);
  });
});
