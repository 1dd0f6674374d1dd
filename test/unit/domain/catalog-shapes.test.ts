import { describe, expect, expectTypeOf, it } from 'vitest';
import type { DeployWindow } from '../../../src/domain/deploy-window.js';
import type { Strategy } from '../../../src/domain/deployment.js';
import type { GateConfig, MetricGate } from '../../../src/domain/gates.js';
import type { Deployers, Roles } from '../../../src/domain/policy.js';
import type {
  Catalog,
  MetricGate as CatalogMetricGate,
  ServiceConfig,
  Strategy as CatalogStrategy,
} from '../../../src/runbook/catalog.js';
import { specCatalog } from '../fixtures.js';

// The domain names the shapes it needs; the catalog's parsed types must keep fitting them.
describe('domain shapes the catalog fills', () => {
  it('type-checks: a parsed catalog is what the domain takes', () => {
    expectTypeOf<CatalogStrategy>().toEqualTypeOf<Strategy>();
    expectTypeOf<CatalogMetricGate>().toExtend<MetricGate>();
    expectTypeOf<ServiceConfig['gates']>().toExtend<GateConfig>();
    expectTypeOf<NonNullable<Catalog['window']>>().toExtend<DeployWindow>();
    expectTypeOf<Catalog>().toExtend<Roles>();
    expectTypeOf<ServiceConfig>().toExtend<Deployers>();
    const catalog: Roles = specCatalog();
    expect(catalog.slack.releaseManagers.length).toBeGreaterThan(0);
  });
});
