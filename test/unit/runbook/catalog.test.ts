import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CatalogInvalid } from '../../../src/errors.js';
import {
  checklistOf,
  formatPath,
  loadCatalog,
  MAX_CHECKLIST_ITEMS,
  parseCatalog,
  stagesOf,
  type Catalog,
} from '../../../src/runbook/catalog.js';
import { DEFAULT_CHECKLIST } from '../../../src/runbook/defaults.js';
import { BLUE_TG, GREEN_TG, IMAGE, LISTENER_ARN, RULE_ARN, specCatalogInput, type CatalogInput } from '../fixtures.js';

/** The problems parseCatalog reports for `input`, or [] when it parses. */
function problemsOf(input: unknown): string[] {
  try {
    parseCatalog(input);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(CatalogInvalid);
    return (error as CatalogInvalid).problems;
  }
}

/** The reference catalog example with one change. */
const broken = (mutate: (c: CatalogInput) => void): string[] => {
  const input = specCatalogInput();
  mutate(input);
  return problemsOf(input);
};

const api = (c: CatalogInput): CatalogInput => c.services['acme-api'];

describe('parseCatalog: the reference catalog example', () => {
  let catalog: Catalog;
  beforeAll(() => {
    catalog = parseCatalog(specCatalogInput());
  });

  it('parses, keeping every field given', () => {
    expect(catalog.slack).toEqual({
      channel: 'C0DEPLOYS',
      incidentsChannel: 'C0INCIDENT',
      releaseManagers: ['U0RM1', 'U0RM2'],
      onCall: 'S0ONCALL',
    });
    expect(catalog.window).toEqual({
      timezone: 'America/New_York',
      blockedDays: ['Fri'],
      blockedHours: ['09:00-11:00', '14:00-16:00'],
    });
    const s = catalog.services['acme-api'];
    expect(s?.strategy).toBe('blue-green');
    expect(s?.deployers).toEqual(['U0DEV1']);
    expect(s?.traffic).toEqual({
      provider: 'alb',
      listenerArn: LISTENER_ARN,
      ruleArn: RULE_ARN,
      targetGroups: { blue: BLUE_TG, green: GREEN_TG },
    });
    expect(s?.workload).toEqual({
      provider: 'kubernetes',
      namespace: 'prod',
      deployments: { blue: 'acme-api-blue', green: 'acme-api-green' },
      container: 'api',
      image: IMAGE,
      rolloutTimeoutSeconds: 600,
    });
    expect(s?.health).toEqual({
      urls: { blue: 'http://acme-api-blue.prod.svc/healthz', green: 'http://acme-api-green.prod.svc/healthz' },
      versionField: 'sha',
      timeoutMs: 5000,
    });
    expect(s?.smoke).toEqual([
      {
        name: 'auth token',
        method: 'POST',
        url: 'http://acme-api-{color}.prod.svc/api/v2/auth/token',
        expectStatus: 200,
        maxLatencyMs: 200,
      },
    ]);
    expect(s?.gates.metrics.map((m) => m.name)).toEqual([
      'p99 latency',
      'error rate',
      'p95 vs baseline',
      'errors vs baseline',
    ]);
    expect(s?.gates.metrics[2]?.maxOverBaseline).toEqual({ ratio: 1.1 });
    expect(s?.gates.monitors).toEqual({ tags: ['service:acme-api'], priorities: [1, 2] });
    expect(s?.hooks.preDeploy).toEqual([
      { name: 'migrate', image: `${IMAGE}:{version}`, command: ['/app/migrate', 'up'], timeoutSeconds: 600 },
    ]);
    expect(s?.hooks.postDeploy[0]?.env).toEqual({ APP_URL: 'https://api.acme.io' });
  });

  it('fills seed-000 defaults: the 7-item checklist and a 4-hour approval timeout', () => {
    expect(catalog.checklist).toEqual([...DEFAULT_CHECKLIST]);
    expect(catalog.checklist).toHaveLength(7);
    expect(catalog.checklist[0]).toBe('All CI checks pass on the release branch (unit, integration, contract tests).');
    expect(catalog.approvalTimeoutSeconds).toBe(4 * 3600);
  });

  it('turns the default gates off with metrics: [], and leaves canary to its success-rate default', () => {
    const input = specCatalogInput();
    input.services['acme-worker'].gates = { metrics: [] };
    input.services['acme-api'].strategy = 'canary';
    delete input.services['acme-api'].gates;
    const parsed = parseCatalog(input);
    expect(parsed.services['acme-worker']?.gates.metrics).toEqual([]);
    expect(parsed.services['acme-api']?.gates.metrics).toEqual([]);
  });

  it('fills service defaults: gates, rollback window, monitoring, hooks, smoke', () => {
    const worker = catalog.services['acme-worker'];
    expect(worker?.strategy).toBe('rolling');
    expect(worker?.traffic).toBeUndefined();
    expect(worker?.health).toBeUndefined();
    expect(worker?.stages).toBeUndefined();
    expect(worker?.smoke).toEqual([]);
    expect(worker?.gates).toEqual({
      intervalSeconds: 30,
      failureLimit: 1,
      inconclusiveLimit: 3,
      metrics: [
        { name: 'p99 latency', query: 'p99:trace.http.request.duration{service:acme-worker}', max: 0.8 },
        {
          name: 'error rate',
          query:
            'sum:trace.http.request.errors{service:acme-worker}.as_rate()/sum:trace.http.request.hits{service:acme-worker}.as_rate()',
          max: 0.01,
        },
      ],
    });
    expect(worker?.hooks).toEqual({ preDeploy: [], postDeploy: [] });
    expect(worker?.rollbackWindowSeconds).toBe(900);
    expect(worker?.monitorSeconds).toBe(1800);
    expect(worker?.workload.provider).toBe('kubernetes');
    expect(worker?.workload.rolloutTimeoutSeconds).toBe(600);
  });

  it('strategy defaults to blue-green; monitor priorities default to SEV1/SEV2; traffic provider to alb; health versionField to sha', () => {
    const input = specCatalogInput();
    const s = api(input);
    delete s.strategy;
    delete s.traffic.provider;
    delete s.health.versionField;
    s.gates.monitors = { tags: ['service:acme-api'] };
    const parsed = parseCatalog(input).services['acme-api'];
    expect(parsed?.strategy).toBe('blue-green');
    expect(parsed?.traffic?.provider).toBe('alb');
    expect(parsed?.health?.versionField).toBe('sha');
    expect(parsed?.gates.monitors?.priorities).toEqual([1, 2]);
  });

  it('stagesOf: the service’s own stages, else blue-green 10/50/100 with 300 s bakes, canary 5/25/50/100', () => {
    const withStages = catalog.services['acme-api'];
    const without = catalog.services['acme-worker'];
    if (!withStages || !without) throw new Error('fixture');
    expect(stagesOf(withStages, 'canary')).toEqual([
      { weight: 10, bakeSeconds: 300 },
      { weight: 50, bakeSeconds: 300 },
      { weight: 100, bakeSeconds: 0 },
    ]);
    expect(stagesOf(without, 'blue-green')).toEqual([
      { weight: 10, bakeSeconds: 300 },
      { weight: 50, bakeSeconds: 300 },
      { weight: 100, bakeSeconds: 0 },
    ]);
    expect(stagesOf(without, 'canary').map((s) => s.weight)).toEqual([5, 25, 50, 100]);
    expect(stagesOf(without, 'canary').map((s) => s.bakeSeconds)).toEqual([600, 900, 900, 600]);
  });

  it('checklistOf: a service’s own checklist overrides the catalog’s', () => {
    const input = specCatalogInput();
    api(input).checklist = ['Canary dashboards reviewed'];
    const c = parseCatalog(input);
    expect(checklistOf(c, c.services['acme-api']!)).toEqual(['Canary dashboards reviewed']);
    expect(checklistOf(c, c.services['acme-worker']!)).toHaveLength(7);
  });

  it('a canary service with no stages and a user (not group) on-call', () => {
    const input = specCatalogInput();
    input.slack.onCall = 'U0ONCALL';
    delete input.slack.incidentsChannel;
    delete input.window;
    api(input).strategy = 'canary';
    delete api(input).stages;
    const c = parseCatalog(input);
    expect(c.slack.onCall).toBe('U0ONCALL');
    expect(c.window).toBeUndefined();
    expect(stagesOf(c.services['acme-api']!, 'canary').map((s) => s.weight)).toEqual([5, 25, 50, 100]);
  });
});

describe('parseCatalog: every error names its path', () => {
  it('a stage weight out of range', () => {
    const problems = broken((c) => {
      api(c).stages[1].weight = 150;
    });
    expect(problems).toContain('services.acme-api.stages[1].weight: must be 0..100');
    expect(broken((c) => (api(c).stages[0].weight = -5))).toContain(
      'services.acme-api.stages[0].weight: must be 0..100',
    );
  });

  it('a fractional weight and a negative bake', () => {
    const problems = broken((c) => {
      api(c).stages[0] = { weight: 10.5, bakeSeconds: -1 };
    });
    expect(problems).toContain('services.acme-api.stages[0].weight: must be a whole number');
    expect(problems).toContain('services.acme-api.stages[0].bakeSeconds: must be 0 or more');
  });

  it('blue-green and canary need traffic', () => {
    expect(broken((c) => delete api(c).traffic)).toEqual(['services.acme-api.traffic: is required for blue-green']);
    expect(
      broken((c) => {
        api(c).strategy = 'canary';
        delete api(c).traffic;
      }),
    ).toEqual(['services.acme-api.traffic: is required for canary']);
  });

  it('rolling with a blue/green pair, and blue-green with one Deployment', () => {
    expect(broken((c) => (api(c).strategy = 'rolling'))).toEqual([
      'services.acme-api.workload.deployments: rolling needs { main: <deployment> }',
      'services.acme-api.traffic: rolling deployments have no traffic weights; remove it or use blue-green / canary',
    ]);
    expect(broken((c) => (c.services['acme-worker'].strategy = 'blue-green'))).toEqual([
      'services.acme-worker.workload.deployments: blue-green needs { blue, green }',
      'services.acme-worker.traffic: is required for blue-green',
    ]);
  });

  it('bad channel ids, release managers and on-call', () => {
    const problems = broken((c) => {
      c.slack.channel = '#deployments';
      c.slack.incidentsChannel = 'incidents';
      c.slack.releaseManagers = ['alice'];
      c.slack.onCall = '@oncall';
    });
    expect(problems).toEqual([
      'slack.channel: must be a Slack channel id (C…)',
      'slack.incidentsChannel: must be a Slack channel id (C…)',
      'slack.releaseManagers[0]: must be a Slack user id (U…)',
      'slack.onCall: must be a user group (S…) or user (U…) id',
    ]);
    expect(broken((c) => (c.slack.releaseManagers = []))).toEqual([
      'slack.releaseManagers: needs at least one release manager',
    ]);
  });

  it('bad timezone, day and hours in the window', () => {
    expect(
      broken((c) => {
        c.window = { timezone: 'Mars/Olympus_Mons', blockedDays: ['Friday'], blockedHours: ['9-11'] };
      }),
    ).toEqual([
      'window.timezone: must be an IANA time zone such as America/New_York',
      'window.blockedDays[0]: must be one of Mon Tue Wed Thu Fri Sat Sun',
      'window.blockedHours[0]: must be HH:MM-HH:MM',
    ]);
  });

  it('non-increasing stages', () => {
    expect(
      broken((c) => {
        api(c).stages = [
          { weight: 50, bakeSeconds: 60 },
          { weight: 50, bakeSeconds: 60 },
          { weight: 100, bakeSeconds: 0 },
        ];
      }),
    ).toEqual(['services.acme-api.stages[1].weight: must be greater than the stage before']);
    expect(
      broken((c) => {
        api(c).stages = [
          { weight: 50, bakeSeconds: 60 },
          { weight: 10, bakeSeconds: 60 },
          { weight: 100, bakeSeconds: 0 },
        ];
      }),
    ).toEqual(['services.acme-api.stages[1].weight: must be greater than the stage before']);
  });

  it('the last stage not 100', () => {
    expect(
      broken((c) => {
        api(c).stages = [
          { weight: 10, bakeSeconds: 60 },
          { weight: 90, bakeSeconds: 60 },
        ];
      }),
    ).toEqual(['services.acme-api.stages[1].weight: the last stage must be 100']);
  });

  it('unknown keys at every level (strict objects)', () => {
    const problems = broken((c) => {
      c.extra = true;
      c.slack.chanel = 'C0TYPO';
      api(c).bakeSecs = 5;
      api(c).traffic.weights = { blue: 100 };
      api(c).stages[0].pause = true;
      api(c).gates.metrics[0].threshold = 1;
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        '(root): Unrecognized key: "extra"',
        'slack: Unrecognized key: "chanel"',
        'services.acme-api: Unrecognized key: "bakeSecs"',
        'services.acme-api.traffic: Unrecognized key: "weights"',
        'services.acme-api.stages[0]: Unrecognized key: "pause"',
        'services.acme-api.gates.metrics[0]: Unrecognized key: "threshold"',
      ]),
    );
  });

  it('lists several errors at once, across sections and services', () => {
    const problems = broken((c) => {
      c.slack.channel = 'deployments';
      c.window.timezone = 'Nowhere/Land';
      api(c).stages[1].weight = 150;
      api(c).traffic.listenerArn = 'listener/app/acme';
      api(c).health.urls.green = 'ftp://acme-api-green/healthz';
      c.services['acme-worker'].strategy = 'rolling';
      c.services['acme-worker'].workload.deployments = { blue: 'w-blue', green: 'w-green' };
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'slack.channel: must be a Slack channel id (C…)',
        'window.timezone: must be an IANA time zone such as America/New_York',
        'services.acme-api.stages[1].weight: must be 0..100',
        'services.acme-api.traffic.listenerArn: must be an ARN',
        'services.acme-api.health.urls.green: must be an http(s) URL',
        'services.acme-worker.workload.deployments: rolling needs { main: <deployment> }',
      ]),
    );
    expect(problems.length).toBeGreaterThanOrEqual(6);
  });

  // `traffic` is for "blue-green and canary only"; health urls are `{ blue, green }`, or
  // `{ main }` for rolling. The schema checks the deployments' shape but not these two, and the
  // worker keys off `service.traffic` / `'main' in urls`: a rolling service with a traffic block
  // is preflighted as blue-green and its rollback restores nothing (queue/rollback.ts), and a
  // blue-green service with `{ main }` health checks the same URL whatever the new colour is.
  it('rolling with a traffic block is refused (traffic is blue-green and canary only)', () => {
    const problems = broken((c) => {
      c.services['acme-worker'].traffic = api(c).traffic;
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^services\.acme-worker\.traffic: /);
  });

  it('health urls must have the same shape as the deployments', () => {
    const paired = broken((c) => {
      api(c).health.urls = { main: 'http://acme-api.prod.svc/healthz' };
    });
    expect(paired).toHaveLength(1);
    expect(paired[0]).toMatch(/^services\.acme-api\.health\.urls: /);
    const rolling = broken((c) => {
      c.services['acme-worker'].health = { urls: { blue: 'http://b/healthz', green: 'http://g/healthz' } };
    });
    expect(rolling).toHaveLength(1);
    expect(rolling[0]).toMatch(/^services\.acme-worker\.health\.urls: /);
  });

  it('an unknown key and a missing traffic block on the same service are both reported', () => {
    const problems = broken((c) => {
      api(c).bogus = 1;
      delete api(c).traffic;
    });
    expect(problems).toEqual([
      'services.acme-api: Unrecognized key: "bogus"',
      'services.acme-api.traffic: is required for blue-green',
    ]);
  });

  it('a metric gate needs a threshold; a baseline needs ratio or delta', () => {
    expect(broken((c) => (api(c).gates.metrics[0] = { name: 'p99', query: 'p99:x' }))).toEqual([
      'services.acme-api.gates.metrics[0]: needs max, min or maxOverBaseline',
    ]);
    expect(broken((c) => (api(c).gates.metrics[2].maxOverBaseline = {}))).toEqual([
      'services.acme-api.gates.metrics[2].maxOverBaseline: needs ratio or delta',
    ]);
  });

  it('an image with a tag, a bad hook name, an unknown strategy', () => {
    expect(broken((c) => (api(c).workload.image = `${IMAGE}:latest`))).toEqual([
      'services.acme-api.workload.image: must be the repository without a tag',
    ]);
    expect(broken((c) => (api(c).hooks.preDeploy[0].name = 'Migrate DB'))).toEqual([
      'services.acme-api.hooks.preDeploy[0].name: must be a DNS label (lower case, digits, -)',
    ]);
    expect(broken((c) => (api(c).strategy = 'big-bang'))).toEqual([
      'services.acme-api.strategy: must be blue-green, canary or rolling',
    ]);
  });

  it('an image repository on a registry with a port is not mistaken for a tag', () => {
    expect(broken((c) => (api(c).workload.image = 'registry.local:5000/acme-api'))).toEqual([]);
  });

  it('log and SLO gates are optional and checked, naming the path', () => {
    const logs = [
      { name: 'new errors', query: 'service:acme-api status:error version:{version}', max: 0, windowSeconds: 120 },
    ];
    const slos = [{ name: 'checkout SLO', id: 'abc123def', minBudgetRemaining: 95 }];
    const input = specCatalogInput();
    api(input).gates.logs = logs;
    api(input).gates.slos = slos;
    const gates = parseCatalog(input).services['acme-api']?.gates;
    expect(gates?.logs).toEqual(logs);
    expect(gates?.slos).toEqual(slos);
    expect(parseCatalog(specCatalogInput()).services['acme-api']?.gates.logs).toBeUndefined();

    expect(broken((c) => (api(c).gates.logs = [{ ...logs[0], max: -1, windowSeconds: 0 }]))).toEqual([
      'services.acme-api.gates.logs[0].max: must be 0 or more',
      'services.acme-api.gates.logs[0].windowSeconds: must be more than 0',
    ]);
    expect(broken((c) => (api(c).gates.logs = [{ name: 'x', query: '', max: 1.5, windowSeconds: 60 }]))).toEqual([
      'services.acme-api.gates.logs[0].query: must be a Datadog log search query such as "service:acme-api status:error"',
      'services.acme-api.gates.logs[0].max: must be a whole number',
    ]);
    expect(broken((c) => (api(c).gates.logs = [{ name: 'x', query: 'status:error', windowSeconds: 60 }]))).toEqual([
      'services.acme-api.gates.logs[0].max: must be a number of logs',
    ]);
    expect(broken((c) => (api(c).gates.slos = [{ ...slos[0], id: 'abc-1', minBudgetRemaining: 120 }]))).toEqual([
      'services.acme-api.gates.slos[0].id: must be a Datadog SLO id (letters and digits)',
      'services.acme-api.gates.slos[0].minBudgetRemaining: must be a percentage, -100..100',
    ]);
    expect(broken((c) => (api(c).gates.slos = [{ ...slos[0], target: 99 }]))).toEqual([
      'services.acme-api.gates.slos[0]: Unrecognized key: "target"',
    ]);
  });

  it('a service’s pagerduty routing key and service id are optional and checked', () => {
    const routingKey = 'e93facc04764012d7bfb002500d5d1a6';
    expect(broken((c) => (api(c).pagerduty = { routingKey, serviceId: 'PIJ90N7' }))).toEqual([]);
    const input = specCatalogInput();
    api(input).pagerduty = { serviceId: 'PIJ90N7' };
    expect(parseCatalog(input).services['acme-api']?.pagerduty).toEqual({ serviceId: 'PIJ90N7' });
    expect(parseCatalog(specCatalogInput()).services['acme-api']?.pagerduty).toBeUndefined();

    expect(broken((c) => (api(c).pagerduty = { routingKey: 'abc', serviceId: 'pij90n7' }))).toEqual([
      'services.acme-api.pagerduty.routingKey: must be a 32-character Events API v2 integration key',
      'services.acme-api.pagerduty.serviceId: must be a PagerDuty service id such as PABC123',
    ]);
    expect(broken((c) => (api(c).pagerduty = { serviceId: 'PIJ90N7', escalationPolicy: 'P1' }))).toEqual([
      'services.acme-api.pagerduty: Unrecognized key: "escalationPolicy"',
    ]);
  });

  it('a checklist of more than 90 items is refused (the modal holds 100 blocks)', () => {
    expect(MAX_CHECKLIST_ITEMS).toBe(90);
    expect(broken((c) => (c.checklist = Array.from({ length: 90 }, (_, i) => `item ${i}`)))).toEqual([]);
    const problems = broken((c) => (c.checklist = Array.from({ length: 91 }, (_, i) => `item ${i}`)));
    expect(problems).toEqual(['checklist: at most 90 items (a Slack modal holds 100 blocks)']);
  });

  it('a bad service name says what names are accepted', () => {
    const problems = broken((c) => {
      c.services['Acme API'] = c.services['acme-worker'];
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^services\.Acme API: /);
    expect(problems[0]).toContain('service names are lower case letters, digits, - _ .');
  });

  it('the CatalogInvalid message lists every problem on its own line', () => {
    const input = specCatalogInput();
    input.slack.channel = 'x';
    api(input).stages[0].weight = -5;
    try {
      parseCatalog(input);
      expect.unreachable();
    } catch (error) {
      expect((error as CatalogInvalid).code).toBe('catalog_invalid');
      expect((error as Error).message).toBe(
        'services catalog is invalid:\n  slack.channel: must be a Slack channel id (C…)\n  services.acme-api.stages[0].weight: must be 0..100',
      );
    }
  });
});

describe('formatPath', () => {
  it('joins keys with dots and indexes with brackets', () => {
    expect(formatPath(['services', 'acme-api', 'stages', 1, 'weight'])).toBe('services.acme-api.stages[1].weight');
    expect(formatPath([0, 'a'])).toBe('[0].a');
    expect(formatPath([])).toBe('');
  });
});

describe('loadCatalog', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-catalog-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads and validates a YAML file', async () => {
    const file = join(dir, 'services.yaml');
    await writeFile(file, stringify(specCatalogInput()));
    const catalog = await loadCatalog(file);
    expect(Object.keys(catalog.services)).toEqual(['acme-api', 'acme-worker']);
    expect(catalog.checklist).toHaveLength(7);
  });

  it('a missing file: one problem naming the file', async () => {
    const file = join(dir, 'missing.yaml');
    const error = await loadCatalog(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CatalogInvalid);
    expect((error as CatalogInvalid).problems).toHaveLength(1);
    expect((error as CatalogInvalid).problems[0]).toMatch(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot be read \\(ENOENT`),
    );
  });

  it('invalid YAML: one problem naming the file, on one line', async () => {
    const file = join(dir, 'broken.yaml');
    await writeFile(file, 'slack:\n  channel: [C0DEPLOYS\n  onCall: : S0ONCALL\n');
    const error = await loadCatalog(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CatalogInvalid);
    const problems = (error as CatalogInvalid).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`${file}: is not valid YAML (`);
    expect(problems[0]).not.toContain('\n');
  });

  it('valid YAML with invalid content: the schema’s problems with their paths', async () => {
    const file = join(dir, 'invalid.yaml');
    const input = specCatalogInput();
    api(input).stages[1].weight = 150;
    await writeFile(file, stringify(input));
    await expect(loadCatalog(file)).rejects.toMatchObject({
      problems: expect.arrayContaining(['services.acme-api.stages[1].weight: must be 0..100']),
    });
  });

  it('an empty file is refused', async () => {
    const file = join(dir, 'empty.yaml');
    await writeFile(file, '');
    await expect(loadCatalog(file)).rejects.toBeInstanceOf(CatalogInvalid);
  });
});

describe('parseCatalog: approval at the top level and per service', () => {
  it('keeps the rules as written (count defaults to 1) and none', () => {
    const input = specCatalogInput();
    (input as Record<string, unknown>).approval = {
      rules: [
        { name: 'release manager', from: ['U0RM1', 'U0RM2'] },
        { name: 'tech lead', from: ['S0LEADS'], count: 2 },
      ],
    };
    api(input).approval = 'none';
    const catalog = parseCatalog(input);
    expect(catalog.approval).toEqual({
      rules: [
        { name: 'release manager', from: ['U0RM1', 'U0RM2'], count: 1 },
        { name: 'tech lead', from: ['S0LEADS'], count: 2 },
      ],
    });
    expect(catalog.services['acme-api']?.approval).toBe('none');
  });

  it('every error names its path', () => {
    expect(
      broken((c) => {
        (c as Record<string, unknown>).approval = { rules: [{ name: 'rm', from: ['alice'], count: 0 }] };
        api(c).approval = 'never';
      }),
    ).toEqual([
      'approval.rules[0].from[0]: must be a Slack user (U…, W…) or user group (S…) id',
      'approval.rules[0].count: must be 1 or more',
      'services.acme-api.approval: must be none or { rules: [{ name, from, count }] }',
    ]);
    expect(broken((c) => (api(c).approval = { rules: [] }))).toEqual([
      'services.acme-api.approval.rules: needs at least one rule (or approval: none)',
    ]);
  });

  it('two rules of one name are refused: an approval names the rule it counts toward', () => {
    expect(
      broken(
        (c) =>
          (api(c).approval = {
            rules: [
              { name: 'lead', from: ['U0A'] },
              { name: 'lead', from: ['U0B'] },
            ],
          }),
      ),
    ).toEqual(['services.acme-api.approval.rules: names two rules "lead"; rule names must differ']);
  });
});
