/** Shared builders for the unit tests: the reference catalog (with real-looking ids) and deployments. */
import type { Deployment } from '../../src/domain/deployment.js';
import { parseCatalog, type Catalog, type ServiceConfig } from '../../src/runbook/catalog.js';
import { planSteps } from '../../src/runbook/plan.js';

export const LISTENER_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/acme/50dc6c495c0c9188/f2f7dc8efc522ab2';
export const RULE_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/acme/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee';
export const BLUE_TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/acme-blue/73e2d6bc24d8a067';
export const GREEN_TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/acme-green/943f017f100becff';
export const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/acme-api';

/** Raw catalog input (YAML-shaped): tests reach in and break it on purpose. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CatalogInput = Record<string, any>;

/** The reference catalog example, adapted so that it is valid; a fresh object each call so tests may mutate it. */
export function specCatalogInput(): CatalogInput {
  return {
    slack: {
      channel: 'C0DEPLOYS',
      incidentsChannel: 'C0INCIDENT',
      releaseManagers: ['U0RM1', 'U0RM2'],
      onCall: 'S0ONCALL',
    },
    window: {
      timezone: 'America/New_York',
      blockedDays: ['Fri'],
      blockedHours: ['09:00-11:00', '14:00-16:00'],
    },
    services: {
      'acme-api': {
        strategy: 'blue-green',
        deployers: ['U0DEV1'],
        traffic: {
          provider: 'alb',
          listenerArn: LISTENER_ARN,
          ruleArn: RULE_ARN,
          targetGroups: { blue: BLUE_TG, green: GREEN_TG },
        },
        workload: {
          provider: 'kubernetes',
          namespace: 'prod',
          deployments: { blue: 'acme-api-blue', green: 'acme-api-green' },
          container: 'api',
          image: IMAGE,
          rolloutTimeoutSeconds: 600,
        },
        health: {
          urls: { blue: 'http://acme-api-blue.prod.svc/healthz', green: 'http://acme-api-green.prod.svc/healthz' },
          versionField: 'sha',
        },
        smoke: [
          {
            name: 'auth token',
            method: 'POST',
            url: 'http://acme-api-{color}.prod.svc/api/v2/auth/token',
            expectStatus: 200,
            maxLatencyMs: 200,
          },
        ],
        stages: [
          { weight: 10, bakeSeconds: 300 },
          { weight: 50, bakeSeconds: 300 },
          { weight: 100, bakeSeconds: 0 },
        ],
        gates: {
          intervalSeconds: 30,
          failureLimit: 1,
          inconclusiveLimit: 3,
          metrics: [
            { name: 'p99 latency', query: 'p99:trace.http.request.duration{service:acme-api,env:prod}', max: 0.8 },
            {
              name: 'error rate',
              query:
                'sum:trace.http.request.errors{service:acme-api}.as_rate()/sum:trace.http.request.hits{service:acme-api}.as_rate()',
              max: 0.01,
            },
            {
              name: 'p95 vs baseline',
              query: 'p95:trace.http.request.duration{service:acme-api,color:{color}}',
              maxOverBaseline: { ratio: 1.1 },
            },
            {
              name: 'errors vs baseline',
              query: 'sum:trace.http.request.errors{service:acme-api,color:{color}}.as_rate()',
              maxOverBaseline: { delta: 0.01 },
            },
          ],
          monitors: { tags: ['service:acme-api'], priorities: [1, 2] },
        },
        rollbackWindowSeconds: 900,
        monitorSeconds: 1800,
        hooks: {
          preDeploy: [{ name: 'migrate', image: `${IMAGE}:{version}`, command: ['/app/migrate', 'up'] }],
          postDeploy: [
            {
              name: 'e2e',
              image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/e2e:latest',
              env: { APP_URL: 'https://api.acme.io' },
            },
          ],
        },
      },
      'acme-worker': {
        strategy: 'rolling',
        workload: {
          namespace: 'prod',
          deployments: { main: 'acme-worker' },
          container: 'worker',
          image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/acme-worker',
        },
      },
    },
  };
}

export const specCatalog = (): Catalog => parseCatalog(specCatalogInput());

/** A minimal blue-green service: no health, no smoke, no gates, default stages. */
export function bareService(strategy: 'blue-green' | 'canary' = 'blue-green'): ServiceConfig {
  const input = specCatalogInput();
  input.services['bare'] = {
    strategy,
    traffic: { listenerArn: LISTENER_ARN, targetGroups: { blue: BLUE_TG, green: GREEN_TG } },
    workload: {
      namespace: 'prod',
      deployments: { blue: 'bare-blue', green: 'bare-green' },
      container: 'app',
      image: 'registry.local/bare',
    },
    // Bare means ungated too: without this the service would get seed 000's default gates.
    gates: { metrics: [] },
  };
  const service = parseCatalog(input).services['bare'];
  if (!service) throw new Error('bare service missing');
  return service;
}

export const T0 = Date.UTC(2025, 2, 4, 15, 0, 0); // a Tuesday

export function deployment(overrides: Partial<Deployment> = {}): Deployment {
  const catalog = specCatalog();
  const service = catalog.services['acme-api'];
  if (!service) throw new Error('acme-api missing');
  const steps = overrides.steps ?? planSteps(service, overrides.strategy ?? 'blue-green');
  return {
    id: 'acme-api-1',
    service: 'acme-api',
    version: 'a1b2c3d',
    image: `${IMAGE}:a1b2c3d`,
    strategy: 'blue-green',
    hotfix: false,
    requester: 'U0DEV1',
    requestedAt: T0,
    checklist: catalog.checklist.map((item) => ({ item, confirmedBy: 'U0DEV1', confirmedAt: T0 })),
    ticket: 'DEPLOY-123',
    changeSummary: 'Faster token refresh',
    channel: 'C0DEPLOYS',
    environment: 'production',
    announcementTs: '1741100400.000100',
    announcementLink: 'https://acme.slack.com/archives/C0DEPLOYS/p1741100400000100',
    phase: 'running',
    steps,
    stepIndex: 0,
    stepRecords: [],
    liveColor: 'blue',
    newColor: 'green',
    previousVersion: '9f8e7d6',
    fence: 1,
    ...overrides,
  };
}
